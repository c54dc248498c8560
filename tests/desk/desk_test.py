#!/usr/bin/env python3
"""Browser tests of the desk (办事台, docs/DESK.md): real people's work in
headless Chromium against real `liandong run` processes on 127.0.0.1.

County 360723 (大余县), township 360723101 (南安镇) and village point
360723101007 (水城村), each its own daemon, store and desk (tests/desk/
desk_net.py). The county publishes the division table, the catalog
(config/catalog-example.toml), the calendars and a staff roster; the village
takes them over its fail-over link to the county, then the county stops: the
village runs with no uplink (its township has not been started) and its
agent works there.

1. Offline intake. 王小红 sets her password on the login page (首次登录),
   sees 与…断开 on the 工作台, registers 农村危房改造 (ZJ-002, county-level,
   joint: 住房城乡建设 + 民政) with two required materials marked 缺, prints
   the 一次性告知书 and the 受理回执 to PDF; the case number and 承诺办结日期
   read from the PDF text match the API and the CLI. She records the
   supplement (材料已补齐), accepts (受理, the catalog's promised date),
   prints the 受理回执 again (now with the date) and forwards it (转报乡镇).
3. (while offline) she has no 办结 button; a forged POST of 办结 from her page
   without X-CSRF-Token is 403, with her valid token 403 again (role); the
   case is unchanged and the audit log shows both (办事台拒绝 / 越权操作).
2. The links come up (township, then county). 赵六 at the township desk
   上报s it; at the county 周敏 (clerk, no 办结 button) assigns both
   departments, 钱科长 and 孙科长 (reviewers) give their opinions, 吴局长
   (officer) decides. The village's case page and 工作台, left open, show
   the decision without a reload (a marker set in each window survives);
   the agent records 送达, the applicant's 评价 (on the 评价器, rate.html)
   and 销号; the 办结通知 prints.
   Every node then holds the same events and the same case state.
4. 李春梅's wrong passwords: 401 ×3, then 429 with retry_after, 401, 429,
   423 at the 5th; the audit log shows 登录失败. The village's session
   cookie is refused by the township desk (401) under either name.

Screenshots (1366×768, and -full.png for long pages), PDFs and their text
go to $LIANDONG_ARTIFACTS, else BUILD/desk-artifacts (BUILD: the directory
above the binary's). LIANDONG_KEEP=1 keeps the stores, configs and logs.
Usage: desk_test.py --bin build/node/liandong
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import traceback
import struct
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desk_net as D  # noqa: E402


def write_png(path: str, width: int, height: int, seed: int) -> None:
    """A photo-like RGB PNG (a pattern over a gradient), made without libraries."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes(((x * 255 // width) ^ seed, (y * 255 // height), ((x ^ y) + seed) & 255))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(bytes(rows), 6)))
        f.write(chunk(b"IEND", b""))
from desk_net import Fail, say, wait_for  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"
ALL = (COUNTY, TOWNSHIP, VILLAGE)
CATALOG = os.path.join(D.ROOT, "config", "catalog-example.toml")
DIVISIONS = os.path.join(D.ROOT, "config", "divisions-example.toml")
CALENDARS = [os.path.join(D.ROOT, "config", f"calendar-{y}.toml") for y in (2026, 2027)]

AGENT, AGENT2 = "王小红", "李春梅"
CLERK_T = "赵六"
CLERK_C, OFFICER = "周敏", "吴局长"
REVIEWERS = {"住房城乡建设": "钱科长", "民政": "孙科长"}
PUBLISHER = "李建国"
ROSTER = f"""# 人员名册 for the desk's browser tests
version = 1
[[staff]]
name = "{AGENT}"
staff_id = "DB-360723101007-01"
role = "agent"
node = "{VILLAGE}"
[[staff]]
name = "{AGENT2}"
role = "agent"
node = "{VILLAGE}"
[[staff]]
name = "{CLERK_T}"
role = "clerk"
node = "{TOWNSHIP}"
[[staff]]
name = "{CLERK_C}"
role = "clerk"
node = "{COUNTY}"
[[staff]]
name = "钱科长"
role = "reviewer"
node = "{COUNTY}"
[[staff]]
name = "孙科长"
role = "reviewer"
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

ITEM, ITEM_NAME = "ZJ-002", "农村危房改造"
MISSING = ["户口簿", "身份证明（低保证、特困证等）"]
APPLICANT = "张德贵"
ID_NUMBER = D.testbed.resident_id("36072319580317215")
PHONE = "13907975566"
CERTIFICATE = "余危改字〔2026〕第018号"
PASSWORD = {AGENT: "shuicheng-2026", AGENT2: "lichunmei-77", CLERK_T: "nanan-zhaoliu",
            CLERK_C: "county-zhoumin", "钱科长": "qian-reviewer", "孙科长": "sun-reviewer",
            OFFICER: "wu-officer-1"}


class WrongAnswers(Fail):
    """The run went through, but answers recorded on the way were wrong."""


class Scenario:
    def __init__(self, net: D.Net, tmp: str, art: str):
        self.net = net
        self.tmp = tmp
        self.art = art
        self.browsers: list[D.Browser] = []
        self.case = ""
        self.photos = 0
        self.t0 = time.monotonic()
        self.county_stopped = 0.0      # monotonic time the county was stopped
        # Wrong answers that do not stop the run: each is printed when seen,
        # and the run fails at its end listing them all.
        self.bugs: list[str] = []

    def expect(self, ok: bool, text: str) -> bool:
        if not ok:
            say(f"  !! {text}")
            self.bugs.append(text)
        return ok

    def browser(self, label: str) -> D.Browser:
        b = D.Browser(label, self.tmp, self.art)
        self.browsers.append(b)
        return b

    def note(self, text: str) -> None:
        say(f"  [{time.monotonic() - self.t0:5.1f} s] {text}")

    def step(self, text: str) -> None:
        say(f"\n== [{time.monotonic() - self.t0:5.1f} s] {text}")

    def desk(self, code: str) -> str:
        return self.net.nodes[code].desk

    # --- people at the desk ------------------------------------------------------------

    def first_login(self, b: D.Browser, code: str, name: str) -> None:
        """首次登录: a code from `liandong desk invite`, a new password, to 工作台."""
        invite = self.net.invite(code, name)
        b.go(self.desk(code) + "/login.html")
        wait_for(f"{name}: the login page lists the names", 10,
                 lambda: b.els(f"#reset-name option[value='{name}']"))
        b.click("#tab-reset")
        Select(b.el("#reset-name")).select_by_value(name)
        b.type("#reset-code", invite)
        b.type("#reset-password", PASSWORD[name])
        b.type("#reset-password2", PASSWORD[name])
        b.click("#reset-submit")
        self.wait_logged_in(b, name)

    def login(self, b: D.Browser, code: str, name: str) -> None:
        b.go(self.desk(code) + "/login.html")
        wait_for(f"{name}: the login page lists the names", 10,
                 lambda: b.els(f"#login-name option[value='{name}']"))
        Select(b.el("#login-name")).select_by_value(name)
        b.type("#login-password", PASSWORD[name])
        b.click("#login-submit")
        self.wait_logged_in(b, name)

    def wait_logged_in(self, b: D.Browser, name: str) -> None:
        def on_desk():
            err = b.visible("#message.error")
            if err is not None and err.text:
                raise Fail(f"{b.label}: logging in {name}: {err.text}")
            return b.path() == "/" and name in b.text("#who")
        wait_for(f"{b.label}: {name} logged in, on 工作台", 15, on_desk)

    def logout(self, b: D.Browser) -> None:
        b.click("#logout")
        wait_for(f"{b.label}: logged out", 10, lambda: b.path() == "/login.html")

    def open_case(self, b: D.Browser, code: str) -> None:
        b.go(f"{self.desk(code)}/case.html?id={self.case}")
        b.wait_el("the case page", "#case-status[data-status]")

    def page_checks(self, b: D.Browser) -> None:
        """What every case page should show right (recorded, not fatal)."""
        prints = b.attrs("#prints [data-print]", "data-print")
        if prints.count("service") > 1:
            self.expect(False, f"{b.label}: case.html offers 打印服务告知单 {prints.count('service')} "
                        f"times (prints {prints}: the API's `prints` lists service and case.js "
                        f"adds one more)")
        facts = b.text("#handling-facts")
        c = b.api(f"/api/cases/{self.case}")
        depts = [d.get("department") if isinstance(d, dict) else d for d in c.get("departments", [])]
        if depts and not all(d in facts for d in depts):
            self.expect(False, f"{b.label}: 联办部门 on the case page does not name {depts} "
                        f"(API departments {c.get('departments')}; case.js reads .name)")

    def buttons(self, b: D.Browser) -> list[str]:
        return b.attrs("#actions button[data-action]", "data-action")

    def act(self, b: D.Browser, action: str, fill=None, want_status: str | None = None) -> dict:
        """Opens the action's form on the case page, fills it, submits it and
        waits for 已记录; returns the case as the API then gives it."""
        b.wait_el(f"the {action} button", f"#actions button[data-action='{action}']")
        b.click(f"#actions button[data-action='{action}']")
        b.wait_el(f"the {action} form", f"#act-form[data-action='{action}']")
        if fill:
            fill()
        b.click("#act-submit")

        def recorded():
            err = b.visible("#message.error")
            if err is not None and err.text:
                raise Fail(f"{b.label}: {action} refused: {err.text}")
            ok = b.visible("#message.ok")
            return ok is not None and "已记录" in ok.text and not b.els("#act-form")
        wait_for(f"{b.label}: {action} recorded", 15, recorded)
        c = b.api(f"/api/cases/{self.case}")
        if want_status and c.get("status") != want_status:
            raise Fail(f"after {action} the case is {c.get('status')}, not {want_status}")
        self.note(f"{b.label}: {action} → {c.get('status_zh') or c.get('status')}")
        return c

    def check(self, b: D.Browser, name: str, value: str) -> None:
        """Ticks the checkbox or radio name=value in the open action form."""
        for e in b.els(f"#act-form input[name='{name}']"):
            if e.get_attribute("value") == value:
                if not e.is_selected():
                    e.click()
                return
        raise Fail(f"{b.label}: no choice {name}={value} in the form")

    # --- 1. offline intake ---------------------------------------------------------------

    def offline_intake(self, a: D.Browser) -> None:
        net = self.net
        self.step("1. 上联中断：代理员首次登录、登记补办件、打印一次性告知书和受理回执")
        state = net.uplink_state(VILLAGE, TOWNSHIP)
        if state == "up":
            raise Fail(f"the village's uplink is {state}; the township should not be running")
        a.go(self.desk(VILLAGE) + "/")
        wait_for("the desk sends a stranger to the login page", 10,
                 lambda: a.path() == "/login.html" and a.els("#login-name option[value]"))
        a.wait_el("the node's name on the login page", "#node-title", text="水城村")
        a.shot("01-login")
        self.first_login(a, VILLAGE, AGENT)

        line = a.wait_el("the sync line", "#sync-line")
        try:
            wait_for("断开 on 工作台", 5, lambda: "断开" in line.text and
                     line.get_attribute("data-down") not in (None, "", "0"))
        except Fail:
            links = a.api("/api/desk")["sync"]["links"]
            self.expect(False, f"工作台 with both uplinks down says {line.text!r} (data-down="
                        f"{line.get_attribute('data-down')!r}); GET /api/desk sync.links: {links}")
        self.note(f"工作台: {line.text}")
        a.shot("02-village-desk-offline")

        a.go(self.desk(VILLAGE) + "/new.html")
        a.wait_el("the item picker", "#item-list button[data-item]")
        a.type("#item-search", "危房")
        a.wait_el("the item ZJ-002 in the list", f"#item-list button[data-item='{ITEM}']").click()
        a.wait_el("the chosen item", "#item-chosen", text=ITEM_NAME)
        a.type("#applicant-name", APPLICANT)
        a.type("#id-number", ID_NUMBER)
        a.wait_el("the ID number checked as typed", "#id-number-hint.good")
        a.type("#phone", PHONE)
        a.type("#address", "南安镇水城村四组12号")
        a.type("#summary", "自住土坯房墙体开裂，申请农村危房改造补助")
        rows = a.els("#material-rows tr[data-material]")
        names = [r.get_attribute("data-material") for r in rows]
        if not all(m in names for m in MISSING):
            raise Fail(f"the checklist of {ITEM} lacks {MISSING}: {names}")
        photos = 0
        for r in rows:
            state = "missing" if r.get_attribute("data-material") in MISSING else "provided"
            r.find_element(D.By.CSS_SELECTOR, f"input[value='{state}']").click()
            if state == "provided" and photos < 2:
                # Two photos taken at intake (拍照上传), as a phone's camera would give them.
                path = os.path.join(self.tmp, f"photo-{photos}.png")
                write_png(path, 1200 + 400 * photos, 900, 40 * photos)
                r.find_element(D.By.CSS_SELECTOR, "input[type=file]").send_keys(path)
                photos += 1
        self.photos = photos
        a.wait_el("the 补办件 warning", "#submit-note", text="缺 2 项材料")
        a.shot("03-new-filled")
        a.click("#submit-case")
        a.wait_el("the registered case", "#result #case-number")
        self.case = a.text("#case-number").strip()
        if not re.fullmatch(rf"{VILLAGE}-\d+", self.case):
            raise Fail(f"new.html shows case number {self.case!r}")
        words = a.text("#result-words")
        if not all(m in words for m in MISSING):
            raise Fail(f"the result does not name both missing materials: {words!r}")
        self.note(f"登记 {self.case}: {words}")
        a.shot("04-new-registered")
        if self.photos:
            # The case page (in a second tab: this page's buttons are used
            # below) shows both photos as thumbnails made by the node.
            first = a.d.current_window_handle
            a.d.switch_to.new_window("tab")
            self.open_case(a, VILLAGE)
            wait_for("the photos' thumbnails on the case page", 15, lambda: len([
                i for i in a.els("#file-list img")
                if a.d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)
            ]) == self.photos)
            custody = [e.text for e in a.els("#file-list .custody")]
            self.expect(all("本机" in t for t in custody), f"附件存放 on the case page: {custody}")
            a.shot("04b-case-photos")
            a.els("#file-list .thumb-open")[0].click()
            a.wait_el("the viewer's large photo", "#viewer .viewer-img")
            a.shot("04c-photo-viewer")
            a.click("#viewer button[type=submit]")
            a.d.close()
            a.d.switch_to.window(first)

        c = a.api(f"/api/cases/{self.case}")
        cli = net.case(VILLAGE, self.case)
        if c.get("status") != "supplement_requested" or not c.get("supplement_case"):
            raise Fail(f"a case with 2 materials missing is {c.get('status')}, "
                       f"supplement_case={c.get('supplement_case')}")
        if cli is None or cli.get("status") != "supplement_requested":
            raise Fail(f"`case show` at the village: {cli and cli.get('status')}")
        if "notice" not in c.get("prints", []):
            raise Fail(f"a 补办件 offers no 一次性告知书: prints {c.get('prints')}")
        pending = a.api("/api/desk")["sync"]
        if pending.get("pending_up", 0) < 1:
            raise Fail(f"offline, the desk says nothing waits to go up: {pending}")
        self.note(f"工作台 同步: {pending.get('pending_up_zh')}")

        # 一次性告知书, from the registration page's own button.
        a.click("#print-notice")
        a.wait_el("the notice", "#sheet[data-kind='notice'] #print-case")
        a.shot("05-print-notice", full=False)
        text = a.pdf("notice")
        self.pdf_case_number(text, "一次性告知书")
        lacking = [m for m in MISSING if m not in re.sub(r"\s+", "", text)]
        if lacking:
            raise Fail(f"一次性告知书 PDF does not list {lacking}")

        # 受理回执 at registration: no promised date before 受理.
        due = self.print_receipt(a, "receipt-registered", "06-print-receipt-registered")
        if c.get("due_date") or (c.get("promise") or {}).get("due_date"):
            if due != c.get("due_date"):
                raise Fail(f"受理回执 promises {due}, the API {c.get('due_date')}")
        else:
            # Before 受理 the date is open; the receipt may say within how
            # many working days, which must be the catalog's.
            days = a.api(f"/api/catalog/{ITEM}").get("limit_days")
            said = re.search(r"(\d+)\s*个工作日", due)
            if not due.startswith("受理后确定") or (said and int(said.group(1)) != days):
                raise Fail(f"受理回执 of a case not accepted says 承诺办结日期：{due} "
                           f"(the catalog's limit is {days} working days)")

        # 补正 on the case page, then 受理 and 转报乡镇.
        self.open_case(a, VILLAGE)
        a.shot("07-case-village-supplement")
        self.act(a, "supplement", lambda: [self.check(a, "provided", m) for m in MISSING],
                 want_status="submitted")
        c = self.act(a, "accept", want_status="accepted")
        if c.get("missing"):
            raise Fail(f"after 材料已补齐 the case still misses {c.get('missing')}")
        promised = c.get("due_date") or ""
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", promised) or \
                (c.get("promise") or {}).get("due_date") != promised:
            raise Fail(f"受理 gave due_date {promised!r}, promise {c.get('promise')}")
        if a.text("#case-due") != promised:
            raise Fail(f"the case page shows 承诺办结日期 {a.text('#case-due')!r}, the API {promised}")
        cli = net.case(VILLAGE, self.case)
        if cli.get("due_date") != promised:
            raise Fail(f"`case show` promises {cli.get('due_date')}, the API {promised}")
        due = self.print_receipt(a, "receipt", "08-print-receipt")
        if due != promised:
            raise Fail(f"受理回执 PDF: 承诺办结日期 {due}, API and CLI {promised}")
        self.note(f"受理回执 PDF: 办件编号 {self.case}，承诺办结日期 {due} (与 API、case show 一致)")
        self.open_case(a, VILLAGE)
        c = self.act(a, "escalate", want_status="escalated")
        if c.get("handler") != TOWNSHIP:
            raise Fail(f"转报乡镇 sent it to {c.get('handler')}")
        a.shot("09-case-village-escalated")

        # 办件查询, 事项目录 (and its 服务告知单), 同步状态.
        a.go(self.desk(VILLAGE) + "/search.html")
        a.wait_el("the search form", "#q-name")
        a.type("#q-name", APPLICANT)
        a.click("#search-submit")
        a.wait_el("the case in the results", f"#result-rows tr[data-case='{self.case}']")
        a.shot("10-search")
        a.go(self.desk(VILLAGE) + "/catalog.html")
        a.wait_el("the catalog list", "#catalog-list [data-item]")
        a.type("#catalog-search", "危房")
        a.wait_el("ZJ-002 in the catalog", f"#catalog-list [data-item='{ITEM}']").click()
        a.wait_el("the item's eight public items", "#detail #detail-name", text=ITEM_NAME)
        a.shot("11-catalog")
        a.click("#print-service")
        a.wait_el("the 服务告知单", "#sheet[data-kind='service']", text="监督电话")
        a.shot("12-print-service", full=False)
        text = a.pdf("service")
        if ITEM_NAME not in text:
            raise Fail("服务告知单 PDF does not name the item")
        a.go(self.desk(VILLAGE) + "/sync.html")
        a.wait_el("the links table", f"#link-rows tr[data-peer='{TOWNSHIP}']")
        states = dict(zip(a.attrs("#link-rows tr[data-peer]", "data-peer"),
                          a.attrs("#link-rows tr[data-peer]", "data-state")))
        self.expect(states.get(TOWNSHIP) != "up" and states.get(COUNTY) != "up",
                    f"同步状态 offline shows the uplinks {states}")
        a.shot("13-sync-village-offline")
        # 数据包: the agent writes what the township lacks to the USB stick.
        a.wait_el("the 数据包 card", "#bundle-card:not([hidden]) #bundle-drive option")
        a.click("#bundle-export")
        a.wait_el("the bundle written", "#bundle-result.ok", 30, text="已写入U盘")
        a.shot("13b-sync-village-bundle")
        usb = os.environ["LIANDONG_TEST_USB_DIR"]
        written = [f for f in os.listdir(usb) if f.endswith(".ldb")]
        self.expect(len(written) == 1, f"the 数据包 button wrote {written} to the stick")
        if written:
            shown = net.cli_json("bundle", "show", os.path.join(usb, written[0]), "--json")
            self.expect(shown.get("from") == VILLAGE and shown.get("to") == TOWNSHIP
                        and shown.get("kind") == "up", f"bundle show: {shown}")
            self.note(f"数据包按钮写入U盘 {written[0]}（{shown.get('bytes')} 字节，交 {TOWNSHIP}）")
        # How long the county link has been down, as `status` says and the
        # desk words it (与…断开 N).
        down_s = time.monotonic() - self.county_stopped
        link = D.testbed.link_of(net.cli_json("status", "--data", net.nodes[VILLAGE].data, "--json"),
                                 COUNTY)
        words = [w.get("words_zh") for w in a.api("/api/desk")["sync"]["links"]
                 if w.get("peer") == COUNTY]
        self.expect(link.get("for_ms", 0) >= (down_s - 3) * 1000,
                    f"the county link has been down {down_s:.0f} s, but `liandong status --json` "
                    f"says state {link.get('state')!r} for_ms {link.get('for_ms')} (since_ms "
                    f"restarts at every redial); the desk words it {words}")

    def pdf_case_number(self, text: str, what: str) -> None:
        m = re.search(r"办件编号\s*[：:]\s*([0-9]+-[0-9]+)", text)
        if not m or m.group(1) != self.case:
            raise Fail(f"{what} PDF: 办件编号 {m and m.group(1)!r}, the case is {self.case}")

    def print_receipt(self, a: D.Browser, pdf: str, shot: str) -> str:
        """Prints the 受理回执; returns the 承诺办结日期 read from the PDF text."""
        a.go(f"{self.desk(VILLAGE)}/print.html?kind=receipt&id={self.case}")
        a.wait_el("the receipt", "#sheet[data-kind='receipt'] #print-due")
        a.shot(shot, full=False)
        text = a.pdf(pdf)
        self.pdf_case_number(text, "受理回执")
        m = re.search(r"承诺办结日期\s*[：:]\s*(.+)", text)
        if not m:
            raise Fail("受理回执 PDF has no 承诺办结日期 line")
        return m.group(1).strip()

    # --- 3. forged and refused ----------------------------------------------------------

    def forged(self, a: D.Browser) -> None:
        net = self.net
        self.step("3. 越权：代理员没有办结按钮；伪造的办结请求（无令牌 / 有令牌）均 403，办件不变，审计有记录")
        self.open_case(a, VILLAGE)
        have = self.buttons(a)
        if "decide" in have or a.els("[data-action='decide']"):
            raise Fail(f"the village agent is offered 办结 on a county-level case: {have}")
        self.note(f"代理员在本件上的按钮: {have or '无'}")
        before = net.case(VILLAGE, self.case)
        body = {"action": "decide", "approve": True, "basis": "《伪造依据》", "certificate": "伪-001"}
        path = f"/api/cases/{self.case}/act"
        s1, j1 = a.fetch("POST", path, body)
        if s1 != 403:
            raise Fail(f"POST {path} without X-CSRF-Token → {s1} {j1} (403 expected)")
        csrf = a.api("/api/session").get("csrf")
        s2, j2 = a.fetch("POST", path, body, {"X-CSRF-Token": csrf})
        if s2 != 403 or j2.get("error") == j1.get("error"):
            raise Fail(f"POST {path} with the token, as an agent → {s2} {j2} (403 for the role expected)")
        s3, j3 = a.fetch("POST", path, {"action": "assign", "departments": list(REVIEWERS)},
                         {"X-CSRF-Token": csrf})
        if s3 != 403:
            raise Fail(f"POST {path} 分派 with the token, as an agent → {s3} {j3} (403 expected)")
        self.note(f"无令牌 → 403 {j1.get('error')}")
        self.note(f"有令牌、办结 → 403 {j2.get('error')}")
        self.note(f"有令牌、分派 → 403 {j3.get('error')}")
        after = net.case(VILLAGE, self.case)
        if [e["id"] for e in after["events"]] != [e["id"] for e in before["events"]] or \
                after["status"] != before["status"]:
            raise Fail(f"a refused POST changed the case: {before['status']} → {after['status']}, "
                       f"{len(before['events'])} → {len(after['events'])} events")

        def audited():
            text = net.audit(VILLAGE)
            lines = [ln for ln in text.splitlines() if AGENT in ln]
            csrf_line = [ln for ln in lines if "办事台拒绝" in ln and "CSRF" in ln]
            role_line = [ln for ln in lines if ("越权操作" in ln or "办事台拒绝" in ln)
                         and self.case in ln and "CSRF" not in ln]
            kinds = {w for ln in role_line for w in ("decide", "assign") if w in ln}
            return (csrf_line, role_line) if csrf_line and kinds == {"decide", "assign"} else None
        csrf_line, role_line = wait_for("both refusals in `liandong audit`", 10, audited, every=0.3)
        self.note(f"审计: {csrf_line[-1].strip()}")
        for ln in role_line[-2:]:
            self.note(f"审计: {ln.strip()}")

    # --- 2. up the tree and back ----------------------------------------------------------

    def online(self, a: D.Browser, u: D.Browser) -> None:
        net = self.net
        self.step("2. 链路接通：乡镇上报、县分派并联审批、办结；村里开着的页面不刷新即显示结果")
        # The agent's PC: the case page in one window, 工作台 in another; a
        # marker in each shows neither is reloaded from here on.
        self.open_case(a, VILLAGE)
        case_win = a.d.current_window_handle
        desk_win = a.new_window()
        a.go(self.desk(VILLAGE) + "/")
        wait_for("the village's 工作台", 10,
                 lambda: a.visible("#work-table") or a.visible("#work-empty"))
        if a.els(f"#work-rows tr[data-case='{self.case}']"):
            raise Fail("the village's 工作台 lists a case that waits at the township")
        for w in (case_win, desk_win):
            a.d.switch_to.window(w)
            a.d.execute_script("window.__kept = 'not reloaded';")

        net.start(TOWNSHIP)
        net.start(COUNTY)
        wait_for("the village's uplink to the township up", 30,
                 lambda: net.uplink_state(VILLAGE, TOWNSHIP) == "up", every=0.3)
        wait_for("the case at the township", 30,
                 lambda: (net.case(TOWNSHIP, self.case) or {}).get("handler") == TOWNSHIP, every=0.3)

        self.first_login(u, TOWNSHIP, CLERK_T)
        u.wait_el("the case on the township's 工作台", f"#work-rows tr[data-case='{self.case}']")
        u.shot("14-township-desk")
        self.open_case(u, TOWNSHIP)
        have = self.buttons(u)
        if "escalate" not in have or "decide" in have:
            raise Fail(f"a township clerk on a county-level case is offered {have}")
        u.shot("15-case-township")
        c = self.act(u, "escalate", want_status="escalated")
        if c.get("handler") != COUNTY:
            raise Fail(f"上报 sent it to {c.get('handler')}")
        wait_for("the case at the county", 30,
                 lambda: (net.case(COUNTY, self.case) or {}).get("handler") == COUNTY, every=0.3)

        self.first_login(u, COUNTY, CLERK_C)
        self.open_case(u, COUNTY)
        have = self.buttons(u)
        if "assign" not in have or "decide" in have:
            raise Fail(f"a county clerk is offered {have} (分派 yes, 办结 no expected)")
        u.shot("16-case-county-clerk")
        self.act(u, "assign", lambda: [self.check(u, "departments", d) for d in REVIEWERS],
                 want_status="assigned")
        self.logout(u)

        for dept, reviewer in REVIEWERS.items():
            self.first_login(u, COUNTY, reviewer)
            self.open_case(u, COUNTY)
            self.opinion(u, dept)
            self.logout(u)

        self.first_login(u, COUNTY, OFFICER)
        u.wait_el("the county's 工作台", "#work-rows")
        u.shot("17-county-desk")
        self.open_case(u, COUNTY)
        if "decide" not in self.buttons(u):
            raise Fail(f"the county officer is not offered 办结 after both opinions: {self.buttons(u)}")

        def decide():
            self.check(u, "decision", "approve")
            if not u.el("#act-basis").get_attribute("value"):
                raise Fail("办结 form: the legal basis is not filled in from the catalog")
            u.type("#act-certificate", CERTIFICATE)
            u.shot("18-case-county-decide-form")
        self.act(u, "decide", decide, want_status="decided")
        u.shot("19-case-county-decided")
        self.page_checks(u)

        # Back at the village: both windows change by themselves.
        a.d.switch_to.window(case_win)
        a.wait_el("the decision on the open case page", "#case-status[data-status='decided']", 40)
        a.wait_el("the decision in the open page's history", "#history-rows tr[data-kind='decided']")
        if a.d.execute_script("return window.__kept;") != "not reloaded":
            raise Fail("the village's case page was reloaded")
        a.shot("20-case-village-decided")
        a.d.switch_to.window(desk_win)
        a.wait_el("待送达 on the open 工作台", f"#work-rows tr[data-case='{self.case}']", 20,
                  text="送达")
        if a.d.execute_script("return window.__kept;") != "not reloaded":
            raise Fail("the village's 工作台 was reloaded")
        self.note(f"村工作台 (未刷新): {a.text('#sync-line')}")
        a.shot("21-village-desk-decided")
        a.d.close()
        a.d.switch_to.window(case_win)

        self.act(a, "deliver", lambda: Select(a.el("#act-method")).select_by_value("当面送达"),
                 want_status="delivered")
        # 评价 opens the 评价器 (rate.html), the applicant's own screen.
        a.wait_el("the 评价 button", "#actions button[data-action='rate']")
        a.click("#actions button[data-action='rate']")
        wait_for("the 评价器 opens", 10, lambda: a.path() == "/rate.html")
        a.wait_el("the 评价器's buttons", "#rate-buttons button[data-score='5']")
        a.click("#rate-buttons button[data-score='5']")
        a.type("#rate-comment", "不用跑县城，很满意")
        a.click("#rate-next")
        a.wait_el("the 评价器's confirm step", "#rate-summary", text="非常满意")
        a.click("#rate-submit")
        a.wait_el("the 评价器's thanks", "#rate-thanks", text="谢谢")
        a.click("#rate-return")
        a.wait_el("the case page again", "#case-status[data-status='delivered']")
        c = self.act(a, "close", want_status="closed")
        if c.get("rating") != 5:
            raise Fail(f"评价 stored as {c.get('rating')}")
        a.go(f"{self.desk(VILLAGE)}/print.html?kind=result&id={self.case}")
        a.wait_el("the result notice", "#sheet[data-kind='result'] #print-case")
        a.shot("22-print-result", full=False)
        text = a.pdf("result")
        self.pdf_case_number(text, "办结通知书")
        if CERTIFICATE not in text.replace(" ", ""):
            raise Fail("办结通知书 PDF lacks the certificate number")
        a.go(self.desk(VILLAGE) + "/sync.html")
        a.wait_el("the uplink up", f"#link-rows tr[data-peer='{TOWNSHIP}'][data-state='up']", 15)
        a.shot("23-sync-village-online")

        self.step("   各节点一致：同样的事件、同样的办件状态")

        def same():
            shows = {c: net.case(c, self.case) for c in ALL}
            if any(s is None for s in shows.values()):
                return None
            ids = {c: sorted(e["id"] for e in s["events"]) for c, s in shows.items()}
            status = {c: s["status"] for c, s in shows.items()}
            if len({tuple(v) for v in ids.values()}) == 1 and set(status.values()) == {"closed"}:
                return ids[VILLAGE]
            return None
        ids = wait_for("the same events and state of the case at every node", 30, same, every=0.5)
        stores = {c: net.cli_json("store", "events", "--data", net.nodes[c].data, "--json")
                  for c in ALL}
        lists = {c: net.cli_json("case", "list", "--data", net.nodes[c].data, "--json") for c in ALL}
        problems = D.invariants.routing_problems(stores) + D.invariants.case_state_problems(lists)
        if problems:
            raise Fail("the stores differ: " + "; ".join(problems))
        self.note(f"{len(ids)} 个事件、状态 已销号，三级一致；路由与办件状态不变量成立")

    def opinion(self, u: D.Browser, dept: str) -> None:
        """部门意见 (approve) for `dept`, through the page's form when it
        offers the department; else (a page bug, recorded) the same request
        from the page's own session."""
        text = "经入户核查，住房为C级危房，符合改造条件，同意"
        u.wait_el("the opinion button", "#actions button[data-action='opinion']")
        u.click("#actions button[data-action='opinion']")
        u.wait_el("the opinion form", "#act-form[data-action='opinion']")
        offered = u.attrs("#act-department option", "value")
        if dept in offered:
            u.click("#act-cancel")

            def fill():
                Select(u.el("#act-department")).select_by_value(dept)
                self.check(u, "decision", "approve")
                u.type("#act-text", text)
            self.act(u, "opinion", fill, want_status="assigned")
            return
        departments = u.api(f"/api/cases/{self.case}").get("departments")
        self.expect(False, f"部门意见 form: the 部门 select offers {offered}, not {dept!r} "
                    f"(GET /api/cases/ID departments: {departments}; case.js reads d.name)")
        u.shot(f"bug-opinion-form-{dept}", full=False)
        u.click("#act-cancel")
        csrf = u.api("/api/session")["csrf"]
        status, j = u.fetch("POST", f"/api/cases/{self.case}/act",
                            {"action": "opinion", "department": dept, "approve": True, "text": text},
                            {"X-CSRF-Token": csrf})
        if status != 200:
            raise Fail(f"部门意见 {dept} from the reviewer's page → {status} {j}")
        self.note(f"{u.label}: opinion {dept} (请求由页面会话发出) → {j.get('status_zh')}")

    # --- 4. passwords and cookies ---------------------------------------------------------

    def passwords(self, a: D.Browser, u: D.Browser) -> None:
        net = self.net
        self.step("4. 密码输错：放慢（429）与锁定（423）；别的节点的会话 cookie 被拒（401）")
        v = self.desk(VILLAGE)
        invite = net.invite(VILLAGE, AGENT2)
        s, j = D.http(v + "/api/password", "POST",
                      {"name": AGENT2, "code": invite, "password": PASSWORD[AGENT2]})
        if s != 200:
            raise Fail(f"首次登录 of {AGENT2}: {s} {j}")

        def login(pw: str) -> tuple[int, dict]:
            return D.http(v + "/api/login", "POST", {"name": AGENT2, "password": pw})
        seen = []
        for i in range(3):
            s, j = login(f"wrong-{i}")
            seen.append(s)
            if s != 401:
                raise Fail(f"wrong password #{i + 1} → {s} {j} (401 expected)")
        s, j = login("wrong-3")
        seen.append(s)
        if s != 429 or not isinstance(j.get("retry_after"), int) or j["retry_after"] < 1:
            raise Fail(f"a 4th try right after the 3rd failure → {s} {j} (429 with retry_after)")
        self.note(f"第 4 次紧接着 → 429 {j.get('error')} (retry_after {j['retry_after']})")
        wait1 = j["retry_after"]
        time.sleep(min(wait1, 10) + 0.2)
        s, j = login("wrong-4")
        seen.append(s)
        if s != 401:
            raise Fail(f"the 4th wrong password after waiting → {s} {j} (401 expected)")
        s, j = login("wrong-5")
        seen.append(s)
        if s != 429 or j.get("retry_after", 0) <= wait1:
            raise Fail(f"right after the 4th failure → {s} {j} (429, a longer wait than {wait1} s)")
        time.sleep(min(j["retry_after"], 20) + 0.2)
        s, j = login("wrong-6")
        seen.append(s)
        if s != 423:
            raise Fail(f"the 5th wrong password → {s} {j} (423 expected)")
        self.note(f"第 5 次错误 → 423 {j.get('error')}")
        s, j = login(PASSWORD[AGENT2])
        seen.append(s)
        if s != 423:
            raise Fail(f"the right password on a locked account → {s} {j} (423 expected)")
        self.note(f"答复依次为 {seen}")

        # The login page says so, in a browser of its own.
        u.go(v + "/login.html")
        wait_for("the login page lists the names", 10,
                 lambda: u.els(f"#login-name option[value='{AGENT2}']"))
        Select(u.el("#login-name")).select_by_value(AGENT2)
        u.type("#login-password", PASSWORD[AGENT2])
        u.click("#login-submit")
        u.wait_el("the lock on the login page", "#message.error", text="锁定")
        u.shot("24-login-locked")

        def audited():
            lines = [ln for ln in net.audit(VILLAGE).splitlines() if AGENT2 in ln and "登录失败" in ln]
            return lines if len(lines) >= 5 else None
        lines = wait_for("登录失败 in `liandong audit`", 10, audited, every=0.3)
        self.note(f"审计: {len(lines)} 条登录失败，最后一条: {lines[-1].strip()}")

        # A village session cookie at the township desk.
        cookies = {c["name"]: c["value"] for c in a.d.get_cookies()}
        name_v, name_t = f"liandong_{VILLAGE}", f"liandong_{TOWNSHIP}"
        if name_v not in cookies:
            raise Fail(f"the agent's browser has no {name_v} cookie: {sorted(cookies)}")
        token = cookies[name_v]
        s, j = D.http(v + "/api/session", headers={"Cookie": f"{name_v}={token}"})
        if s != 200 or j.get("person", {}).get("name") != AGENT:
            raise Fail(f"the village cookie at the village → {s} {j} (200, {AGENT})")
        t = self.desk(TOWNSHIP)
        for cookie in (f"{name_t}={token}", f"{name_v}={token}"):
            s, j = D.http(t + "/api/session", headers={"Cookie": cookie})
            if s != 401:
                raise Fail(f"the village's session at the township desk ({cookie.split('=')[0]}) "
                           f"→ {s} {j} (401 expected)")
        s, j = D.http(t + "/api/desk", headers={"Cookie": f"{name_t}={token}"})
        if s != 401:
            raise Fail(f"GET /api/desk at the township with the village's session → {s}")
        self.note("村的会话 cookie 在村 → 200；在乡镇 (两种名字) → 401")

    # --- the whole run ----------------------------------------------------------------------

    def prepare(self) -> None:
        """County, township and village added and initialised; the county
        publishes the division table, the catalog, the calendars and the
        roster; the village takes them over its fail-over link to the
        county; the county stops. Returns with the village running and no
        uplink (the township has never been started)."""
        net = self.net
        self.step("准备：县发布区划、事项目录、工作日历、人员名册；村经县的备用线路取得，然后县停机")
        net.add(COUNTY, "大余县", listens=True)
        net.add(TOWNSHIP, "南安镇", COUNTY, listens=True)
        net.add(VILLAGE, "水城村", TOWNSHIP, extra_upstreams=(COUNTY,))
        net.init()
        roster = os.path.join(net.work, "roster.toml")
        with open(roster, "w", encoding="utf-8") as f:
            f.write(ROSTER)
        net.start(COUNTY)
        cdata = net.nodes[COUNTY].data
        by = ["--data", cdata, "--actor", PUBLISHER, "--role", "director"]
        net.cli("publish", "divisions", "--version", "1", "--file", DIVISIONS, *by)
        net.cli("catalog", "publish", CATALOG, *by)
        for cal in CALENDARS:
            net.cli("calendar", "publish", cal, *by)
        net.cli("roster", "publish", "--version", "1", "--file", roster, *by)
        net.start(VILLAGE)
        vdata = net.nodes[VILLAGE].data

        def shown(*what: str):
            """The JSON a `show`/`list` prints, or None while the village holds nothing yet:
            each document arrives in its own batch, in any order."""
            r = net.cli(*what, "--data", vdata, "--json", check=False)
            return json.loads(r.stdout) if r.returncode == 0 else None

        def held():
            r = shown("roster", "show")
            cat = shown("catalog", "list")
            div = shown("divisions", "show")
            cal = shown("calendar", "show")
            return bool(r) and r.get("version") == 1 and bool(cat) and bool(div) \
                and div.get("version") == 1 and cal is not None
        wait_for("the roster, catalog, divisions and calendar at the village", 30, held, every=0.3)
        net.stop(COUNTY)
        self.county_stopped = time.monotonic()
        wait_for("the village's links down", 10,
                 lambda: net.uplink_state(VILLAGE, COUNTY) != "up", every=0.2)

    def run(self) -> None:
        net = self.net
        self.prepare()
        a = self.browser("village-pc")
        self.offline_intake(a)
        self.forged(a)
        u = self.browser("staff-pc")
        self.online(a, u)
        self.passwords(a, u)

        self.step("停止全部节点 (SIGTERM，退出码 0)，检查各库")
        for code in (VILLAGE, TOWNSHIP, COUNTY):
            net.check_alive()
            net.stop(code)
            net.cli("store", "check", "--data", net.nodes[code].data)
        if self.bugs:
            raise WrongAnswers(f"{len(self.bugs)} wrong answer(s) seen on the way:\n  - " +
                       "\n  - ".join(self.bugs))

    def close(self) -> None:
        for b in self.browsers:
            b.quit()


def main(scenario=None, doc: str = __doc__, label: str = "desk test", sub: str = "") -> int:
    """Runs `scenario` (a Scenario subclass; this file's by default) against
    a fresh network; 0 if it went through with no wrong answer. Artifacts go
    to $LIANDONG_ARTIFACTS, else BUILD/desk-artifacts/`sub`."""
    scenario = scenario or Scenario
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the liandong binary")
    ap.add_argument("--keep", action="store_true", help="keep stores, configs and logs")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    art = os.environ.get("LIANDONG_ARTIFACTS") or os.path.join(
        os.path.dirname(os.path.dirname(binary)), "desk-artifacts", sub)
    os.makedirs(art, exist_ok=True)
    for name in os.listdir(art):       # what an earlier run left
        if name.endswith((".png", ".pdf", ".txt")):
            os.remove(os.path.join(art, name))
    keep = args.keep or os.environ.get("LIANDONG_KEEP") == "1"
    tmp = tempfile.mkdtemp(prefix="liandong-desk-")
    # A folder standing for the USB stick the 数据包 button writes to.
    os.makedirs(os.path.join(tmp, "usb"), exist_ok=True)
    os.environ["LIANDONG_TEST_USB_DIR"] = os.path.join(tmp, "usb")
    net = D.Net(binary, os.path.join(tmp, "net"))
    sc = scenario(net, tmp, art)
    ok = False
    went_through = False     # failed only by wrong answers recorded on the way
    t0 = time.monotonic()
    try:
        sc.run()
        ok = True
    except WrongAnswers as e:
        went_through = True
        say(f"\nFAIL: {e}")
    except Fail as e:
        say(f"\nFAIL: {e}")
    except Exception:  # a broken page or driver: the trace, then the logs
        traceback.print_exc()
    finally:
        if not ok and not went_through:
            for b in sc.browsers:
                try:
                    b.d.save_screenshot(os.path.join(art, f"failed-{b.label}.png"))
                    say(f"  {b.label} was at {b.d.current_url}; message: {b.text('#message')!r}")
                except Exception:  # noqa: BLE001  (best effort while failing)
                    pass
            for code in net.nodes:
                net.tail(code, 25)
        sc.close()
        net.kill_all()
        if keep:
            say(f"kept {tmp}")
        else:
            D.cleanup_dir(tmp)
    say(f"\n{label} {'ok' if ok else 'FAILED'} in {time.monotonic() - t0:.1f} s; "
        f"screenshots and printouts in {art}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
