#!/usr/bin/env python3
"""办事结果公开: the public page leaks no personal data (docs/DESK.md "The
public page").

One county node (360723 大余县, tests/desk/desk_net.py) with the division
table, the catalog (config/catalog-example.toml), the calendars and a
roster. 1,020 applications with distinct applicants (distinct full names,
some with compound surnames; valid 18-character ID numbers with their
check characters; distinct mobile numbers; distinct addresses), homed at
the villages of the division table, are registered from a generated ledger
(`liandong import`, one process), then handled through the running desk's
JSON API as its clerk and officer would: 1,000 decided — 准予, 不予许可, or
不予受理 at intake — and 20 left open (受理 only: not on the page).

Then, without any login: GET /public.html, every page of GET /api/public
(limit=200), the public 服务告知单 of every catalog item (GET
/api/public/items/CODE, and print.html as Chromium draws it), and the public
page as headless Chromium renders it (document.documentElement.outerHTML
after the script filled it, for every page of the list at 200 a page). All
of it is searched for every applicant's full name, ID number (the 18
characters, the last 4 and the last 6), phone and address: zero hits. And
it must show what it should, so that the test can fail: masked names (张*)
for every listed case, exactly the 1,000 decided cases counted, each page's
rows, and the figures by outcome matching what was done.

Also: bad query strings get a Chinese 400 (unknown parameter, limit 0 or
201 or "abc", a cursor that is not one); the page needs no cookie and the
API answers without one. Screenshots and an A4 PDF of the page go to
$LIANDONG_ARTIFACTS (else BUILD/desk-artifacts/public).

Usage: public_test.py --bin build/node/liandong
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import re
import sys
import tempfile
import time
import traceback
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desk_net as D  # noqa: E402
from desk_net import Fail, say, wait_for  # noqa: E402

COUNTY = "360723"
CATALOG = os.path.join(D.ROOT, "config", "catalog-example.toml")
DIVISIONS = os.path.join(D.ROOT, "config", "divisions-example.toml")
CALENDARS = [os.path.join(D.ROOT, "config", f"calendar-{y}.toml") for y in (2026, 2027)]
PUBLISHER, CLERK, OFFICER = "李建国", "周敏", "吴局长"
PASSWORD = {CLERK: "county-zhoumin", OFFICER: "wu-officer-1"}
ROSTER = f"""# 人员名册 for the public page's test
version = 1
[[staff]]
name = "{PUBLISHER}"
role = "director"
node = "{COUNTY}"
[[staff]]
name = "{CLERK}"
role = "clerk"
node = "{COUNTY}"
[[staff]]
name = "{OFFICER}"
role = "officer"
node = "{COUNTY}"
"""
ITEM = "MZ-001"          # 农村最低生活保障: county-level, decided at the county
DECIDED, OPEN = 1000, 20
PAGE = 200
TIME_LIMIT_S = 90        # the whole run

SURNAMES = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
            "林", "何", "郭", "马", "罗", "欧阳", "司马", "诸葛", "上官"]
GIVEN = list("德贵明华秀英建国春梅志强玉兰红霞金生海燕文俊丽娟桂芳永福")


def applicants(n: int) -> list[dict]:
    """n applicants with distinct full names, ID numbers, phones and addresses."""
    out, names = [], set()
    i = 0
    while len(out) < n:
        s = SURNAMES[i % len(SURNAMES)]
        a = GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        b = GIVEN[(i // (len(SURNAMES) * len(GIVEN))) % len(GIVEN)]
        name = s + a + b
        i += 1
        if name in names:
            continue
        names.add(name)
        k = len(out)
        birth = f"{1950 + k % 50}{1 + k % 12:02d}{1 + k % 28:02d}"
        # The order number 300-999: the last 4 characters of an ID number are
        # then never a number the page shows by design (a year, 1000 件,
        # the area code 0797), so a hit is a leak.
        body = f"360723{birth}{300 + k % 700:03d}"
        out.append({"name": name,
                    "id": D.testbed.resident_id(body),
                    "phone": f"139{7970000 + k * 7:08d}",
                    "address": f"大余县幸福路{1000 + k}号"})
    return out


class Http:
    """One keep-alive connection to the desk, with a session cookie and its
    CSRF token once logged in (the browser's calls, without a browser)."""

    def __init__(self, base: str):
        u = urllib.parse.urlsplit(base)
        self.host = u.netloc
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        self.cookie = ""
        self.csrf = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, dict]:
        headers = {"Host": self.host, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.csrf and method == "POST":
            headers["X-CSRF-Token"] = self.csrf
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                text = r.read()
                return r.status, text, {k.lower(): v for k, v in r.getheaders()}
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: once more.
                self.conn.close()
                if attempt == 1:
                    raise
        raise Fail("unreachable")

    def json(self, method: str, path: str, body: dict | None = None, want: int = 200) -> dict:
        status, text, _ = self.call(method, path, body)
        try:
            j = json.loads(text) if text else {}
        except json.JSONDecodeError:
            raise Fail(f"{method} {path} → {status}: not JSON: {text[:200]!r}")
        if status != want:
            raise Fail(f"{method} {path} → {status} {j} ({want} expected)")
        return j

    def login(self, net: D.Net, name: str) -> None:
        code = net.invite(COUNTY, name)
        status, text, headers = self.call("POST", "/api/password",
                                          {"name": name, "code": code, "password": PASSWORD[name]})
        if status != 200:
            raise Fail(f"{name}: POST /api/password → {status} {text[:200]!r}")
        self.cookie = headers.get("set-cookie", "").split(";")[0]
        self.csrf = self.json("GET", "/api/session").get("csrf", "") if self.cookie else ""
        if not self.cookie or not self.csrf:
            raise Fail(f"{name}: no session cookie or CSRF token after setting the password")


class Run:
    def __init__(self, binary: str, work: str, art: str):
        self.net = D.Net(binary, work)
        self.work = work
        self.art = art
        self.people = applicants(DECIDED + OPEN)
        self.expect = {"approved": 0, "refused": 0, "not_accepted": 0}
        self.notes: list[str] = []
        self.t0 = time.monotonic()

    def note(self, text: str) -> None:
        self.notes.append(text)
        say(f"  {text}")

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    # --- set-up ----------------------------------------------------------------------

    def prepare(self) -> str:
        net = self.net
        net.add(COUNTY, "大余县")
        net.init()
        roster = os.path.join(self.work, "roster.toml")
        with open(roster, "w", encoding="utf-8") as f:
            f.write(ROSTER)
        net.start(COUNTY)
        data = net.nodes[COUNTY].data
        by = ["--data", data, "--actor", PUBLISHER, "--role", "director"]
        net.cli("publish", "divisions", "--version", "1", "--file", DIVISIONS, *by)
        net.cli("catalog", "publish", CATALOG, *by)
        for cal in CALENDARS:
            net.cli("calendar", "publish", cal, *by)
        net.cli("roster", "publish", "--version", "1", "--file", roster, *by)
        return data

    def villages(self) -> list[str]:
        div = self.net.cli_json("divisions", "show", "--data", self.net.nodes[COUNTY].data, "--json")
        codes = [d["code"] for d in div.get("divisions", []) if len(str(d.get("code", ""))) == 12]
        if not codes:
            raise Fail(f"no village in the division table: {str(div)[:300]}")
        return codes

    def ledger(self, path: str, villages: list[str]) -> None:
        item = self.net.cli_json("catalog", "show", ITEM, "--data", self.net.nodes[COUNTY].data,
                                 "--json")
        item = item.get("item", item)
        materials = "、".join(m["name"] for m in item.get("materials", []))
        if not materials:
            raise Fail(f"{ITEM}: no materials in `catalog show`: {str(item)[:300]}")
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["台账编号", "申请人姓名", "身份证号码", "联系电话", "住址", "事项编码", "所属村",
                        "材料", "申请事由"])
            for k, p in enumerate(self.people):
                w.writerow([f"GK-{k:05d}", p["name"], p["id"], p["phone"], p["address"], ITEM,
                            villages[k % len(villages)], materials,
                            f"{p['name']}家庭申请低保，电话{p['phone']}"])

    def register(self, data: str) -> list[str]:
        path = os.path.join(self.work, "台账.csv")
        self.ledger(path, self.villages())
        t = time.monotonic()
        out = self.net.cli_json("import", path, "--data", data, "--actor", CLERK, "--role", "clerk",
                                "--json", timeout=60)
        if out.get("stored") != DECIDED + OPEN or out.get("bad"):
            raise Fail(f"import: {str(out)[:300]}")
        listed = self.net.cli_json("case", "list", "--data", data, "--json", "--limit", "10000")
        cases = listed.get("cases", listed) if isinstance(listed, dict) else listed
        ids = [c.get("case") or c.get("id") for c in cases]
        if len(ids) != DECIDED + OPEN:
            raise Fail(f"import: {len(ids)} cases held, {DECIDED + OPEN} expected")
        self.note(f"导入台账 {len(ids)} 件：{time.monotonic() - t:.1f} s")
        return ids

    def decide(self, base: str, ids: list[str]) -> None:
        clerk, officer = Http(base), Http(base)
        clerk.login(self.net, CLERK)
        officer.login(self.net, OFFICER)
        t = time.monotonic()
        calls = 0

        def act(who: Http, case: str, body: dict) -> None:
            nonlocal calls
            calls += 1
            who.json("POST", f"/api/cases/{case}/act", body)

        for k, case in enumerate(ids):
            if k >= DECIDED:
                act(clerk, case, {"action": "accept"})          # open: not on the page
                continue
            if k % 10 == 9:
                act(clerk, case, {"action": "not-accept", "reason": "申请人不属于本县户籍",
                                  "basis": "《最低生活保障审核确认办法》第六条"})
                self.expect["not_accepted"] += 1
                continue
            act(clerk, case, {"action": "accept"})
            if k % 4 == 3:
                act(officer, case, {"action": "decide", "reject": True,
                                    "reason": "家庭人均收入高于当地低保标准",
                                    "basis": "《最低生活保障审核确认办法》第十条"})
                self.expect["refused"] += 1
            else:
                act(officer, case, {"action": "decide", "approve": True,
                                    "certificate": f"余低保字〔2026〕第{k:04d}号"})
                self.expect["approved"] += 1
        dt = time.monotonic() - t
        self.note(f"经办事台 API 办理 {calls} 次操作：{dt:.1f} s（每次 {dt / calls * 1000:.1f} ms）")

    # --- what the public sees --------------------------------------------------------------

    def public_api(self, base: str) -> tuple[list[dict], list[bytes]]:
        """Every page of GET /api/public (no cookie): the rows and the raw answers."""
        h = Http(base)
        rows, raw = [], []
        before = None
        first = None
        for _ in range(50):            # 1,000 rows at 200 a page: 5 pages
            q = {"limit": PAGE}
            if before:
                q["before"] = before
            status, text, headers = h.call("GET", "/api/public?" + urllib.parse.urlencode(q))
            if status != 200:
                raise Fail(f"GET /api/public {q} → {status} {text[:200]!r}")
            if "set-cookie" in headers:
                raise Fail("GET /api/public set a cookie")
            raw.append(text)
            j = json.loads(text)
            if first is None:
                first = j
            rows += j["cases"]
            if len(j["cases"]) > PAGE:
                raise Fail(f"a page of {len(j['cases'])} rows for limit={PAGE}")
            before = j.get("next")
            if not before:
                break
        else:
            raise Fail("GET /api/public: still a next page after 50 pages")
        self.first = first
        return rows, raw

    def check_rows(self, rows: list[dict]) -> None:
        if len(rows) != DECIDED:
            raise Fail(f"/api/public listed {len(rows)} cases over its pages, {DECIDED} expected")
        if self.first.get("total") != DECIDED:
            raise Fail(f"/api/public total {self.first.get('total')}, {DECIDED} expected")
        f = self.first.get("figures", {})
        for k, v in self.expect.items():
            if f.get(k) != v:
                raise Fail(f"/api/public figures[{k}] = {f.get(k)}, {v} expected ({f})")
        allowed = {"applicant", "item_code", "item_name", "home_label", "home_name",
                   "accepted_date", "decided_date", "outcome", "outcome_zh", "on_time"}
        by_outcome = {"approved": 0, "refused": 0, "not_accepted": 0}
        masked_first = {p["name"][0] + "*" for p in self.people}
        for r in rows:
            extra = set(r) - allowed
            if extra:
                raise Fail(f"a public row has fields beyond the allow-list: {sorted(extra)}")
            if not re.fullmatch(r".\*", r["applicant"]) or r["applicant"] not in masked_first:
                raise Fail(f"applicant shown as {r['applicant']!r}, not a first character and *")
            by_outcome[r["outcome"]] = by_outcome.get(r["outcome"], 0) + 1
            if r["item_code"] != ITEM or not r["home_name"] or not r["decided_date"]:
                raise Fail(f"a public row lacks what it should show: {r}")
        if by_outcome != self.expect:
            raise Fail(f"outcomes listed {by_outcome}, {self.expect} expected")
        dates = [r["decided_date"] for r in rows]
        if dates != sorted(dates, reverse=True):
            raise Fail("the public list is not newest first")
        if self.first.get("node_name") != "大余县":
            raise Fail(f"node_name {self.first.get('node_name')!r}, 大余县 expected")
        self.note(f"/api/public：{len(rows)} 件，{len(rows) // PAGE} 页，结果 {by_outcome}，"
                  f"申请人均为“X*”")

    def bad_queries(self, base: str) -> None:
        h = Http(base)
        for q in ("limit=0", "limit=201", "limit=abc", "limit=-1", "limit=99999999999",
                  "before=360723101007-000042", "before=1%27%20or%201%3D1", "name=%E5%BC%A0",
                  "id_number=360723", "limit=5&limit=6", "before="):
            status, text, _ = h.call("GET", "/api/public?" + q)
            j = json.loads(text) if text else {}
            if status != 400 or not re.search(r"[\u4e00-\u9fff]", j.get("error", "")):
                raise Fail(f"GET /api/public?{q} → {status} {j} (a Chinese 400 expected)")
        status, _, _ = h.call("GET", "/api/public/items/NO-SUCH")
        if status != 404:
            raise Fail(f"GET /api/public/items/NO-SUCH → {status} (404 expected)")
        status, _, _ = h.call("GET", f"/api/public/items/{ITEM}?x=1")
        if status != 400:
            raise Fail(f"GET /api/public/items/{ITEM}?x=1 → {status} (400 expected)")
        # The rest of the API still asks for a login.
        for path in ("/api/cases", "/api/catalog", f"/api/catalog/{ITEM}"):
            status, _, _ = h.call("GET", path)
            if status != 401:
                raise Fail(f"GET {path} without a session → {status} (401 expected)")
        self.note("错误的查询参数 11 种 → 400（中文说明）；其他接口无登录仍为 401")

    def leaks(self, texts: dict[str, str]) -> None:
        """Every applicant's full name, ID number (18 characters, last 6 and
        last 4), phone and address in none of `texts` (name -> text).

        Each text is cut once into its substrings of every length a secret
        has, and into its runs of letters and digits; the secrets are looked
        up in those sets (a search of each secret in each text would take
        minutes)."""
        whole: dict[str, str] = {}       # secret -> whose
        tails: dict[str, str] = {}       # ID tails: standalone runs only
        for p in self.people:
            who = p["name"][0] + "*"
            for s in (p["name"], p["id"], p["phone"], p["address"]):
                whole[s] = who
            # The last 6 and 4 characters of the ID number as they would
            # stand after a mask (****12345X): a run of letters and digits
            # of their own, not part of a longer one (a time in ms, a hex
            # cursor).
            for tail in (p["id"][-6:], p["id"][-4:]):
                tails[tail] = who
        lengths = sorted({len(s) for s in whole})
        hits = []
        for where, text in texts.items():
            for n in lengths:
                cuts = {text[i:i + n] for i in range(len(text) - n + 1)}
                hits += [f"{s} ({whole[s]}) in {where}" for s in whole if len(s) == n and s in cuts]
            runs = set(re.findall(r"[0-9A-Za-z]+", text))
            hits += [f"…{t} (ID tail of {tails[t]}) in {where}" for t in tails if t in runs]
        if hits:
            raise Fail(f"personal data on the public page: {len(hits)} hits, e.g. {hits[:5]}")
        total = sum(len(t) for t in texts.values())
        self.note(f"在 {len(texts)} 份公开内容（{total // 1024} KiB）中查找 {len(self.people)} 位申请人的"
                  f"全名、身份证号（18 位、后 6 位、后 4 位）、电话、住址：0 处")

    def browser(self, base: str, tmp: str) -> dict[str, str]:
        texts: dict[str, str] = {}
        b = D.Browser("public", tmp, self.art)
        try:
            b.go(base + "/public.html")
            wait_for("the public page filled", 20,
                     lambda: b.d.execute_script("return document.body.dataset.loaded === '0';"))
            if b.path() != "/public.html":
                raise Fail(f"the public page went to {b.path()} (no login asked for it)")
            title = b.text("#public-title")
            office = b.text("#public-office")
            if title != "办事结果公开" or "大余县" not in office:
                raise Fail(f"the public page's heading: {title!r} / {office!r}")
            shown = b.attrs("#public-rows td.applicant", "class")
            if len(shown) != 50:
                raise Fail(f"the public page shows {len(shown)} rows, 50 expected")
            if "1000" not in b.text("#public-figures").replace(",", ""):
                raise Fail(f"the figures line does not count 1000: {b.text('#public-figures')!r}")
            b.shot("public")
            b.pdf("public")
            # 200 a page, every page, as drawn.
            b.d.execute_script(
                "const s = document.getElementById('page-size'); s.value = '200';"
                "s.dispatchEvent(new Event('change'));")
            names = []
            for page in range(10):
                wait_for(f"page {page + 1} drawn", 20, lambda: b.d.execute_script(
                    "return document.body.dataset.loaded === arguments[0] && "
                    "document.querySelectorAll('#public-rows tr').length > 0;", str(page)))
                texts[f"public.html page {page + 1} (Chromium)"] = b.d.execute_script(
                    "return document.documentElement.outerHTML;")
                names += b.d.execute_script(
                    "return Array.from(document.querySelectorAll('#public-rows td.applicant'),"
                    " (e) => e.textContent);")
                if page == 1:
                    b.shot("public-page2", full=False)
                if b.d.execute_script("return document.getElementById('older').disabled;"):
                    break
                b.click("#older")
            if len(names) != DECIDED or not all(re.fullmatch(r".\*", n) for n in names):
                raise Fail(f"the drawn pages showed {len(names)} applicants "
                           f"(all masked: {all(re.fullmatch(r'.[*]', n) for n in names)}), "
                           f"{DECIDED} expected")
            # Each item's 服务告知单, public, drawn.
            b.d.execute_script(
                "const s = document.getElementById('page-size'); s.value = '50';"
                "s.dispatchEvent(new Event('change'));")
            wait_for("the first page again", 20,
                     lambda: b.d.execute_script("return document.body.dataset.loaded === '0';"))
            links = b.attrs("#item-rows a.service-link", "href")
            if len(links) < 5:
                raise Fail(f"the public page links {len(links)} 服务告知单")
            for href in links:
                b.go(base + href if href.startswith("/") else href)
                b.wait_el("服务告知单 drawn", "#print-item")
                if b.path() != "/print.html":
                    raise Fail(f"{href}: went to {b.path()} (no login asked for it)")
                code = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["item"][0]
                texts[f"服务告知单 {code} (Chromium)"] = b.d.execute_script(
                    "return document.documentElement.outerHTML;")
                if code == ITEM:
                    b.shot("public-service")
                    text = b.pdf("public-service")
                    if "服务告知单" not in text or "监督电话" not in text:
                        raise Fail(f"the public 服务告知单 PDF: {text[:300]!r}")
                    back = b.attrs("#print-back", "href")
                    if back != ["/public.html"]:
                        raise Fail(f"the 服务告知单's 返回 goes to {back}")
            self.note(f"Chromium：公开页 {DECIDED} 件全部显示为“X*”，{len(links)} 份服务告知单无需登录")
        finally:
            b.quit()
        return texts

    def main(self, tmp: str) -> None:
        data = self.prepare()
        base = self.net.nodes[COUNTY].desk
        ids = self.register(data)
        self.decide(base, ids)
        h = Http(base)
        texts: dict[str, str] = {}
        status, page, _ = h.call("GET", "/public.html")
        if status != 200 or b"public.js" not in page:
            raise Fail(f"GET /public.html → {status}")
        texts["public.html"] = page.decode("utf-8", "replace")
        t = time.monotonic()
        rows, raw = self.public_api(base)
        self.note(f"/api/public 全部 {len(raw)} 页（每页 {PAGE} 件）：{time.monotonic() - t:.2f} s")
        for k, r in enumerate(raw):
            texts[f"/api/public page {k + 1}"] = r.decode("utf-8")
        # What the server sends, searched first; then what it should show.
        self.leaks(texts)
        self.check_rows(rows)
        catalog = self.net.cli_json("catalog", "list", "--data", data, "--json")
        items = catalog.get("items", catalog) if isinstance(catalog, dict) else catalog
        for it in items:
            j = h.json("GET", f"/api/public/items/{it['code']}")
            texts[f"/api/public/items/{it['code']}"] = json.dumps(j, ensure_ascii=False)
        self.bad_queries(base)
        t = time.monotonic()
        texts.update(self.browser(base, tmp))
        self.note(f"Chromium 部分：{time.monotonic() - t:.1f} s")
        # The search finds what it looks for: a planted name, an ID number's
        # tail after a mask, a phone.
        for planted in (self.people[7]["name"], "360723********" + self.people[8]["id"][-4:],
                        "尾号" + self.people[9]["id"][-6:], self.people[10]["phone"]):
            try:
                self.leaks({"planted": "<td>" + planted + "</td>"})
            except Fail:
                continue
            raise Fail(f"the leak search missed a planted {planted!r}")
        t = time.monotonic()
        self.leaks(texts)
        self.note(f"查找：{time.monotonic() - t:.1f} s")
        self.net.check_alive()
        self.net.stop(COUNTY)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.bin)))
    art = os.environ.get("LIANDONG_ARTIFACTS") or os.path.join(build, "desk-artifacts", "public")
    os.makedirs(art, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="liandong-public-")
    run = Run(args.bin, os.path.join(tmp, "net"), art)
    ok = False
    try:
        say("办事结果公开：1,000 件已办结办件的公开页不泄露个人信息")
        run.main(tmp)
        ok = True
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
    except Exception:
        traceback.print_exc()
    finally:
        run.net.kill_all()
        if ok and not os.environ.get("LIANDONG_KEEP"):
            D.cleanup_dir(tmp)
        else:
            print(f"kept: {tmp}", file=sys.stderr)
    say(f"{'通过' if ok else '失败'}（{run.elapsed():.1f} s），截图和 PDF：{art}")
    if ok and run.elapsed() > TIME_LIMIT_S:
        print(f"FAIL: took {run.elapsed():.0f} s, more than {TIME_LIMIT_S} s", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
