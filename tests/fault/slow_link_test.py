#!/usr/bin/env python3
"""Fault test: a slow, lossy village link (64 kbit/s, 10 % loss each way).

County 360723, township 360723101 and village 360723101007, one network
namespace each (deploy/testbed/testbed.py). The village<->township veth is
shaped with tbf at 64 kbit/s on both ends and nftables drops 10 % of the
packets in each direction; the township<->county link is left fast.

N applications (default 500, LIANDONG_FAULT_APPS to change) are registered
at the village offline (its daemon not yet running: `liandong submit` writes
to the store), then the county and township start, then the village daemon
starts and the clock runs until the county holds all N. The bytes that
crossed the village's veth upward give the link-capacity time

    bound = tx_bytes * 8 / 64,000 / (1 - 0.10)

and the test passes if the measured time is at most 1.5 x bound, every node
holds exactly the village's events (once each), and every daemon stops
cleanly. All figures are printed.

Needs root; otherwise exits 77 (ctest: skipped).
Usage: slow_link_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import os
import random
import sys
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                                "testbed"))
import testbed as T  # noqa: E402
from testbed import link_of, say  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"
RATE_KBIT = 64
LOSS_PCT = 10
APPS = int(os.environ.get("LIANDONG_FAULT_APPS", "500"))
LIMIT_S = float(os.environ.get("LIANDONG_FAULT_LIMIT_S", "360"))   # bound on the sync wait
RATIO_MAX = 1.5
# tbf queue at the link's rate. A 3G/4G modem buffers seconds of data; with a
# shallow queue (400 ms) tbf overflow, not the 10 % random loss, dominates the
# drops (hundreds per run) and TCP spends its time recovering.
QUEUE_MS = int(os.environ.get("LIANDONG_FAULT_QUEUE_MS", "2000"))

# The village link: a 5 s round trip and a transfer in flight must not look
# like a dead peer; small batches so an ack is never far away. The window
# (16 KiB on the wire: about four zstd batches of 16 KiB raw) is about the
# tbf queue: measured with 64 KiB, TCP overflowed the queue (70-110 tbf drops
# a run, on top of the 10 % loss) and the run took 13-24 s; with 16 KiB,
# 3-4 drops and 16-17 s.
VILLAGE_SYNC = {
    "batch_max_events": 64,
    "batch_max_bytes": 16384,
    "window_bytes": 16384,
    "heartbeat_ms": 5000,
    "peer_timeout_ms": 60000,
    "ack_timeout_ms": 30000,
    "redial_min_ms": 1000,
    "redial_max_ms": 30000,
}
# LIANDONG_FAULT_SYNC="window_bytes=16384,batch_max_bytes=8192" overrides some.
for _kv in filter(None, os.environ.get("LIANDONG_FAULT_SYNC", "").split(",")):
    _k, _v = _kv.split("=", 1)
    VILLAGE_SYNC[_k.strip()] = int(_v)
# The township's settings hold for all its links, the slow village one too.
TOWNSHIP_SYNC = {
    "heartbeat_ms": 5000,
    "peer_timeout_ms": 60000,
    "ack_timeout_ms": 30000,
    "redial_min_ms": 500,
    "redial_max_ms": 5000,
}


def case_events(tb: T.Testbed, code: str) -> list[dict]:
    """The case events `code` holds; audit records (which travel up only, and
    which each node writes for itself) and the county's key directory
    broadcasts are left out."""
    return [e for e in tb.events(code) if e.get("case")]


def wait_link_up(tb: T.Testbed, code: str, peer: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while True:
        tb.check_alive()
        st = tb.status(code)
        if link_of(st, peer).get("state") == "up":
            return
        if time.monotonic() > deadline:
            raise T.Fail(f"{code}: link to {peer} not up after {limit:.0f} s: {st.get('links')}")
        time.sleep(0.2)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程魏苏吕丁任沈姚卢钟"
GIVEN = "建国秀英春梅小红志强丽华德明福生晓燕桂兰玉珍海涛文军永红金凤国平淑芬长青光明振华爱民秋菊冬生"
PLACES = ["龙潭村", "石门村", "黄沙村", "桥头村", "上坪组", "下坪组", "竹山组", "枫树组"]
ITEMS = [  # (code, name, form fields, materials)
    ("LY-CF-002", "林木采伐许可", lambda r: [f"树种={r.choice(['杉木', '马尾松', '湿地松', '毛竹'])}",
                                       f"蓄积量={r.randint(3, 40)}.{r.randint(0, 9)}立方米",
                                       f"林班={r.choice(PLACES)}{r.randint(1, 30)}林班{r.randint(1, 12)}小班"],
     ["林权证:provided:copy", "采伐申请书:provided:original"]),
    ("YB-CB-004", "城乡居民医保参保登记", lambda r: [f"参保年度={r.choice(['2026', '2027'])}",
                                           f"缴费档次={r.choice(['一档', '二档', '三档'])}",
                                           f"家庭人口={r.randint(1, 8)}"],
     ["居民身份证:provided:copy", "户口簿:provided:copy"]),
    ("MZ-GL-008", "高龄津贴", lambda r: [f"年龄={r.randint(80, 103)}岁",
                                     f"开户银行=农商银行{r.choice(PLACES)}网点",
                                     f"账号=6228{r.randint(10**11, 10**12 - 1)}"],
     ["居民身份证:provided:copy", "户口簿:provided:copy"]),
    ("NC-ZJD-001", "农村宅基地建房", lambda r: [f"建房面积={r.randint(60, 150)}平方米",
                                          f"层数={r.randint(1, 3)}",
                                          f"用地类型={r.choice(['原址翻建', '新增宅基地', '危房改造'])}",
                                          f"四至=东至{r.choice(SURNAMES)}家 西至村道 南至{r.choice(PLACES)} "
                                          f"北至山脚"],
     ["居民身份证:provided:copy", "户口簿:provided:copy", "宅基地使用申请表:provided:original",
      "村民会议意见:later"]),
]
NOTES = ["申请人行动不便，代理员上门受理", "材料齐全，当场核对原件", "申请人要求电话告知结果",
         "已核实户籍信息", "申请人为脱贫户，请优先办理", "村委会已出具证明", "申请人外出务工，由家属代办",
         "已告知办理时限和收费标准"]


def id_number(r) -> str:
    body = f"360723{r.randint(1940, 2008)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def submit_offline(tb: T.Testbed, n: int) -> list[str]:
    """Registers n varied applications (seeded: the same every run) straight
    into the village's store; its daemon is not running."""
    data = tb.nodes[VILLAGE].data
    r = random.Random(360723101007)
    cases = []
    t0 = time.monotonic()
    for i in range(n):
        code, name, fields, materials = ITEMS[r.randrange(len(ITEMS))]
        who = r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.randint(1, 2)))
        args = ["submit", "--data", data, "--json-out", "--actor", "刘建国", "--role", "agent",
                "--item", code, "--item-name", name, "--applicant", who, "--id-number", id_number(r),
                "--phone", f"1{r.choice('35789')}{r.randint(10**8, 10**9 - 1)}",
                "--address", f"上竹乡{r.choice(PLACES)}{r.randint(1, 120)}号",
                "--fee-due", "0", "--summary", f"{who}申请{name}；{r.choice(NOTES)}"]
        for f in fields(r):
            args += ["--field", f]
        for m in materials:
            args += ["--material", m]
        out = tb.cli_json(*args)
        case = out.get("case")
        if not case:
            raise T.Fail(f"submit #{i}: no case id in {out}")
        cases.append(case)
    say(f"  {n} applications registered offline at {VILLAGE} in {time.monotonic() - t0:.1f} s")
    return cases


def scenario(tb: T.Testbed) -> bool:
    tb.add(COUNTY)
    tb.add(TOWNSHIP, COUNTY, sync=TOWNSHIP_SYNC)
    tb.add(VILLAGE, TOWNSHIP, sync=VILLAGE_SYNC)
    tb.build()
    tb.init()
    applied = tb.shape(VILLAGE, rate_kbit=RATE_KBIT, loss_pct=LOSS_PCT, queue_ms=QUEUE_MS)
    say(f"== network: {COUNTY} <-fast-> {TOWNSHIP} <-{RATE_KBIT} kbit/s, {LOSS_PCT} % loss each way-> "
        f"{VILLAGE}, tbf queue {QUEUE_MS} ms   (namespaces {tb.prefix}*, work {tb.work})")
    say(f"   shaping applied: {applied}; netem in this kernel: "
        f"{'yes' if tb.netem_available() else 'NO (no latency emulation; tbf queueing only)'}")
    say(f"   village [sync]: {VILLAGE_SYNC}")

    say(f"== registering {APPS} applications at the village, daemon not running")
    cases = submit_offline(tb, APPS)
    v_events = {e["id"] for e in case_events(tb, VILLAGE)}
    say(f"  village store: {len(v_events)} events")

    say("== starting county and township")
    tb.start(COUNTY)
    tb.start(TOWNSHIP)
    wait_link_up(tb, TOWNSHIP, COUNTY, 30)
    c0 = tb.counters(VILLAGE)
    d0 = tb.loss_drops(VILLAGE)

    say(f"== starting the village daemon; clock runs until the county holds all {len(v_events)}")
    t0 = time.monotonic()
    tb.start(VILLAGE)
    last_print = t0
    county_n = 0
    t_up = None
    while True:
        tb.check_alive()
        now = time.monotonic()
        if t_up is None and link_of(tb.status(VILLAGE), TOWNSHIP).get("state") == "up":
            t_up = now - t0
        county_n = len(case_events(tb, COUNTY))
        if county_n >= len(v_events):
            break
        if now - last_print >= 15:
            vs = tb.status(VILLAGE)
            ln = link_of(vs, TOWNSHIP)
            c = tb.counters(VILLAGE)
            say(f"  +{now - t0:5.0f} s  county {county_n}/{len(v_events)}  village link {ln.get('state')} "
                f"sent {ln.get('bytes_sent')} B in {ln.get('batches_sent')} batches, acked lsn "
                f"{ln.get('acked_lsn')}, unacked {ln.get('unacked_events')}; veth tx "
                f"{c['tx_bytes'] - c0['tx_bytes']} B")
            last_print = now
        if now - t0 > LIMIT_S:
            raise T.Fail(f"county holds {county_n} of {len(v_events)} events after {LIMIT_S:.0f} s")
        time.sleep(0.25)
    took = time.monotonic() - t0
    c1 = tb.counters(VILLAGE)
    d1 = tb.loss_drops(VILLAGE)
    vs = tb.status(VILLAGE)
    ln = link_of(vs, TOWNSHIP)

    up_bytes = c1["tx_bytes"] - c0["tx_bytes"]
    down_bytes = c1["rx_bytes"] - c0["rx_bytes"]
    bound = up_bytes * 8 / (RATE_KBIT * 1000) / (1 - LOSS_PCT / 100)
    ratio = took / bound if bound > 0 else float("inf")

    say("== convergence: every node holds exactly the village's events, once")
    problems = []
    for code in (VILLAGE, TOWNSHIP, COUNTY):
        evs = case_events(tb, code)
        ids = [e["id"] for e in evs]
        if len(ids) != len(set(ids)):
            problems.append(f"{code} holds {len(ids) - len(set(ids))} events twice")
        if set(ids) != v_events:
            problems.append(f"{code}: {len(v_events - set(ids))} missing, {len(set(ids) - v_events)} extra")
        say(f"  {code}: {len(ids)} events, {len(set(ids))} distinct")
    case_set = set(cases)
    county_cases = {e.get("case") for e in tb.events(COUNTY)}
    if not case_set <= county_cases:
        problems.append(f"county lacks {len(case_set - county_cases)} of the {len(case_set)} cases")

    say("== figures")
    say(f"  applications                 {APPS} ({len(v_events)} events)")
    say(f"  time to county               {took:.1f} s (from `liandong run` at the village; its link "
        f"was up after {t_up if t_up is not None else float('nan'):.1f} s)")
    say(f"  bytes up the village veth    {up_bytes} B in {c1['tx_packets'] - c0['tx_packets']} packets "
        f"(L2, incl. TCP/IP, CurveZMQ, retransmissions)")
    say(f"  bytes down the village veth  {down_bytes} B in {c1['rx_packets'] - c0['rx_packets']} packets "
        f"(acks, heartbeats, TCP acks)")
    say(f"  daemon's view (village→{TOWNSHIP}): {ln.get('bytes_sent')} B of messages in "
        f"{ln.get('batches_sent')} batches; received {ln.get('bytes_received')} B")
    say(f"  packets dropped by the loss rules: up {d1['up'] - d0['up']}, down {d1['down'] - d0['down']}")
    say(f"  link-capacity bound          {up_bytes} B x 8 / {RATE_KBIT * 1000} bit/s / "
        f"(1 - {LOSS_PCT / 100:.2f}) = {bound:.1f} s")
    say(f"  ratio measured / bound       {ratio:.2f} (pass at <= {RATIO_MAX})")
    if up_bytes:
        say(f"  per application on the wire  {up_bytes / APPS:.0f} B up; goodput "
            f"{up_bytes * 8 / took / 1000:.1f} kbit/s of {RATE_KBIT}")
    say("  qdiscs at the end:")
    for line in tb.qdisc_stats(VILLAGE).splitlines():
        say("    " + line)

    say("== what the daemons logged about the slow link (resends, timeouts, links down, errors)")
    any_lines = False
    for code in (VILLAGE, TOWNSHIP):
        for line in tb.grep_log(code, "no ack", "down", "did not answer", "resend", "error", "warn",
                                "refused", "unreadable"):
            say(f"  {code}: {line}")
            any_lines = True
    if not any_lines:
        say("  (nothing: no resend, no timeout, no link loss)")

    say("== stopping (SIGTERM, exit status 0 expected), then `store check`")
    for code in (VILLAGE, TOWNSHIP, COUNTY):
        rc = tb.stop(code)
        if rc != 0:
            problems.append(f"{code}: exit status {rc} after SIGTERM")
        r = tb.cli("store", "check", "--data", tb.nodes[code].data, check=False)
        say(f"  {code}: exit {rc}; store check: {(r.stdout or r.stderr).strip()}")
        if r.returncode != 0:
            problems.append(f"{code}: store check failed")

    if ratio > RATIO_MAX:
        problems.append(f"took {took:.1f} s, {ratio:.2f} x the link-capacity bound {bound:.1f} s "
                        f"(allowed {RATIO_MAX} x)")
    if problems:
        for p in problems:
            say(f"FAIL: {p}")
        return False
    say(f"slow link ok: {APPS} applications over {RATE_KBIT} kbit/s with {LOSS_PCT} % loss in {took:.1f} s, "
        f"{ratio:.2f} x the capacity bound")
    return True


def main() -> int:
    return T.run_fault_test(__doc__, scenario)


if __name__ == "__main__":
    sys.exit(main())
