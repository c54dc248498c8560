#!/usr/bin/env python3
"""Browser test of supervision (电子监察, docs/DESK.md): 督办, 效能投诉, the
评价器 and its 整改, seen on the county's supervision page as they happen.

County 360723 (大余县), township 360723101 (南安镇) and village point
360723101007 (水城村), each its own daemon, store and desk (tests/desk/
desk_net.py), all running. The county publishes the division table, the
catalog, the calendars and a roster with a director (分管领导 李建国) at the
county and an officer at the township. Two cases are made with the CLI, as
the desk's other tests have shown the intake and handling pages:

  A  林木采伐许可 (LY-001, 上报件 decided at the county): the village
     registers, accepts and forwards it to the township (转报乡镇); the
     township holds it.
  B  生育登记 (WS-001, 即办件 at the township): registered at the village,
     accepted and decided at the township, delivered at the village.

1. 督办. 李建国 opens A at the county desk and issues 督办 through the case
   page's form (a note, a date from the date picker). The county's 电子监察
   page lists it: 待答复, answered by 南安镇; its cards and counts are the
   API's, and clicking a level filters the cards to that level.
2. The order reaches the township: 赵六's 工作台 shows it at the top (督办：
   大余县… 要求 DATE 前办结 [答复]); 答复 opens the case page's answer form with
   the order chosen; he answers (办理情况说明).
3. The county's page, left open, shows the order 已按期答复 with the answer,
   without a reload.
4. 效能投诉. 周敏 (county clerk) registers a complaint on A by phone against
   the township (complainant, phone, department, person); the county must
   answer it (the level above the township); it tops her 工作台; she answers
   成立; the county's page shows 成立, 已按期答复, and counts it against
   南安镇 in 效能投诉统计.
5. 评价器. At the village, 王小红 opens B's 评价 (rate.html): 请申请人本人评价,
   the applicant presses 非常不满意, ticks 办事效率低, confirms; thanks, back
   to the case page. The rating is stored with channel evaluator and the
   reason; the county's page lists an 整改 for the township, 待答复.
Also: a village's GET /api/supervision is 403 and its nav has no 电子监察;
a hostile answered_days is 400.

Screenshots go to $LIANDONG_ARTIFACTS, else BUILD/desk-artifacts/supervision.
LIANDONG_KEEP=1 keeps the stores, configs and logs.
Usage: desk_supervision_test.py --bin build/node/liandong
"""

from __future__ import annotations

import datetime
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desk_net as D  # noqa: E402
import desk_test as T  # noqa: E402
from desk_net import Fail, wait_for  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = T.COUNTY, T.TOWNSHIP, T.VILLAGE
AGENT, CLERK_T, CLERK_C = T.AGENT, T.CLERK_T, T.CLERK_C
DIRECTOR = "李建国"          # 分管领导 at the county: issues 督办
HEAD_T = "陈镇长"            # 首席代表 at the township: decides WS-001
ROSTER = f"""# 人员名册 for the supervision browser test
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
name = "{HEAD_T}"
role = "officer"
node = "{TOWNSHIP}"
[[staff]]
name = "{CLERK_C}"
role = "clerk"
node = "{COUNTY}"
[[staff]]
name = "{DIRECTOR}"
role = "director"
node = "{COUNTY}"
"""
PASSWORD = dict(T.PASSWORD, **{DIRECTOR: "dayu-director-1"})
SYNC_S = 20.0      # an event crosses a link in well under a second; this is the bound
REDRAW_S = 10.0    # an open page redraws within a poll (3 s) of a change

ORDER_NOTE = "申请人反映已等候多日，请南安镇当日核查材料并报县林业局，说明延误原因"
ORDER_ANSWER = "已核查：材料齐全，因林权证复印件模糊退回重扫，今日已上报县林业局。"
COMPLAINT = "申请人来电反映：窗口工作人员多次要求补交同一份材料，没有一次性告知"
COMPLAINT_ANSWER = "经核实投诉成立。已对窗口人员批评教育，责令一次性告知，已电话回复投诉人。"


def china_today() -> datetime.date:
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()


class SupervisionScenario(T.Scenario):
    def __init__(self, net: D.Net, tmp: str, art: str):
        super().__init__(net, tmp, art)
        self.case_b = ""

    # --- set-up -----------------------------------------------------------------------

    def prepare_all(self) -> None:
        net = self.net
        self.step("准备：县发布区划、事项目录、工作日历、人员名册；三级全部开机")
        net.add(COUNTY, "大余县", listens=True)
        net.add(TOWNSHIP, "南安镇", COUNTY, listens=True)
        net.add(VILLAGE, "水城村", TOWNSHIP)
        net.init()
        roster = os.path.join(net.work, "roster.toml")
        with open(roster, "w", encoding="utf-8") as f:
            f.write(ROSTER)
        for code in (COUNTY, TOWNSHIP, VILLAGE):
            net.start(code)
        by = ["--data", net.nodes[COUNTY].data, "--actor", DIRECTOR, "--role", "director"]
        net.cli("publish", "divisions", "--version", "1", "--file", T.DIVISIONS, *by)
        net.cli("catalog", "publish", T.CATALOG, *by)
        for cal in T.CALENDARS:
            net.cli("calendar", "publish", cal, *by)
        net.cli("roster", "publish", "--version", "1", "--file", roster, *by)

        def held(code):
            def ok():
                r = net.cli("roster", "show", "--data", net.nodes[code].data, "--json", check=False)
                c = net.cli("calendar", "show", "--data", net.nodes[code].data, "--json", check=False)
                return r.returncode == 0 and json.loads(r.stdout).get("version") == 1 \
                    and c.returncode == 0
            return ok
        for code in (TOWNSHIP, VILLAGE):
            wait_for(f"the roster and calendar at {code}", 30, held(code), every=0.3)

    def cli_act(self, code: str, case: str, action: str, actor: str, role: str, *extra: str) -> str:
        out = self.net.cli_json("act", case, action, "--data", self.net.nodes[code].data,
                                "--actor", actor, "--role", role, "--json", *extra)
        if not out.get("event"):
            raise Fail(f"act {case} {action} at {code}: {out}")
        return out["event"]

    def submit(self, item: str, name: str, applicant: str, id_body: str, materials: list[str]) -> str:
        args = ["submit", "--data", self.net.nodes[VILLAGE].data, "--json-out", "--actor", AGENT,
                "--role", "agent", "--item", item, "--item-name", name, "--applicant", applicant,
                "--id-number", D.testbed.resident_id(id_body), "--phone", "13907971234",
                "--address", "南安镇水城村三组", "--fee-due", "0", "--summary", f"{applicant}申请{name}"]
        for m in materials:
            args += ["--material", f"{m}:provided:copy"]
        return self.net.cli_json(*args)["case"]

    def at(self, code: str, case: str, what: str, cond) -> dict:
        """The case at `code` once cond(case) holds (bounded by SYNC_S)."""
        def ok():
            c = self.net.case(code, case)
            return c if c and cond(c) else None
        return wait_for(f"{case} at {code}: {what}", SYNC_S, ok, every=0.2)

    def make_cases(self) -> None:
        net = self.net
        self.step("办件 A（上报件，转报乡镇后在乡镇）和 B（乡镇即办件，已送达）由命令行办理")
        self.case = self.submit("LY-001", "林木采伐许可", "刘长根", "36072319650412331",
                                ["林木采伐申请表", "居民身份证", "林权证或不动产权证书",
                                 "伐区调查设计或采伐作业说明"])
        self.cli_act(VILLAGE, self.case, "accept", AGENT, "agent")
        self.cli_act(VILLAGE, self.case, "escalate", AGENT, "agent", "--to", TOWNSHIP)
        self.case_b = self.submit("WS-001", "生育登记", "黄丽", "36072319940623442",
                                  ["夫妻双方居民身份证", "结婚证"])
        self.at(TOWNSHIP, self.case_b, "registered", lambda c: True)
        self.cli_act(TOWNSHIP, self.case_b, "accept", CLERK_T, "clerk")
        self.cli_act(TOWNSHIP, self.case_b, "decide", HEAD_T, "officer", "--approve",
                     "--basis", "《江西省人口与计划生育条例》")
        self.at(VILLAGE, self.case_b, "decided", lambda c: c.get("status") == "decided")
        self.cli_act(VILLAGE, self.case_b, "deliver", AGENT, "agent", "--method", "当面送达")
        a = self.at(COUNTY, self.case, "held by the township", lambda c: c.get("handler") == TOWNSHIP)
        b = self.at(COUNTY, self.case_b, "delivered", lambda c: c.get("status") == "delivered")
        self.note(f"A {self.case} {a.get('status_zh')}（{a.get('handler')}）；"
                  f"B {self.case_b} {b.get('status_zh')}")

    # --- pages ------------------------------------------------------------------------

    def login_as(self, b: D.Browser, code: str, name: str) -> None:
        saved = dict(T.PASSWORD)
        T.PASSWORD.update(PASSWORD)
        try:
            self.first_login(b, code, name)
        finally:
            T.PASSWORD.clear()
            T.PASSWORD.update(saved)

    def entries(self, b: D.Browser) -> list[dict]:
        """The rows of the 督办/投诉/整改 table as the page shows them."""
        return b.d.execute_script("""
            return Array.from(document.querySelectorAll('#entry-rows tr'), (tr) => ({
              case: tr.dataset.case, event: tr.dataset.event, kind: tr.dataset.kind,
              answered: tr.dataset.answered, level: tr.dataset.level, text: tr.innerText}));""")

    def entry(self, b: D.Browser, kind: str, case: str, answered: bool, words: str = ""):
        """Waits (REDRAW_S) for the page to show that entry; returns it."""
        def ok():
            for e in self.entries(b):
                if e["kind"] == kind and e["case"] == case and e["answered"] == str(answered).lower() \
                        and words in e["text"]:
                    return e
            return None
        return wait_for(f"{b.label}: the supervision page shows {kind} on {case} "
                        f"answered={answered} {words!r}", REDRAW_S + SYNC_S, ok, every=0.2)

    def cards_match_api(self, b: D.Browser) -> dict:
        """The page's counts and cards are the API's (read back to back; the
        page is redrawn from the same answer)."""
        api = b.api("/api/supervision")
        want = sorted((c["case"], c["flag"], c["holder"]) for c in api["cards"])

        def same():
            rows = b.d.execute_script("""
                return Array.from(document.querySelectorAll('#card-rows tr'),
                                  (tr) => [tr.dataset.case, tr.dataset.flag, tr.dataset.holder]);""")
            counts = (b.text("#count-overdue"), b.text("#count-warning"))
            return sorted(map(tuple, rows)) == want and counts == (
                str(api["counts"]["overdue"]), str(api["counts"]["warning"]))
        wait_for(f"{b.label}: the page's cards and counts are the API's {want}", REDRAW_S, same)
        return api

    def answer_on_top(self, b: D.Browser, kind: str) -> None:
        """The 工作台's block lists this case's `kind` item first of its kind, 督办 first."""
        def ok():
            items = b.d.execute_script("""
                return Array.from(document.querySelectorAll('#answer-list li'),
                                  (li) => [li.dataset.kind, li.dataset.case, li.innerText]);""")
            mine = [i for i in items if i[0] == kind and i[1] == self.case]
            return items if mine and not b.visible("#answers[hidden]") else None
        items = wait_for(f"{b.label}: 工作台 lists the {kind} on {self.case}", SYNC_S + REDRAW_S, ok)
        kinds = [i[0] for i in items]
        self.expect(kinds == sorted(kinds, key=lambda k: k != "order"),
                    f"{b.label}: 工作台 lists {kinds}: 督办 should come first")
        top = b.d.execute_script(
            "return document.querySelector('#answers').getBoundingClientRect().top <"
            " document.querySelector('.headline').getBoundingClientRect().top;")
        self.expect(top, f"{b.label}: the 督办 block is not above the work list")
        self.note(f"{b.label} 工作台: " + " | ".join(i[2].replace("\n", " ") for i in items))

    def answer_from_desk(self, b: D.Browser, kind: str, fill) -> None:
        """Clicks 答复 on the 工作台's item; the case page opens with the form
        and that item chosen; fills and submits it."""
        b.click(f"#answer-list li[data-kind='{kind}'][data-case='{self.case}'] a.answer-link")
        b.wait_el("the answer form, opened by the link", "#act-form[data-action='answer']")
        chosen = b.d.execute_script(
            "const r = document.querySelector('#act-form input[name=about]:checked');"
            " return r ? r.dataset.kind : '';")
        if chosen != kind:
            raise Fail(f"{b.label}: the answer form has {chosen!r} chosen, not {kind}")
        fill()

    def submit_form(self, b: D.Browser, action: str, shot: str) -> None:
        b.shot(shot, full=False)
        b.click("#act-submit")

        def recorded():
            err = b.visible("#message.error")
            if err is not None and err.text:
                raise Fail(f"{b.label}: {action} refused: {err.text}")
            ok = b.visible("#message.ok")
            return ok is not None and "已记录" in ok.text and not b.els("#act-form")
        wait_for(f"{b.label}: {action} recorded", 15, recorded)

    # --- the run ----------------------------------------------------------------------

    def run(self) -> None:
        net = self.net
        self.prepare_all()
        self.make_cases()

        self.step("1. 县分管领导在办件页督办；电子监察页列出，待南安镇答复")
        u = self.browser("county-pc")
        self.login_as(u, COUNTY, DIRECTOR)
        nav = u.attrs("#topbar [data-nav]", "data-nav")
        self.expect("supervision" in nav, f"county nav {nav} lacks 电子监察")
        self.open_case(u, COUNTY)
        u.wait_el("the 督办 button", "#actions button[data-action='supervise']")
        u.click("#actions button[data-action='supervise']")
        u.wait_el("the 督办 form", "#act-form[data-action='supervise']")
        self.expect("南安镇" in u.text("#act-form"),
                    f"the 督办 form does not say it goes to 南安镇: {u.text('#act-form')!r}")
        due = china_today() + datetime.timedelta(days=3)
        u.type("#act-note", ORDER_NOTE)
        kind = u.el("#act-due").get_attribute("type")
        self.expect(kind == "date", f"the 督办 date is an input of type {kind!r}, not a date picker")
        # The picker's value, set as the picker sets it (typing into it depends on the locale).
        u.d.execute_script("arguments[0].value = arguments[1];"
                           "arguments[0].dispatchEvent(new Event('change'));",
                           u.el("#act-due"), due.isoformat())
        self.submit_form(u, "supervise", "s01-county-supervise-form")
        c = u.api(f"/api/cases/{self.case}")
        order = [e for e in c["events"] if e["kind"] == "supervised"]
        if len(order) != 1 or order[0]["body"]["supervised"]["dueDate"] != due.isoformat():
            raise Fail(f"the case's supervised events: {order}")
        self.note(f"督办 {order[0]['id']}: {order[0].get('kind_zh')} 时限 {due}")
        u.shot("s02-county-case-after-supervise")

        u.go(self.desk(COUNTY) + "/supervision.html")
        e = self.entry(u, "order", self.case, False, "南安镇")
        self.expect(e["level"] == TOWNSHIP, f"the order is answered at {e['level']}, not {TOWNSHIP}")
        api = self.cards_match_api(u)
        self.note(f"县电子监察: 红牌 {api['counts']['overdue']} 黄牌 {api['counts']['warning']}；"
                  f"按层级 {[(x['name'], x['overdue'], x['warning']) for x in api['by_level']]}")
        if api["by_level"]:
            key = api["by_level"][0]["key"]
            u.click(f"#by-level button[data-key='{key}']")
            holders = set(u.attrs("#card-rows tr", "data-holder"))
            want = {c["holder"] for c in api["cards"] if c["holder"] == key}
            self.expect(holders == want, f"filtered to {key}, the cards are of {holders}")
            self.expect(u.visible("#card-filter") is not None, "no filter line while filtered")
            u.shot("s03-county-supervision-filtered")
            u.click("#card-filter-clear")
        u.shot("s04-county-supervision-order-open")

        self.step("2. 督办到达南安镇：工作台顶部显示，答复办理情况说明")
        t = self.browser("township-pc")
        self.login_as(t, TOWNSHIP, CLERK_T)
        self.answer_on_top(t, "order")
        t.shot("s05-township-desk-order")
        self.answer_from_desk(t, "order", lambda: t.type("#act-text", ORDER_ANSWER))
        self.submit_form(t, "answer", "s06-township-answer-form")
        t.shot("s07-township-case-answered")
        left = [x for x in t.api("/api/desk")["answers"] if x["case"] == self.case]
        self.expect(not left, f"after answering, the township's /api/desk answers: {left}")
        t.go(self.desk(TOWNSHIP) + "/")
        wait_for("the township's 工作台 drawn", REDRAW_S, lambda: t.text("#sync-line"))
        self.expect(not t.els(f"#answer-list li[data-kind='order'][data-case='{self.case}']"),
                    "the answered 督办 is still on the township's 工作台")

        self.step("3. 县电子监察页（未刷新）显示已按期答复")
        e = self.entry(u, "order", self.case, True, "已按期答复")
        self.expect(ORDER_ANSWER in e["text"], f"the answered order shows {e['text']!r}")
        u.shot("s08-county-supervision-order-answered")

        self.step("4. 县窗口登记电话投诉（对南安镇），由县处理：成立")
        self.logout(u)
        self.login_as(u, COUNTY, CLERK_C)
        self.open_case(u, COUNTY)
        u.click("#actions button[data-action='complain']")
        u.wait_el("the complaint form", "#act-form[data-action='complain']")
        channel = Select(u.el("#act-channel")).first_selected_option.get_attribute("value")
        self.expect(channel == "phone", f"at the county the complaint's channel defaults to {channel!r}")
        Select(u.el("#act-against")).select_by_value(TOWNSHIP)
        u.type("#act-complainant", "刘长根")
        u.type("#act-phone", "13907971234")
        u.type("#act-department", "南安镇林业站窗口")
        u.type("#act-person", CLERK_T)
        u.type("#act-text", COMPLAINT)
        self.submit_form(u, "complain", "s09-county-complaint-form")
        u.go(self.desk(COUNTY) + "/")
        self.answer_on_top(u, "complaint")
        u.shot("s10-county-desk-complaint")

        def upheld():
            for r in u.els("#act-form input[name='upheld']"):
                if r.get_attribute("value") == "true":
                    r.click()
            u.type("#act-text", COMPLAINT_ANSWER)
        self.answer_from_desk(u, "complaint", upheld)
        self.submit_form(u, "answer", "s11-county-complaint-answer-form")
        u.go(self.desk(COUNTY) + "/supervision.html")
        e = self.entry(u, "complaint", self.case, True, "成立")
        self.expect(e["level"] == COUNTY and "已按期答复" in e["text"] and "不成立" not in e["text"],
                    f"the complaint's row: {e}")
        by = {r["key"]: r for r in u.api("/api/supervision").get("complaints_by_level", [])}
        self.expect(by.get(TOWNSHIP, {}).get("total") == 1 and by[TOWNSHIP].get("upheld") == 1,
                    f"complaints_by_level for {TOWNSHIP}: {by}")
        u.wait_el("the complaint counts", f"#complaint-rows tr[data-dim='level'][data-key='{TOWNSHIP}']")
        cells = u.d.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0] + ' td'), (td) => td.innerText);",
            f"#complaint-rows tr[data-dim='level'][data-key='{TOWNSHIP}']")
        self.expect(cells[2:] == ["1", "1", "0", "0"],
                    f"效能投诉统计 for 南安镇 shows {cells} (投诉 1, 成立 1, 待处理 0, 超期 0 expected)")
        u.shot("s12-county-supervision-complaint")

        self.step("5. 评价器：申请人选非常不满意（办事效率低）→ 县电子监察页出现整改")
        a = self.browser("village-pc")
        self.login_as(a, VILLAGE, AGENT)
        nav = a.attrs("#topbar [data-nav]", "data-nav")
        self.expect("supervision" not in nav, f"the village's nav offers 电子监察: {nav}")
        status, j = a.fetch("GET", "/api/supervision")
        self.expect(status == 403 and "乡镇" in j.get("error", ""),
                    f"a village's GET /api/supervision: {status} {j}")
        a.go(f"{self.desk(VILLAGE)}/case.html?id={self.case_b}")
        a.wait_el("B's case page", "#case-status[data-status='delivered']")
        a.click("#actions button[data-action='rate']")
        wait_for("the 评价器 opens", 10, lambda: a.path() == "/rate.html")
        a.wait_el("the 评价器's buttons", "#rate-buttons button[data-score='1']")
        self.expect("请申请人本人评价" in a.text("main"), "the 评价器 does not say it is the applicant's")
        self.expect(not a.els("#topbar"), "the 评价器 shows the desk's top bar")
        a.shot("s13-evaluator")
        a.click("#rate-buttons button[data-score='1']")
        a.wait_el("the reasons", "#rate-reasons")
        a.click("#rate-next")
        a.wait_el("a reason asked for", "#message.error", text="原因")
        a.click("#rate-reason-list input[value='办事效率低']")
        a.shot("s14-evaluator-poor-reasons")
        a.click("#rate-next")
        a.wait_el("the confirm step", "#rate-summary", text="非常不满意（办事效率低）")
        a.shot("s15-evaluator-confirm")
        a.click("#rate-submit")
        a.wait_el("the thanks", "#rate-thanks", text="谢谢")
        a.shot("s16-evaluator-thanks")
        wait_for("back to the case page", 10, lambda: a.path() == "/case.html")
        c = a.api(f"/api/cases/{self.case_b}")
        rated = [e for e in c["events"] if e["kind"] == "rated"]
        body = rated[0]["body"]["rated"] if rated else {}
        if len(rated) != 1 or body.get("score") != 1 or body.get("channel") != "evaluator" \
                or body.get("reasons") != ["办事效率低"]:
            raise Fail(f"B's rated events: {rated}")
        a.wait_el("the case page", "#history-rows tr[data-kind='rated']")
        a.shot("s17-village-case-rated")

        u.go(self.desk(COUNTY) + "/supervision.html")
        e = self.entry(u, "rectification", self.case_b, False, "办事效率低")
        self.expect(e["level"] == TOWNSHIP and "非常不满意" in e["text"],
                    f"the 整改 row: {e} (answered by the township, which decided B)")
        status, j = u.fetch("GET", "/api/supervision?answered_days=%3Cscript%3E")
        self.expect(status == 400 and j.get("part") == "answered_days",
                    f"GET /api/supervision?answered_days=<script>: {status} {j}")
        u.shot("s18-county-supervision-all")
        self.open_case(u, COUNTY)
        u.shot("s19-county-case-history")

        self.step("停止全部节点 (SIGTERM，退出码 0)，检查各库")
        for code in (VILLAGE, TOWNSHIP, COUNTY):
            net.check_alive()
            net.stop(code)
            net.cli("store", "check", "--data", net.nodes[code].data)
        if self.bugs:
            raise T.WrongAnswers(f"{len(self.bugs)} wrong answer(s) seen on the way:\n  - " +
                                 "\n  - ".join(self.bugs))


if __name__ == "__main__":
    sys.exit(T.main(SupervisionScenario, __doc__, "desk supervision test", "supervision"))
