#!/usr/bin/env python3
"""Bundles on a USB stick (数据包) between a village with no link and its
township (node/bundle.h, docs/OPERATIONS.md "Bundles").

County 360723, township 360723101 and village 360723101007, one network
namespace each (deploy/testbed/testbed.py). The village's veth is down for
the whole work: its daemon runs but never reaches the township.

  第1-3天  the village registers 30 applications (低保), each with a scanned
           PDF, accepts them and passes them to the township;
           bundle 1 goes to the township on market day. Before it is
           imported, the township refuses (exit 2, nothing stored, cursor
           unmoved): the bundle cut off half way, one byte altered in a
           record, one in the header, the bundle at the county (not its
           addressee), and the bundle with the township's clock 31 days on
           (expired). Then it is imported with a receipt, and imported again
           (all duplicates); the township passes the 30 up, the county
           decides them.
  第4-5天  20 more; the agent imports receipt 1 at the village (its cases
           show 已达乡镇); bundle 2 carries only the 20 new ones; the township
           imports it with receipt 2, passes them up, the county decides,
           and `bundle export --for` the village writes receipt 3 with the
           last decisions. The village imports receipt 3, then receipt 2
           (out of order: nothing new, no cursor moves back).
  第6天    3 more applications, not bundled. The link comes up.

It passes if every refusal above stores nothing; every decision (50) reaches
the village by receipt, before the link is up; the bytes on the village's
veth, from the link coming up until the county holds the 3 new cases and
their scans whole, stay under what those 3 cases weigh plus a fixed allowance
for the handshake, keys, heartbeats and custody queries -- far below the
bundles' 50 scans, so nothing a bundle carried crossed the link again; the
link's own counters say it sent no more events than were never bundled;
bundle 2 imported after the link carried the same events stores nothing;
the convergence checker (deploy/testbed/invariants.py) passes on the three
stores; once the county revokes the village's key (a stolen laptop), the
township refuses its bundles; and the stores pass `store check`.

Needs root; otherwise exits 77 (ctest: skipped).
Usage: bundle_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                                "testbed"))
import invariants as I  # noqa: E402
import testbed as T  # noqa: E402
from testbed import link_of, say  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"
ITEM, ITEM_NAME = "MZ-DB-003", "最低生活保障金申领"
SCAN_BYTES = 24_000
DAYS = [(1, 10), (2, 10), (3, 10), (4, 10), (5, 10)]
LATE = 3                               # 第6天: not bundled, goes over the link
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "秀英桂英玉兰建国志强海燕丽华春梅德明国庆小红卫东"
# What the link may carry besides the 3 late cases' events and scans: the
# handshake both ways with keys, heartbeats, custody queries and acks, audit
# records, TCP/IP framing. The 50 bundled scans alone weigh 1.2 MB.
ALLOWANCE = 96 * 1024
LINK_S = 60.0


def pdf_scan(seed: int) -> bytes:
    head, tail = b"%PDF-1.4\n", b"\n%%EOF"
    return head + random.Random(seed).randbytes(SCAN_BYTES - len(head) - len(tail)) + tail


def name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[2 * (i % 8):2 * (i % 8) + 2]


class Mule:
    def __init__(self, tb: T.Testbed):
        self.tb = tb
        self.stick = os.path.join(tb.work, "usb")
        os.makedirs(self.stick, exist_ok=True)
        self.cases: list[str] = []
        self.scan_dir = os.path.join(tb.work, "scans")
        os.makedirs(self.scan_dir, exist_ok=True)

    def data(self, code: str) -> str:
        return self.tb.nodes[code].data

    def conf(self, code: str) -> str:
        return self.tb.nodes[code].conf

    def cli(self, code: str, *args: str, env: dict | None = None, check: bool = True):
        cmd = [self.tb.bin, *args, "--config", self.conf(code)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise T.Fail(f"`liandong {' '.join(args[:4])}` at {code} exited {r.returncode}: "
                         f"{(r.stderr or r.stdout).strip()[:400]}")
        return r

    def cli_json(self, code: str, *args: str) -> dict:
        r = self.cli(code, *args, "--json")
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            raise T.Fail(f"`liandong {' '.join(args[:3])}` at {code}: not JSON: {r.stdout[:600]}")

    def act(self, code: str, case: str, action: str, actor: str, role: str, *extra: str) -> None:
        self.tb.cli("act", case, action, "--data", self.data(code), "--actor", actor, "--role", role,
                    *extra)

    def register(self, day: int, n: int) -> list[str]:
        made = []
        for _ in range(n):
            i = len(self.cases) + 1
            scan = os.path.join(self.scan_dir, f"{i:02d}.pdf")
            with open(scan, "wb") as f:
                f.write(pdf_scan(7000 + i))
            body = f"3607231970{(i % 12) + 1:02d}{(i % 27) + 1:02d}{200 + i:03d}"
            out = self.tb.cli_json(
                "submit", "--data", self.data(VILLAGE), "--json-out", "--actor", "王小红",
                "--role", "agent", "--item", ITEM, "--item-name", ITEM_NAME,
                "--applicant", name(i), "--id-number", T.resident_id(body),
                "--phone", f"1397071{i:04d}", "--address", "南安镇水城村",
                "--summary", f"{name(i)}申请{ITEM_NAME}（第{day}天）",
                "--material", "低保申请书", "--attach", f"低保申请书={scan}")
            case = out["case"]
            self.act(VILLAGE, case, "accept", "王小红", "agent", "--due", "2027-01-29")
            self.act(VILLAGE, case, "escalate", "王小红", "agent", "--to", TOWNSHIP,
                     "--note", "代理员转报乡镇")
            made.append(case)
            self.cases.append(case)
        return made

    def township_and_county(self, cases: list[str]) -> None:
        for c in cases:
            self.act(TOWNSHIP, c, "escalate", "李敏", "clerk", "--to", COUNTY,
                     "--note", "上报件：报县民政局审批")
        self.tb.wait_until(f"the county holds the {len(cases)} cases", 60,
                           lambda: None if all(self.has_case(COUNTY, c) for c in cases)
                           else "some not yet")
        for c in cases:
            self.act(COUNTY, c, "assign", "周婷", "clerk", "--dept", "民政局")
            self.act(COUNTY, c, "decide", "陈志刚", "officer", "--approve",
                     "--basis", "《社会救助暂行办法》第九条")

    def has_case(self, code: str, case: str) -> bool:
        r = self.tb.cli("case", "show", case, "--data", self.data(code), "--json", check=False,
                        quiet=True, timeout=20)
        return r.returncode == 0

    def status_of(self, code: str, case: str) -> str:
        r = self.tb.cli("case", "show", case, "--data", self.data(code), "--json", check=False,
                        quiet=True, timeout=20)
        if r.returncode != 0:
            return ""
        return json.loads(r.stdout).get("status", "")

    def event_count(self, code: str) -> int:
        return len(self.tb.events(code))


def refused(m: Mule, code: str, args: list[str], needle: str, env: dict | None = None) -> str:
    r = m.cli(code, *args, env=env, check=False)
    text = (r.stderr + r.stdout).strip()
    if r.returncode != 2:
        raise T.Fail(f"`{' '.join(args[:3])}` at {code}: exit {r.returncode}, not 2: {text[:300]}")
    if needle not in text:
        raise T.Fail(f"`{' '.join(args[:3])}` at {code}: expected '{needle}' in: {text[:300]}")
    if len(text.splitlines()) != 1:
        raise T.Fail(f"`{' '.join(args[:3])}` at {code}: more than one line: {text[:300]}")
    return text


def altered(src: str, dst: str, at: int) -> None:
    with open(src, "rb") as f:
        b = bytearray(f.read())
    b[at] ^= 0x20
    with open(dst, "wb") as f:
        f.write(bytes(b))


def scenario(tb: T.Testbed) -> bool:
    tb.add(COUNTY)
    tb.add(TOWNSHIP, COUNTY, sync={"heartbeat_ms": 1000, "peer_timeout_ms": 5000})
    tb.add(VILLAGE, TOWNSHIP, sync={"heartbeat_ms": 1000, "peer_timeout_ms": 5000,
                                    "redial_min_ms": 200, "redial_max_ms": 1000})
    tb.build()
    tb.init()
    m = Mule(tb)
    problems: list[str] = []
    say(f"== network: {COUNTY} <-> {TOWNSHIP} <-(down)-> {VILLAGE} (namespaces {tb.prefix}*)")
    tb.partition(VILLAGE)
    for code in (COUNTY, TOWNSHIP, VILLAGE):
        tb.start(code)
    tb.wait_until("the township's link to the county", 30,
                  lambda: None if link_of(tb.status(TOWNSHIP), COUNTY).get("state") == "up"
                  else "down")

    # 第1-3天
    for day, n in DAYS[:3]:
        m.register(day, n)
        say(f"  第{day}天: {VILLAGE} 登记 {n} 件（附扫描件），受理并转报乡镇")
    first = list(m.cases)
    b1 = os.path.join(m.stick, "数据包1.ldb")
    out = m.cli_json(VILLAGE, "bundle", "export", "--for", TOWNSHIP, "--to", b1)
    say(f"== bundle 1: {out['events']} events, {out['files']} files ({out['chunks']} chunks), "
        f"{out['bytes']} B")
    if out["files"] != 30 or out["events"] < 90:
        problems.append(f"bundle 1 should carry 30 files and at least 90 events: {out}")
    shown = tb.cli("bundle", "show", b1).stdout.strip()
    say(f"  bundle show: {shown.splitlines()[0]}")

    say("== refusals at the township, each one line, exit 2, nothing stored")
    before = m.event_count(TOWNSHIP)
    size = os.path.getsize(b1)
    cut = os.path.join(m.stick, "cut.ldb")
    with open(b1, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(size // 2))
    say("  cut off: " + refused(m, TOWNSHIP, ["bundle", "import", cut], "不完整"))
    bad = os.path.join(m.stick, "altered.ldb")
    altered(b1, bad, size - 4000)
    say("  one byte in a record: " + refused(m, TOWNSHIP, ["bundle", "import", bad], "改动"))
    altered(b1, bad, 40)
    say("  one byte in the header: " + refused(m, TOWNSHIP, ["bundle", "import", bad], "数据包"))
    say("  at the county: " + refused(m, COUNTY, ["bundle", "import", b1], "不是给本节点"))
    say("  31 days later: " + refused(m, TOWNSHIP, ["bundle", "import", b1], "过期",
                                      env={"LIANDONG_TEST_CLOCK_OFFSET_MS": str(31 * 86400 * 1000)}))
    after = m.event_count(TOWNSHIP)
    if before != after:
        problems.append(f"a refused bundle stored events at the township: {before} -> {after}")

    r1 = os.path.join(m.stick, "回执1.ldb")
    out = m.cli_json(TOWNSHIP, "bundle", "import", b1, "--receipt", r1)
    say(f"== township imports bundle 1: {out['stored']} stored, {out['duplicates']} duplicates, "
        f"{out['files_completed']} files whole, cursor {out['cursor_before']} -> {out['cursor_after']}")
    # The refused bundles moved no cursor: this import starts from nothing.
    if out["cursor_before"] != 0:
        problems.append(f"a refused bundle moved the township's cursor to {out['cursor_before']}")
    if out["stored"] < 90 or out["rejected"] != 0 or out["files_completed"] != 30:
        problems.append(f"bundle 1 at the township: {out}")
    again = m.cli_json(TOWNSHIP, "bundle", "import", b1)
    say(f"  again: {again['stored']} stored, {again['duplicates']} duplicates, cursor "
        f"{again['cursor_before']} -> {again['cursor_after']}")
    if again["stored"] != 0 or again["duplicates"] != out["events"] or \
            again["cursor_after"] != out["cursor_after"]:
        problems.append(f"bundle 1 imported twice changed something: {again}")
    m.township_and_county(first)
    say(f"  the township passed {len(first)} up, the county decided them")

    # 第4-5天
    for day, n in DAYS[3:]:
        m.register(day, n)
        say(f"  第{day}天: {VILLAGE} 登记 {n} 件")
    out = m.cli_json(VILLAGE, "bundle", "import", r1)
    say(f"== village imports receipt 1: custody acked {out['custody_acked']}, top "
        f"{out['custody_top']}, {out['stored']} events stored")
    show = json.loads(tb.cli("case", "show", first[0], "--data", m.data(VILLAGE), "--json").stdout)
    custody = [e.get("custody", {}) for e in show.get("events", []) if e.get("origin") == VILLAGE]
    say(f"  {first[0]} at the village, its events' custody: {custody}")
    if not custody or not all(c.get("township") for c in custody):
        problems.append(f"receipt 1 did not mark {first[0]}'s events 已达乡镇: {custody}")
    second = m.cases[len(first):]
    b2 = os.path.join(m.stick, "数据包2.ldb")
    out2 = m.cli_json(VILLAGE, "bundle", "export", "--for", TOWNSHIP, "--to", b2)
    say(f"== bundle 2: {out2['events']} events, {out2['files']} files, {out2['bytes']} B "
        f"(log {out2['from_lsn']} -> {out2['to_lsn']})")
    if out2["files"] != 20:
        problems.append(f"bundle 2 should carry only the 20 new files: {out2}")
    r2 = os.path.join(m.stick, "回执2.ldb")
    out = m.cli_json(TOWNSHIP, "bundle", "import", b2, "--receipt", r2)
    say(f"== township imports bundle 2: {out['stored']} stored, {out['duplicates']} duplicates; "
        f"receipt 2: {out['receipt']['events']} events, {out['receipt']['bytes']} B")
    if out["duplicates"] != 0:
        problems.append(f"bundle 2 carried events the township had: {out}")
    m.township_and_county(second)
    tb.wait_until("the township holds every decision", 60,
                  lambda: None if all(m.status_of(TOWNSHIP, c) == "decided" for c in m.cases)
                  else "not yet")
    r3 = os.path.join(m.stick, "回执3.ldb")
    out = m.cli_json(TOWNSHIP, "bundle", "export", "--for", VILLAGE, "--to", r3)
    say(f"== receipt 3 (bundle export --for the village): {out['events']} events, {out['bytes']} B")
    o3 = m.cli_json(VILLAGE, "bundle", "import", r3)
    o2 = m.cli_json(VILLAGE, "bundle", "import", r2)
    say(f"  village imports receipt 3: {o3['stored']} stored, cursor {o3['cursor_before']} -> "
        f"{o3['cursor_after']}; then receipt 2: {o2['stored']} stored, cursor {o2['cursor_before']} "
        f"-> {o2['cursor_after']}")
    if o2["stored"] != 0 or o2["cursor_after"] != o3["cursor_after"]:
        problems.append(f"receipt 2 after receipt 3 changed something: {o2}")
    undecided = [c for c in m.cases if m.status_of(VILLAGE, c) != "decided"]
    say(f"  decisions at the village before any link: {len(m.cases) - len(undecided)} of {len(m.cases)}")
    if undecided:
        problems.append(f"decisions missing at the village: {undecided[:5]}")

    # 第6天, then the link.
    late = m.register(6, LATE)
    late_bytes = LATE * SCAN_BYTES
    say(f"  第6天: {VILLAGE} 登记 {LATE} 件，不装包")
    # Never bundled: the village's own events after bundle 2 -- the late
    # cases', the 已接收 receipts it made for the decisions the receipts
    # brought, the audit records of its bundle commands.
    unbundled = [e for e in tb.events(VILLAGE)
                 if e.get("origin") == VILLAGE and e.get("lsn", 0) > out2["to_lsn"]]
    c0 = tb.counters(VILLAGE)
    t0 = time.monotonic()
    tb.heal(VILLAGE)
    tb.wait_until("the village's link up", 30,
                  lambda: None if link_of(tb.status(VILLAGE), TOWNSHIP).get("state") == "up"
                  else "down")

    def late_whole() -> str | None:
        for c in late:
            r = tb.cli("attachment", "list", c, "--data", m.data(COUNTY), "--json", check=False,
                       quiet=True, timeout=20)
            if r.returncode != 0:
                return f"{c} not at the county"
            files = json.loads(r.stdout).get("files", [])
            if not files or not all(f.get("whole") for f in files):
                return f"{c}'s scan not whole at the county"
        return None
    took = tb.wait_until("the late cases and scans whole at the county", LINK_S, late_whole)
    # Custody comes back down too: every file held at the county, as the
    # village sees it.
    tb.wait_until("every file at the county as the village sees it", 30, lambda: None if all(
        "county" in f.get("held_at", []) for c in m.cases for f in json.loads(
            tb.cli("attachment", "list", c, "--data", m.data(VILLAGE), "--json").stdout)["files"])
        else "not yet")
    time.sleep(2)                      # a heartbeat or two more, counted as well
    c1 = tb.counters(VILLAGE)
    up = c1["tx_bytes"] - c0["tx_bytes"]
    down = c1["rx_bytes"] - c0["rx_bytes"]
    vlink = link_of(tb.status(VILLAGE), TOWNSHIP)
    tlink = link_of(tb.status(TOWNSHIP), VILLAGE)
    bundled = SCAN_BYTES * len(m.cases[:-LATE])
    say(f"== the link: up {up} B, down {down} B in {time.monotonic() - t0:.1f} s "
        f"(late cases whole at the county after {took:.1f} s)")
    say(f"  bound up: {late_bytes} B of late scans + {ALLOWANCE} B allowance = "
        f"{late_bytes + ALLOWANCE} B; the bundles carried {bundled} B of scans")
    came_up = tlink.get("events_received", -1)
    came_down = vlink.get("events_received", -1)
    say(f"  events over the link: {came_up} up, of the {len(unbundled)} the village made after "
        f"bundle 2 ({3 * LATE} of the late cases); {came_down} down")
    if up > late_bytes + ALLOWANCE:
        problems.append(f"the village sent {up} B up the link, more than the late cases' "
                        f"{late_bytes} B + {ALLOWANCE} B: bundled data crossed again")
    if down > ALLOWANCE:
        problems.append(f"the township sent {down} B down the link: the receipts' events again?")
    # The link carries those, and a few audit records of the link itself.
    if not len(unbundled) <= came_up <= len(unbundled) + 4:
        problems.append(f"the township received {came_up} events over the link; "
                        f"{len(unbundled)} were never bundled")
    if not 0 <= came_down <= LATE + 3:
        problems.append(f"the village received {came_down} events over the link: receipts carried "
                        f"all but the late cases' 已接收")

    out = m.cli_json(TOWNSHIP, "bundle", "import", b2)
    say(f"== bundle 2 again after the link: {out['stored']} stored, cursor {out['cursor_before']} "
        f"-> {out['cursor_after']}")
    if out["stored"] != 0 or out["cursor_after"] < out["cursor_before"]:
        problems.append(f"bundle 2 after the link changed something: {out}")

    say("== convergence")
    stores = {c: tb.events(c) for c in (COUNTY, TOWNSHIP, VILLAGE)}
    p = I.routing_problems(stores)
    lists = {c: tb.cli_json("case", "list", "--data", m.data(c), "--json") for c in
             (COUNTY, TOWNSHIP, VILLAGE)}
    p += I.case_state_problems(lists)
    for line in p:
        say(f"  {line}")
    problems += p
    say(f"  {len(stores[VILLAGE])} events at the village, {len(stores[COUNTY])} at the county; "
        f"{len(m.cases)} cases")
    # The link stays up: the revocation reaches the village too, whose key
    # directory came by receipts imported beside its running daemon (its
    # `store check` below compares the directory with the key events).
    say("== the village's laptop is stolen: the county revokes its key")
    tb.cli("keys", "revoke", VILLAGE, "--reason", "笔记本电脑被盗", "--actor", "周婷",
           "--data", m.data(COUNTY))
    b4 = os.path.join(m.stick, "被盗电脑的数据包.ldb")
    m.cli(VILLAGE, "bundle", "export", "--for", TOWNSHIP, "--to", b4)
    seen: list[str] = []

    def refused_now() -> str | None:
        r = m.cli(TOWNSHIP, "bundle", "import", b4, check=False)
        seen.append((r.stderr + r.stdout).strip())
        return None if r.returncode == 2 and "吊销" in r.stderr else "still imported"
    took = tb.wait_until("the township refusing the revoked key's bundle", 30, refused_now)
    say(f"  after {took:.1f} s: {seen[-1]}")
    if not T.stop_and_check(tb, (VILLAGE, TOWNSHIP, COUNTY)):
        problems.append("a daemon did not stop cleanly or a store check failed")
    for x in problems:
        say(f"FAIL: {x}")
    if not problems:
        say("PASS")
    shutil.rmtree(m.stick, ignore_errors=True)
    return not problems


if __name__ == "__main__":
    sys.exit(T.run_fault_test(__doc__, scenario))
