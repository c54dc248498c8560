#!/usr/bin/env python3
"""Browser test of the 统计报表 page (reports.html, docs/DESK.md "Reports"):
the figures of a period chosen by clicking, the charts, the statistics
table, and its downloads (XLSX and CSV, the 台账) read back cell by cell.

County 360723 (大余县), townships 360723101 (南安镇) and 360723102 (新城镇),
village point 360723101007 (水城村), each its own daemon, store and desk
(tests/desk/desk_net.py), all linked. The county publishes the division
table, the catalog, the calendars and a staff roster. Cases are made
through the CLI (each node's daemon takes them) with known figures:

  南安镇  赵六 (clerk) registers and accepts 3 生育登记; 刘主任 (officer)
          decides 2 the same day (on time, 即办); they are delivered (送达)
          and rated 非常满意 and 不满意.
  水城村  王小红 (agent) registers 1, not accepted.
  新城镇  陈七 (clerk) registers and accepts 1.
  大余县  周敏 (clerk) registers and accepts 1 林木采伐许可; 吴局长 (officer)
          decides it.

So this month, at the county: 收件 6, 办结 3; 南安镇 4 收件, 2 办结, 按时办结率
100.0%, 满意率 50.0%; 新城镇 1, 0; 上月: nothing.

1. 吴局长 (county officer) opens the 工作台 and the supervision page (督办,
   when this build has one), then 统计报表: 本月's summary and table hold the
   figures above; the four charts are drawn (Chart.js served by the node).
2. 上月: 收件 0 and the empty note; 本年: the figures again; a custom
   period typed in the date fields.
3. Clicking 南安镇 shows its villages (水城村 1); the crumb goes back.
4. 人员绩效 (an officer may see it): 赵六 收件 3, 刘主任 办结 2.
5. 下载 Excel: the XLSX the browser saves (its Chinese file name from
   Content-Disposition) is read with openpyxl: title, bold frozen header,
   Chinese headers, numbers as numbers, the rate as a percentage. 下载 CSV
   (UTF-8 BOM) and 下载台账 (XLSX: one row per case, ID numbers masked).
6. A village agent asking for per-person figures gets 403; a bad date, a
   reversed period and an unknown parameter get a Chinese 400.
The page is printed to PDF (A4 landscape, no controls).

Screenshots go to $LIANDONG_ARTIFACTS, else BUILD/desk-artifacts/reports.
LIANDONG_KEEP=1 keeps the stores, configs and logs.
Usage: desk_report_test.py --bin build/node/liandong
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desk_net as D  # noqa: E402
import desk_test as T  # noqa: E402
from desk_net import Fail, wait_for  # noqa: E402

import openpyxl  # noqa: E402  (python3-openpyxl)

COUNTY, TOWNSHIP, VILLAGE = T.COUNTY, T.TOWNSHIP, T.VILLAGE
TOWNSHIP2 = "360723102"
AGENT, CLERK_T, CLERK_C, OFFICER = T.AGENT, T.CLERK_T, T.CLERK_C, T.OFFICER
OFFICER_T, CLERK_T2, PUBLISHER = "刘主任", "陈七", T.PUBLISHER
# Township-level 生育登记 (即办件) and county-level 林木采伐许可, with every
# material they need (config/catalog-example.toml).
ITEM = "WS-001"
MATERIALS = ["夫妻双方居民身份证", "结婚证"]
COUNTY_ITEM = "LY-001"
COUNTY_MATERIALS = ["林木采伐申请表", "居民身份证", "林权证或不动产权证书", "伐区调查设计或采伐作业说明"]
DRAW_S = 15.0      # the page reads five reports and draws four charts within this

ROSTER = f"""# 人员名册 for the report page's browser test
version = 1
[[staff]]
name = "{AGENT}"
role = "agent"
node = "{VILLAGE}"
[[staff]]
name = "{CLERK_T}"
role = "clerk"
node = "{TOWNSHIP}"
[[staff]]
name = "{OFFICER_T}"
role = "officer"
node = "{TOWNSHIP}"
[[staff]]
name = "{CLERK_T2}"
role = "clerk"
node = "{TOWNSHIP2}"
[[staff]]
name = "{CLERK_C}"
role = "clerk"
node = "{COUNTY}"
[[staff]]
name = "{OFFICER}"
role = "officer"
node = "{COUNTY}"
[[staff]]
name = "{PUBLISHER}"
role = "director"
node = "{COUNTY}"
"""


def china_today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))


class ReportScenario(T.Scenario):
    def __init__(self, net: D.Net, tmp: str, art: str):
        super().__init__(net, tmp, art)
        self.downloads = os.path.join(tmp, "downloads")
        os.makedirs(self.downloads, exist_ok=True)
        self.cases: dict[str, str] = {}

    # --- set-up --------------------------------------------------------------------

    def prepare(self) -> None:
        net = self.net
        self.step("准备：县、两个乡镇、一个村；县发布区划、目录、日历、名册")
        net.add(COUNTY, "大余县", listens=True)
        net.add(TOWNSHIP, "南安镇", COUNTY, listens=True)
        net.add(TOWNSHIP2, "新城镇", COUNTY)
        net.add(VILLAGE, "水城村", TOWNSHIP)
        net.init()
        roster = os.path.join(net.work, "roster.toml")
        with open(roster, "w", encoding="utf-8") as f:
            f.write(ROSTER)
        for code in (COUNTY, TOWNSHIP, TOWNSHIP2, VILLAGE):
            net.start(code)
        by = ["--data", net.nodes[COUNTY].data, "--actor", PUBLISHER, "--role", "director"]
        net.cli("publish", "divisions", "--version", "1", "--file", T.DIVISIONS, *by)
        net.cli("catalog", "publish", T.CATALOG, *by)
        for cal in T.CALENDARS:
            net.cli("calendar", "publish", cal, *by)
        net.cli("roster", "publish", "--version", "1", "--file", roster, *by)

        def held(code: str):
            r = net.cli("roster", "show", "--data", net.nodes[code].data, "--json", check=False)
            c = net.cli("catalog", "list", "--data", net.nodes[code].data, "--json", check=False)
            return r.returncode == 0 and json.loads(r.stdout).get("version") == 1 \
                and c.returncode == 0
        for code in (TOWNSHIP, TOWNSHIP2, VILLAGE):
            wait_for(f"the roster and catalog at {code}", 30, lambda: held(code), every=0.3)

    def submit(self, code: str, actor: str, role: str, applicant: str, id_body: str,
               item: str = ITEM, materials: list[str] = MATERIALS) -> str:
        mats = [a for m in materials for a in ("--material", m)]
        out = self.net.cli_json(
            "submit", "--data", self.net.nodes[code].data, "--actor", actor, "--role", role,
            "--item", item, "--applicant", applicant,
            "--id-number", D.testbed.resident_id(id_body), "--phone", "13907970000",
            *mats, "--json-out")
        case = out.get("case", "")
        if not case:
            raise Fail(f"submit at {code}: no case in {out}")
        self.cases[applicant] = case
        return case

    def act(self, code: str, case: str, actor: str, role: str, *args: str) -> None:
        self.net.cli("act", case, args[0], "--data", self.net.nodes[code].data,
                     "--actor", actor, "--role", role, *args[1:])

    def make_cases(self) -> None:
        self.step("办件：南安镇 3 件（办结 2），水城村 1 件，新城镇 1 件，县 1 件（办结）")
        for i, (name, score) in enumerate((("张一", "5"), ("张二", "2"), ("张三", ""))):
            c = self.submit(TOWNSHIP, CLERK_T, "clerk", name, f"360723198801{i + 1:02d}123")
            self.act(TOWNSHIP, c, CLERK_T, "clerk", "accept")  # the catalog's promised day
            if score:
                self.act(TOWNSHIP, c, OFFICER_T, "officer", "decide", "--approve",
                         "--basis", "《江西省人口与计划生育条例》")
                self.act(TOWNSHIP, c, CLERK_T, "clerk", "deliver")
                # 不满意 and worse need their reasons (and open 整改).
                why = ["--reason-item", "多次跑腿"] if int(score) <= 2 else []
                self.act(TOWNSHIP, c, CLERK_T, "clerk", "rate", "--score", score, *why)
        self.submit(VILLAGE, AGENT, "agent", "李四", "36072319900202123")
        c = self.submit(TOWNSHIP2, CLERK_T2, "clerk", "王五", "36072319910303123")
        self.act(TOWNSHIP2, c, CLERK_T2, "clerk", "accept")
        c = self.submit(COUNTY, CLERK_C, "clerk", "赵六六", "36072319920404123",
                        COUNTY_ITEM, COUNTY_MATERIALS)
        self.act(COUNTY, c, CLERK_C, "clerk", "accept")
        self.act(COUNTY, c, OFFICER, "officer", "decide", "--approve", "--basis", "《条例》")

        cdata = self.net.nodes[COUNTY].data

        def all_at_county():
            r = self.net.cli_json("report", "--data", cdata, "--json")
            t = r.get("total", {})
            return (t.get("received"), t.get("completed"), t.get("rated")) == (6, 3, 2)
        wait_for("all six cases (and their decisions and ratings) at the county", 30,
                 all_at_county, every=0.3)

    # --- the page ---------------------------------------------------------------------

    def ready(self, b: D.Browser, what: str, from_: str | None = None) -> None:
        """Waits until the page has drawn the report it asked for last (and,
        given `from_`, for a period starting that day)."""
        def drawn():
            r = b.d.execute_script("return document.body.dataset.ready || '';")
            if b.visible("#message.error"):
                raise Fail(f"{b.label}: {what}: {b.text('#message')}")
            return r and (from_ is None or r.startswith(from_ + "|"))
        wait_for(f"{b.label}: {what}", DRAW_S, drawn)

    def cells(self, b: D.Browser) -> dict:
        """The statistics table: {row key: {header: text}} in one script call."""
        return b.d.execute_script("""
            const out = {};
            for (const tr of document.querySelectorAll('#report-table tr[data-key]')) {
              const row = {name: tr.querySelector('th, td').textContent};
              for (const td of tr.querySelectorAll('td[data-col]')) row[td.dataset.col] = td.textContent;
              out[tr.dataset.key] = row;
            }
            return out;""")

    def figure(self, b: D.Browser, key: str) -> str:
        return b.text(f"#summary [data-figure='{key}'] .n")

    def want(self, got, expected, what: str) -> None:
        self.expect(got == expected, f"{what}: {got!r}, expected {expected!r}")

    def check_month(self, b: D.Browser) -> None:
        self.want(self.figure(b, "received"), "6", "本月 收件")
        self.want(self.figure(b, "completed"), "3", "本月 办结")
        rows = self.cells(b)
        nanan, xincheng, total = rows.get(TOWNSHIP, {}), rows.get(TOWNSHIP2, {}), rows.get("total", {})
        self.want(nanan.get("收件"), "4", "南安镇 收件")
        self.want(nanan.get("办结"), "2", "南安镇 办结")
        self.want(nanan.get("按时办结率"), "100.0%", "南安镇 按时办结率")
        self.want(nanan.get("好评率"), "50.0%", "南安镇 好评率")
        self.want(xincheng.get("收件"), "1", "新城镇 收件")
        self.want(xincheng.get("办结"), "0", "新城镇 办结")
        self.want(xincheng.get("按时办结率"), "—", "新城镇 按时办结率 (nothing completed)")
        self.want(total.get("收件"), "6", "合计 收件")
        self.want("南安镇" in nanan.get("name", ""), True, f"南安镇 row named: {nanan.get('name')}")

    def charts(self, b: D.Browser) -> None:
        drawn = b.d.execute_script("""
            if (typeof Chart === 'undefined') return 'no Chart.js';
            const out = {};
            for (const id of ['chart-places', 'chart-months', 'chart-rates', 'chart-overdue']) {
              const c = Chart.getChart(id);
              out[id] = c ? c.data.datasets.map((d) => d.data.filter((v) => v !== null).length) : null;
            }
            return out;""")
        if not isinstance(drawn, dict):
            raise Fail(f"charts: {drawn}")
        for id_, sets in drawn.items():
            self.expect(bool(sets) and any(n > 0 for n in sets), f"chart {id_} has no data: {sets}")
        places = b.d.execute_script("return Chart.getChart('chart-places').data;")
        got = dict(zip(places["labels"], places["datasets"][0]["data"]))
        self.want(got.get("南安镇"), 4, "收件 chart: 南安镇's bar")

    def click_period(self, b: D.Browser, kind: str, from_: str) -> None:
        b.click(f"[data-period='{kind}']")
        self.ready(b, f"the report of {kind}", from_)
        self.want(b.attrs(f"[data-period='{kind}']", "aria-pressed"), ["true"], f"{kind} pressed")

    # --- downloads ------------------------------------------------------------------

    def allow_downloads(self, b: D.Browser) -> None:
        b.d.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": self.downloads})

    def download(self, b: D.Browser, button: str, prefix: str, ext: str) -> str:
        """Clicks the button; returns the path of the file the browser saved
        (its name from Content-Disposition), copied to the artifacts."""
        before = set(os.listdir(self.downloads))
        b.click(button)

        def saved():
            new = [n for n in os.listdir(self.downloads)
                   if n not in before and not n.endswith(".crdownload")]
            return new[0] if new else None
        t0 = time.monotonic()
        name = wait_for(f"the download of {button}", 15, saved, every=0.2)
        self.note(f"{button}: {name} ({os.path.getsize(os.path.join(self.downloads, name))} 字节, "
                  f"{time.monotonic() - t0:.1f} s)")
        self.expect(name.startswith(prefix) and name.endswith("." + ext),
                    f"{button}: saved as {name!r}, expected {prefix}….{ext}")
        path = os.path.join(self.downloads, name)
        shutil.copy(path, os.path.join(self.art, name))
        return path

    def check_xlsx(self, path: str) -> None:
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        self.want(ws.title, "统计表", "the sheet's name")
        title = str(ws["A1"].value or "")
        self.expect("统计表" in title and "大余县" in title and china_today()[:7] in title,
                    f"XLSX title: {title!r}")
        headers = [c.value for c in ws[2]]
        self.want(headers[0], "乡镇", "XLSX first header")
        for h in ("收件", "办结", "按时办结率", "即办率", "好评率", "红牌超期", "代收费(元)"):
            self.expect(h in headers, f"XLSX headers lack {h}: {headers}")
        self.expect(bool(ws["B2"].font.b), "XLSX header row is not bold")
        self.want(ws.freeze_panes, "B3", "XLSX frozen panes")
        rows = {str(r[0].value): r for r in ws.iter_rows(min_row=3) if r[0].value}
        nanan = next((r for k, r in rows.items() if "南安镇" in k), None)
        if nanan is None:
            raise Fail(f"XLSX: no 南安镇 row in {list(rows)}")
        col = {h: i for i, h in enumerate(headers)}
        received, rate = nanan[col["收件"]], nanan[col["按时办结率"]]
        self.want(received.value, 4, "XLSX 南安镇 收件 (a number)")
        self.want(rate.value, 1, "XLSX 南安镇 按时办结率 (a share)")
        self.expect("%" in rate.number_format, f"XLSX rate format {rate.number_format!r}")
        self.want(rows.get("合计", [None] * 2)[col["收件"]].value, 6, "XLSX 合计 收件")
        self.want(bool(rows["合计"][0].font.b), True, "XLSX 合计 bold")
        self.expect(ws.column_dimensions["A"].width >= 10, "XLSX first column too narrow")

    def check_csv(self, path: str) -> None:
        raw = open(path, "rb").read()
        self.expect(raw.startswith(b"\xef\xbb\xbf"), "CSV without a UTF-8 BOM")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        head = rows[0]
        self.want(head[:4], ["乡镇", "收件", "受理", "办结"], "CSV headers")
        by = {r[0]: r for r in rows[1:]}
        nanan = next((r for k, r in by.items() if "南安镇" in k), None)
        self.expect(nanan is not None and nanan[head.index("收件")] == "4",
                    f"CSV 南安镇 row: {nanan}")
        self.want(by.get("合计", [""] * 3)[head.index("收件")], "6", "CSV 合计 收件")

    def check_ledger(self, path: str) -> None:
        ws = openpyxl.load_workbook(path).worksheets[0]
        self.want(ws.title, "台账", "the ledger sheet's name")
        headers = [c.value for c in ws[2]]
        for h in ("登记时间", "办件编号", "申请人", "联系电话", "事项", "办理路径", "办理结果",
                  "受理日期", "承诺办结日期", "办结日期", "送达日期", "收费(元)", "评价"):
            self.expect(h in headers, f"台账 headers lack {h}: {headers}")
        col = {h: i for i, h in enumerate(headers)}
        lines = [r for r in ws.iter_rows(min_row=3, values_only=True)
                 if r[col["办件编号"]]]
        self.want(len(lines), 6, "台账 rows")
        by = {r[col["申请人"]]: r for r in lines}
        one = by.get("张一")
        if one is None:
            raise Fail(f"台账: no 张一 in {list(by)}")
        self.want(one[col["办件编号"]], self.cases["张一"], "台账 张一's case number")
        self.want(one[col["办理结果"]], "准予许可", "台账 张一's result")
        self.want(one[col["评价"]], "非常满意", "台账 张一's rating")
        due = (self.net.case(COUNTY, self.cases["张一"]) or {}).get("due_date")
        self.expect(bool(due) and one[col["承诺办结日期"]] == due,
                    f"台账 张一's promised day {one[col['承诺办结日期']]!r}, the case's {due!r}")
        idcol = next(i for i, h in enumerate(headers) if h.startswith("身份证号"))
        shown = str(one[idcol])
        self.expect(shown.startswith("360723") and "*" in shown and "19880101" not in shown,
                    f"台账 ID number not masked: {shown!r}")
        self.want(by.get("李四", [None] * 20)[col["办理路径"]], "水城村", "台账 李四's route")

    # --- the run ------------------------------------------------------------------------

    def api_checks(self, officer: D.Browser, agent: D.Browser) -> None:
        self.step("接口：村代理员不能看人员绩效 (403)；错误日期、颠倒的期间、未知参数 → 中文 400")
        status, j = agent.fetch("GET", "/api/report?by=person")
        self.want(status, 403, "agent asking by=person")
        self.expect("首席代表" in j.get("error", ""), f"403 words: {j}")
        for q, words in (("from=2026-13-01", "日期"), ("from=2026-11-30&to=2026-11-01", "晚于"),
                         ("by=province", "分组"), ("color=red", "参数"),
                         ("from=%3Cscript%3E", "日期"), ("format=pdf", "格式")):
            status, j = officer.fetch("GET", "/api/report?" + q)
            err = j.get("error", "")
            self.expect(status == 400 and words in err and "--" not in err,
                        f"GET /api/report?{q}: {status} {j}")
        status, j = officer.fetch("GET", "/api/report/ledger?format=json")
        self.want(status, 400, "ledger as JSON")
        status, _ = officer.fetch("GET", "/api/report?by=person")
        self.want(status, 200, "officer asking by=person")

    def run(self) -> None:
        self.prepare()
        self.make_cases()
        b = self.browser("county-officer")
        self.allow_downloads(b)
        self.first_login(b, COUNTY, OFFICER)
        b.shot("01-desk")
        # The supervision page (督办) is built beside this page; shown when
        # this build serves it.
        status, _ = D.http(self.desk(COUNTY) + "/supervision.html")
        if status == 200:
            b.go(self.desk(COUNTY) + "/supervision.html")
            time.sleep(0.5)
            b.shot("02-supervision")
        else:
            self.note(f"本版本没有督办页面 (/supervision.html → {status})")

        self.step("统计报表：本月")
        b.go(self.desk(COUNTY) + "/reports.html")
        this_month = china_today()[:8] + "01"
        self.ready(b, "the report of this month", this_month)
        self.want(b.attrs("[data-nav='reports']", "aria-current"), ["page"], "nav 统计报表")
        self.check_month(b)
        self.charts(b)
        b.shot("03-reports-month")

        self.step("上月 → 没有办件；本年 → 同本月；自选日期")
        y, m = int(china_today()[:4]), int(china_today()[5:7])
        last = f"{y - 1}-12-01" if m == 1 else f"{y}-{m - 1:02d}-01"
        self.click_period(b, "last_month", last)
        self.want(self.figure(b, "received"), "0", "上月 收件")
        self.expect(b.visible("#report-empty") is not None, "上月: no empty note")
        b.shot("04-reports-last-month")
        self.click_period(b, "year", f"{y}-01-01")
        self.check_month(b)
        b.type("#from", "")
        b.d.execute_script("document.getElementById('from').value = arguments[0];"
                           "document.getElementById('to').value = arguments[1];",
                           this_month, china_today())
        b.click("#custom-go")
        self.ready(b, "the custom period", this_month)
        self.want(self.figure(b, "received"), "6", "自选期间 收件")

        self.step("点击南安镇 → 各村；返回全县")
        b.click(f"#report-rows a[data-drill='{TOWNSHIP}']")
        wait_for("the villages of 南安镇", DRAW_S, lambda: VILLAGE in self.cells(b))
        self.ready(b, "南安镇's villages")
        rows = self.cells(b)
        self.want(rows.get(VILLAGE, {}).get("收件"), "1", "水城村 收件")
        self.want(rows.get(TOWNSHIP, {}).get("收件"), "3", "南安镇本级 收件")
        self.want(b.text("#crumb-here"), "南安镇", "the crumb")
        b.shot("05-reports-drill")
        b.click("#crumb-top")
        wait_for("back to the townships", DRAW_S, lambda: TOWNSHIP2 in self.cells(b))

        self.step("人员绩效")
        b.click("#by-buttons [data-by='person']")
        wait_for("the persons' rows", DRAW_S,
                 lambda: f"{TOWNSHIP}/{CLERK_T}" in self.cells(b))
        rows = self.cells(b)
        self.want(rows.get(f"{TOWNSHIP}/{CLERK_T}", {}).get("收件"), "3", "赵六 收件")
        self.want(rows.get(f"{TOWNSHIP}/{OFFICER_T}", {}).get("办结"), "2", "刘主任 办结")
        self.want(rows.get(f"{COUNTY}/{OFFICER}", {}).get("办结"), "1", "吴局长 办结")
        b.shot("06-reports-persons")
        b.click("#by-buttons [data-by='place']")
        wait_for("back to the townships", DRAW_S, lambda: TOWNSHIP2 in self.cells(b))
        self.ready(b, "the townships again")

        self.step("下载 Excel、CSV、台账，读回单元格")
        self.check_xlsx(self.download(b, "#dl-xlsx", "统计表_大余县_", "xlsx"))
        self.check_csv(self.download(b, "#dl-csv", "统计表_大余县_", "csv"))
        self.check_ledger(self.download(b, "#dl-ledger", "台账_大余县_", "xlsx"))
        tmp = os.path.join(self.net.nodes[COUNTY].data, "tmp")
        self.want(os.listdir(tmp) if os.path.isdir(tmp) else [], [],
                  "libxlsxwriter's temporary files left in DATA/tmp")
        self.want(b.d.current_url.split("?")[0].endswith("/reports.html"), True,
                  f"still on the page after the downloads: {b.d.current_url}")

        text = b.pdf("07-reports-print")
        self.expect("统计表" in text and "南安镇" in text and "下载" not in text,
                    "the printed page: title and table, no buttons")

        a = self.browser("village-agent")
        self.first_login(a, VILLAGE, AGENT)
        a.go(self.desk(VILLAGE) + "/reports.html")
        self.ready(a, "the village's report")
        self.expect(not a.els("#by-buttons [data-by='person']"), "an agent sees 人员绩效")
        a.shot("08-reports-village")
        self.api_checks(b, a)

        self.step("停止全部节点 (SIGTERM，退出码 0)")
        for code in (VILLAGE, TOWNSHIP2, TOWNSHIP, COUNTY):
            self.net.check_alive()
            self.net.stop(code)
        if self.bugs:
            raise T.WrongAnswers(f"{len(self.bugs)} wrong answer(s) seen on the way:\n  - " +
                                 "\n  - ".join(self.bugs))


if __name__ == "__main__":
    sys.exit(T.main(ReportScenario, __doc__, "desk report test", "reports"))
