#!/usr/bin/env python3
"""Attachment goodput over a slow, lossy village link (DESIGN.md §4.6).

County 360723, township 360723101 and village 360723101007 in network
namespaces (deploy/testbed/testbed.py); the village<->township veth shaped
as in tests/fault/slow_link_test.py: tbf at 64 kbit/s (8,000 B/s) both ways
with a 2 s queue, nftables dropping 10 % of the packets each way; no cuts.
One application with N scans (PDF, stored as-is) is submitted at the
village; the township pulls the chunks. Sampling the township's
`status --json` every 0.5 s gives

    goodput = attachment bytes received / (time of the last chunk - time of the first)

(both at the township), reported against the link's 8,000 B/s. With
--tcp-baseline it first sends the same number of bytes over a plain TCP
connection on the same link (python sockets in the two namespaces): what
TCP itself gets out of this link, the ceiling for any protocol over it.
While the scans move, `ss -tin` in the village namespace is sampled every
2 s (cwnd, rto, retransmits, send queue) into the work directory.

Needs root (exits 77 without). Takes about (size / 6,000 B/s) + 20 s.
Usage: python3 bench/attachment_goodput.py --bin build/node/liandong
           [--files 6] [--size 400000] [--tcp-baseline] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "testbed"))
import testbed as T  # noqa: E402
from testbed import link_of, say  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"
RATE_KBIT = 64
LINK_BPS = RATE_KBIT * 1000 // 8
LOSS_PCT = 10
QUEUE_MS = 2000
MATERIALS = ["居民身份证", "户口簿", "低保申请书", "收入证明", "残疾证", "病历"]
VILLAGE_SYNC = {"batch_max_events": 64, "batch_max_bytes": 16384, "window_bytes": 16384,
                "heartbeat_ms": 5000, "peer_timeout_ms": 60000, "ack_timeout_ms": 30000,
                "redial_min_ms": 1000, "redial_max_ms": 30000}
TOWNSHIP_SYNC = {"heartbeat_ms": 5000, "peer_timeout_ms": 60000, "ack_timeout_ms": 30000,
                 "redial_min_ms": 500, "redial_max_ms": 5000}
TCP_PORT = 7690

SINK = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(120); n = 0; first = last = None
while True:
    b = c.recv(65536)
    if not b: break
    now = time.monotonic(); first = first or now; last = now; n += len(b)
print(n, last - first if first else 0)
"""
SOURCE = """
import socket, sys
n = int(sys.argv[2]); s = socket.create_connection((sys.argv[1], %d), timeout=60)
s.settimeout(600); s.sendall(bytes(n)); s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
"""


def pdf_scan(size: int, seed: int) -> bytes:
    head, tail = b"%PDF-1.4\n", b"\n%%EOF"
    return head + random.Random(seed).randbytes(size - len(head) - len(tail)) + tail


def tcp_baseline(tb: T.Testbed, nbytes: int, limit_s: float) -> tuple[int, float, int]:
    """Sends nbytes village -> township over plain TCP; returns (bytes the
    sink got, seconds from its first byte to its last, village veth tx)."""
    t = tb.nodes[TOWNSHIP]
    sink = subprocess.Popen(["ip", "netns", "exec", t.ns, sys.executable, "-c", SINK % TCP_PORT],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        c0 = tb.counters(VILLAGE)
        T.run(["ip", "netns", "exec", tb.nodes[VILLAGE].ns, sys.executable, "-c", SOURCE % TCP_PORT,
               tb.addr(VILLAGE, "parent"), str(nbytes)], timeout=limit_s)
        out, err = sink.communicate(timeout=30)
        c1 = tb.counters(VILLAGE)
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.wait()
    got, secs = out.split()
    return int(got), float(secs), c1["tx_bytes"] - c0["tx_bytes"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--files", type=int, default=6, help="scans in the application (at most 6)")
    ap.add_argument("--size", type=int, default=400_000, help="bytes per scan")
    ap.add_argument("--tcp-baseline", action="store_true", help="first measure plain TCP on the link")
    ap.add_argument("--limit-s", type=float, default=900, help="bound on the transfer")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    a.files = max(1, min(a.files, len(MATERIALS)))
    T.require_root()
    tb = T.Testbed(a.bin, keep=a.keep)
    try:
        return run(tb, a)
    except T.Fail as e:
        say(f"FAIL: {e}")
        for code in tb.nodes:
            tb.tail(code, 20)
        return 1
    finally:
        tb.close()


def run(tb: T.Testbed, a) -> int:
    tb.add(COUNTY)
    tb.add(TOWNSHIP, COUNTY, sync=TOWNSHIP_SYNC)
    tb.add(VILLAGE, TOWNSHIP, sync=VILLAGE_SYNC)
    tb.build()
    tb.init()
    tb.shape(VILLAGE, rate_kbit=RATE_KBIT, loss_pct=LOSS_PCT, queue_ms=QUEUE_MS)
    total = a.files * a.size
    say(f"== village link {RATE_KBIT} kbit/s ({LINK_BPS} B/s), {LOSS_PCT} % loss each way, tbf queue "
        f"{QUEUE_MS} ms; {a.files} scans x {a.size} B = {total} B (work {tb.work})")

    base = None
    if a.tcp_baseline:
        got, secs, tx = tcp_baseline(tb, total, a.limit_s)
        base = got / secs if secs > 0 else 0
        say(f"  plain TCP, same link: {got} B in {secs:.1f} s = {base:.0f} B/s "
            f"({100 * base / LINK_BPS:.0f} % of {LINK_BPS}); {tx} B on the village veth")

    scan_dir = os.path.join(tb.work, "scans")
    os.makedirs(scan_dir, exist_ok=True)
    args = ["submit", "--data", tb.nodes[VILLAGE].data, "--json-out", "--actor", "王小红",
            "--item", "MZ-DB-003", "--applicant", "赵桂英", "--id-number", T.resident_id("36072319650315122")]
    for i, m in enumerate(MATERIALS[:a.files]):
        p = os.path.join(scan_dir, m + ".pdf")
        with open(p, "wb") as f:
            f.write(pdf_scan(a.size, 2000 + i))
        args += ["--material", m, "--attach", f"{m}={p}"]

    for code in (COUNTY, TOWNSHIP, VILLAGE):
        tb.start(code)
    tb.wait_until("village link up", 60,
                  lambda: None if link_of(tb.status(VILLAGE), TOWNSHIP).get("state") == "up" else "down")
    c0 = tb.counters(VILLAGE)
    d0 = tb.loss_drops(VILLAGE)
    t0 = time.monotonic()
    case = tb.cli_json(*args)["case"]
    say(f"== submitted {case}; sampling the township every 0.5 s")
    ss_log = open(os.path.join(tb.work, "ss-village.log"), "w", encoding="utf-8")
    samples = []                     # (t, bytes_in, chunks_in)
    first = None
    last_ss = 0.0
    last_print = t0
    while True:
        tb.check_alive()
        now = time.monotonic()
        if now - t0 > a.limit_s:
            raise T.Fail(f"not done after {a.limit_s:.0f} s: {samples[-1] if samples else None}")
        at = tb.status(TOWNSHIP).get("attachments", {})
        samples.append((now - t0, at.get("bytes_in", 0), at.get("chunks_in", 0)))
        if first is None and at.get("bytes_in", 0) > 0:
            first = samples[-1]
        if at.get("bytes_in", 0) >= total:
            break
        if now - last_ss >= 2:
            r = T.run(["ip", "netns", "exec", tb.nodes[VILLAGE].ns, "ss", "-tin", "dst",
                       tb.addr(VILLAGE, "parent")], check=False, quiet=True)
            ss_log.write(f"--- +{now - t0:.1f} s\n{r.stdout}")
            last_ss = now
        if now - last_print >= 30:
            say(f"  +{now - t0:5.0f} s  township holds {at.get('bytes_in')} B in {at.get('chunks_in')} chunks")
            last_print = now
        time.sleep(0.5)
    ss_log.close()
    last = samples[-1]
    c1 = tb.counters(VILLAGE)
    d1 = tb.loss_drops(VILLAGE)
    va = tb.status(VILLAGE).get("attachments", {})
    span = last[0] - first[0]
    goodput = (last[1] - first[1]) / span if span > 0 else 0
    whole = last[1] / last[0]
    up = c1["tx_bytes"] - c0["tx_bytes"]
    say("== figures")
    say(f"  attachment bytes             {last[1]} B in {last[2]} chunks at the township; village served "
        f"{va.get('chunks_out')} chunks")
    say(f"  first chunk → last chunk     {first[0]:.1f} s → {last[0]:.1f} s after submit ({span:.1f} s)")
    say(f"  goodput (first → last)       {goodput:.0f} B/s = {100 * goodput / LINK_BPS:.0f} % of {LINK_BPS} B/s")
    say(f"  goodput (submit → last)      {whole:.0f} B/s = {100 * whole / LINK_BPS:.0f} %")
    if base:
        say(f"  plain TCP on the same link   {base:.0f} B/s = {100 * base / LINK_BPS:.0f} %; attachments "
            f"reach {100 * goodput / base:.0f} % of it")
    say(f"  village veth tx              {up} B ({up / max(1, last[1]):.3f} x the attachment bytes), "
        f"{c1['tx_packets'] - c0['tx_packets']} packets; dropped up by the loss rule "
        f"{d1['up'] - d0['up']}, down {d1['down'] - d0['down']}")
    say(f"  wire rate while moving       {up / max(1e-9, last[0]):.0f} B/s on the village veth")
    say(f"  ss -tin samples              {os.path.join(tb.work, 'ss-village.log')}"
        f"{'' if tb.keep else ' (removed; --keep keeps it)'}")
    for line in tb.grep_log(TOWNSHIP, "chunk", "no ack", "down", limit=20):
        say(f"  {TOWNSHIP}: {line}")
    say(json.dumps({"bench": "attachment_goodput", "bytes": last[1], "seconds": round(span, 1),
                    "goodput_Bps": round(goodput), "link_Bps": LINK_BPS,
                    "tcp_baseline_Bps": round(base) if base else None,
                    "veth_tx_bytes": up}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
