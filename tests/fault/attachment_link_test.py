#!/usr/bin/env python3
"""Fault test: three 400 KB scans over a slow, lossy village link that is cut
every 20 s, with the township killed mid-transfer (DESIGN.md §4.6).

County 360723, township 360723101 and village 360723101007, one network
namespace each (deploy/testbed/testbed.py). The village<->township veth is
shaped as in slow_link_test.py: tbf at 64 kbit/s on both ends and nftables
dropping 10 % of the packets in each direction; the township<->county link
is fast. The village's only upstream is the township, so every chunk goes
through it.

With all three daemons running, one application (低保, MZ-DB-003) with three
400,000-byte PDF scans is submitted at the village. A cutter thread then cuts
the village link for 5 s every 20 s: an nftables `drop` of every packet on
the ingress of both ends, not `ip link set down` -- the veth, its addresses,
routes and tbf queue stay, so to both TCP stacks a cut is a radio dropout
(packets vanish, no local error) and the connection lives on to resume by
retransmission; link-down would flush the routes and the qdisc and make
sends fail locally. Once the township holds chunks of a second file (and
the county does not yet hold all three), the township daemon is SIGKILLed
and restarted 5 s later.

It passes if
  - the case is at the county before any of its files is whole there
    (events go first);
  - all three files become whole at the county, and `attachment get` there
    gives back the original bytes (sha256);
  - the bytes up the village's veth stay within a bound that only a pull
    resumed from the chunks held meets (see `byte_bound`): payload, framing
    and TCP/IP overhead, the packets the loss and cut rules dropped (each
    costs TCP one resend), heartbeats, one chunk per cut (the one in
    flight) and two per township restart (the two asked of the village);
  - the village served at most 21 + cuts + 2 x restarts chunks (7 per
    file): no chunk sent twice in a cut beyond the one in flight;
  - the village eventually shows each file held at the county (custody);
  - every daemon stops cleanly and every store checks.
All figures are printed (bytes measured vs bound, time, cuts, goodput).

Needs root; otherwise exits 77 (ctest: skipped).
Usage: attachment_link_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                                "testbed"))
import testbed as T  # noqa: E402
from testbed import link_of, say  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"
RATE_KBIT = 64
LOSS_PCT = 10
QUEUE_MS = 2000                     # the tbf queue slow_link_test.py uses (a modem's buffer)
SCAN_BYTES = 400_000
MATERIALS = ["居民身份证", "户口簿", "低保申请书"]
CHUNK = 64 * 1024
CHUNKS_PER_FILE = -(-SCAN_BYTES // CHUNK)         # 7
CUT_EVERY_S = 20.0
CUT_FOR_S = 5.0
KILL_DOWN_S = 5.0
LIMIT_S = float(os.environ.get("LIANDONG_FAULT_LIMIT_S", "480"))   # bound on the transfer
CUSTODY_LIMIT_S = 45.0
MAX_CUTS = int(LIMIT_S // CUT_EVERY_S) + 3

# Wire accounting for the bound (all generous).
ETH_IP_TCP_RATIO = 1514 / 1448     # a full segment: 1448 B of payload (MSS with timestamps) in a 1514 B frame
FULL_FRAME = 1514                  # what one dropped packet may cost TCP to send again
CHUNK_FRAMING = 512                # per Chunk message: two hashes, Cap'n Proto, ZeroMQ, CurveZMQ
EVENTS_ALLOWANCE = 32 * 1024       # the application's event batch, audit records, requests' acks
IDLE_BYTES_PER_S = 120             # heartbeats each way, their TCP acks, custody queries
SLACK = 16 * 1024

VILLAGE_SYNC = {                   # as slow_link_test.py: a 5 s cut is not a dead peer
    "batch_max_events": 64,
    "batch_max_bytes": 16384,
    "window_bytes": 16384,
    "heartbeat_ms": 5000,
    "peer_timeout_ms": 60000,
    "ack_timeout_ms": 30000,
    "redial_min_ms": 1000,
    "redial_max_ms": 30000,
}
TOWNSHIP_SYNC = {
    "heartbeat_ms": 5000,
    "peer_timeout_ms": 60000,
    "ack_timeout_ms": 30000,
    "redial_min_ms": 500,
    "redial_max_ms": 5000,
}


def pdf_scan(size: int, seed: int) -> bytes:
    """A PDF of exactly `size` bytes whose 64 KiB chunks all differ (stored
    as it is: no image reduction)."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF"
    body = random.Random(seed).randbytes(size - len(head) - len(tail))
    return head + body + tail


class Cutter:
    """Cuts the village link for CUT_FOR_S every CUT_EVERY_S (the first cut
    CUT_EVERY_S after start) with an nftables drop-all on the ingress of
    both ends, at most MAX_CUTS times; counts the packets each end dropped.
    Its own thread; stop() heals the link and joins."""

    def __init__(self, tb: T.Testbed, child: str):
        self.tb = tb
        self.ends = tb._ends(child)       # [(child ns, uplink), (parent ns, c<n>)]
        self.cuts: list[tuple[float, float]] = []     # (start, end), monotonic
        self.dropped = {"up": 0, "down": 0}           # packets into the parent / into the child
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._cut = False
        self._thread = threading.Thread(target=self._run, name="cutter", daemon=True)

    @staticmethod
    def table(dev: str) -> str:
        return f"ldtb_cut_{dev}"

    def start(self) -> None:
        self._thread.start()

    def _cut_now(self) -> None:
        for ns, dev in self.ends:
            # Priority -10: before the loss rule (priority 0), so a packet
            # dropped in a cut is counted here only.
            rules = (f'table netdev {self.table(dev)} {{\n'
                     f'  chain cut {{ type filter hook ingress device "{dev}" priority -10;\n'
                     f'    counter drop; }}\n}}\n')
            T.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input_text=rules)
        self._cut = True

    def _heal_now(self) -> None:
        for (ns, dev), key in zip(self.ends, ("down", "up")):
            r = T.run(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "netdev",
                       self.table(dev)], check=False, quiet=True)
            if r.returncode == 0:
                for item in json.loads(r.stdout).get("nftables", []):
                    for e in item.get("rule", {}).get("expr", []):
                        if "counter" in e:
                            self.dropped[key] += e["counter"]["packets"]
            T.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "netdev", self.table(dev)],
                  check=False, quiet=True)
        self._cut = False

    def _run(self) -> None:
        t0 = time.monotonic()
        try:
            for i in range(MAX_CUTS):
                if self._stop.wait(max(0.0, t0 + (i + 1) * CUT_EVERY_S - time.monotonic())):
                    return
                start = time.monotonic()
                self._cut_now()
                stopped = self._stop.wait(CUT_FOR_S)
                self._heal_now()
                self.cuts.append((start, time.monotonic()))
                if stopped:
                    return
        except T.Fail as e:
            self.errors.append(str(e))
        finally:
            if self._cut:
                self._heal_now()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._thread.is_alive():
            self.errors.append("the cutter thread did not stop within 30 s")


def files_at(tb: T.Testbed, code: str, case: str) -> list[dict]:
    """The case's files at `code` (`attachment list --json`); [] while the
    case is not there."""
    r = tb.cli("attachment", "list", case, "--data", tb.nodes[code].data, "--json", check=False,
               quiet=True, timeout=20)
    if r.returncode != 0:
        return []
    try:
        return json.loads(r.stdout).get("files", [])
    except json.JSONDecodeError:
        return []


def case_at(tb: T.Testbed, code: str, case: str) -> bool:
    r = tb.cli("case", "show", case, "--data", tb.nodes[code].data, "--json", check=False, quiet=True,
               timeout=20)
    return r.returncode == 0


def tcp_state(tb: T.Testbed) -> dict[str, float]:
    """rto (ms), backoff, retransmits of the village's connection to the
    township, from `ss -tin` in the village namespace ({} if none)."""
    r = T.run(["ip", "netns", "exec", tb.nodes[VILLAGE].ns, "ss", "-tin", "dst",
               tb.addr(VILLAGE, "parent")], check=False, quiet=True)
    out = {}
    for word in r.stdout.split():
        k, _, v = word.partition(":")
        if k in ("rto", "backoff", "cwnd", "unacked") and v.replace(".", "", 1).isdigit():
            out[k] = max(out.get(k, 0.0), float(v))
        elif k == "retrans" and "/" in v:
            out["retrans_total"] = out.get("retrans_total", 0.0) + float(v.split("/")[1])
    return out


def wait_link_up(tb: T.Testbed, code: str, peer: str, limit: float) -> None:
    tb.wait_until(f"{code}'s link to {peer} up", limit,
                  lambda: None if link_of(tb.status(code), peer).get("state") == "up"
                  else f"{code}: {tb.status(code).get('links')}")


def byte_bound(elapsed: float, events: int, drops_up: int, cuts: int, restarts: int) -> dict:
    """The most the village may send up for the transfer, piece by piece.
    A pull that restarted a file from its first chunk after a cut would
    have to send more than the in-flight allowance per cut: with 20 s
    between cuts at 8,000 B/s, fewer than 3 of a file's 7 chunks pass
    between two cuts, so it would never finish at all."""
    chunks = len(MATERIALS) * CHUNKS_PER_FILE
    parts = {
        "payload": len(MATERIALS) * SCAN_BYTES,
        "framing": chunks * CHUNK_FRAMING,
        "events": EVENTS_ALLOWANCE,
        "idle": int(IDLE_BYTES_PER_S * elapsed),
    }
    app = sum(parts.values())
    parts["tcp/ip"] = int(app * (ETH_IP_TCP_RATIO - 1))
    parts["dropped"] = drops_up * FULL_FRAME
    parts["in_flight"] = int((cuts + 2 * restarts) * (CHUNK + CHUNK_FRAMING) * ETH_IP_TCP_RATIO)
    parts["slack"] = SLACK
    parts["total"] = sum(parts.values())
    return parts


def scenario(tb: T.Testbed) -> bool:
    tb.add(COUNTY)
    tb.add(TOWNSHIP, COUNTY, sync=TOWNSHIP_SYNC)
    tb.add(VILLAGE, TOWNSHIP, sync=VILLAGE_SYNC)
    tb.build()
    tb.init()
    applied = tb.shape(VILLAGE, rate_kbit=RATE_KBIT, loss_pct=LOSS_PCT, queue_ms=QUEUE_MS)
    say(f"== network: {COUNTY} <-fast-> {TOWNSHIP} <-{RATE_KBIT} kbit/s, {LOSS_PCT} % loss each way, "
        f"cut {CUT_FOR_S:.0f} s every {CUT_EVERY_S:.0f} s-> {VILLAGE}, tbf queue {QUEUE_MS} ms "
        f"(namespaces {tb.prefix}*, work {tb.work})")
    say(f"   shaping applied: {applied}; village [sync]: {VILLAGE_SYNC}")

    scans = {m: pdf_scan(SCAN_BYTES, 1000 + i) for i, m in enumerate(MATERIALS)}
    sha = {m: hashlib.sha256(b).hexdigest() for m, b in scans.items()}
    scan_dir = os.path.join(tb.work, "scans")
    os.makedirs(scan_dir, exist_ok=True)
    for m, b in scans.items():
        with open(os.path.join(scan_dir, m + ".pdf"), "wb") as f:
            f.write(b)

    say("== starting county, township, village")
    for code in (COUNTY, TOWNSHIP, VILLAGE):
        tb.start(code)
    wait_link_up(tb, TOWNSHIP, COUNTY, 30)
    wait_link_up(tb, VILLAGE, TOWNSHIP, 60)
    c0 = tb.counters(VILLAGE)
    d0 = tb.loss_drops(VILLAGE)

    cutter = Cutter(tb, VILLAGE)
    problems: list[str] = []
    t0 = time.monotonic()
    cutter.start()
    try:
        args = ["submit", "--data", tb.nodes[VILLAGE].data, "--json-out", "--actor", "王小红",
                "--item", "MZ-DB-003", "--applicant", "赵桂英", "--id-number", T.resident_id("36072319650315122")]
        for m in MATERIALS:
            args += ["--material", m, "--attach", f"{m}={os.path.join(scan_dir, m + '.pdf')}"]
        out = tb.cli_json(*args)
        case = out.get("case")
        if not case or out.get("files") != len(MATERIALS):
            raise T.Fail(f"submit: expected a case with {len(MATERIALS)} files, got {out}")
        say(f"== submitted {case} with {len(MATERIALS)} scans of {SCAN_BYTES} B at the village "
            f"({time.monotonic() - t0:.1f} s)")

        t_case = None                   # the case at the county
        t_whole: dict[str, float] = {}  # sha256 -> whole at the county
        t_town_first = None             # the township holds a first chunk
        killed_at = None
        restarts = 0
        last_print = t0
        tcp_log = open(os.path.join(tb.work, "tcp-village.log"), "w", encoding="utf-8")
        tcp_max: dict[str, float] = {}
        while True:
            tb.check_alive()
            now = time.monotonic()
            if now - t0 > LIMIT_S:
                raise T.Fail(f"the county holds {len(t_whole)} of {len(MATERIALS)} files whole after "
                             f"{LIMIT_S:.0f} s: {files_at(tb, COUNTY, case)}")
            if t_case is None and case_at(tb, COUNTY, case):
                t_case = now - t0
                say(f"  +{t_case:5.1f} s  the case is at the county")
            county = files_at(tb, COUNTY, case)
            for f in county:
                if f.get("whole") and f["sha256"] not in t_whole:
                    t_whole[f["sha256"]] = now - t0
                    say(f"  +{now - t0:5.1f} s  {f.get('material')} whole at the county")
            if len(t_whole) == len(MATERIALS):
                break
            if killed_at is None:
                town = files_at(tb, TOWNSHIP, case)
                started = [f for f in town if f.get("chunks_held", 0) > 0]
                if t_town_first is None and started:
                    t_town_first = now - t0
                if len(started) >= 2:
                    held = sum(f.get("chunks_held", 0) for f in town)
                    say(f"  +{now - t0:5.1f} s  the township holds {held} chunks, of {len(started)} "
                        f"files: SIGKILL")
                    tb.kill9(TOWNSHIP)
                    killed_at = time.monotonic()
            elif restarts == 0 and time.monotonic() - killed_at >= KILL_DOWN_S:
                tb.start(TOWNSHIP)
                restarts = 1
                say(f"  +{time.monotonic() - t0:5.1f} s  the township restarted")
            ts_ = tcp_state(tb)
            tcp_log.write(f"+{now - t0:.1f} cut={cutter._cut} {ts_}\n")
            for k in ("rto", "backoff"):
                tcp_max[k] = max(tcp_max.get(k, 0.0), ts_.get(k, 0.0))
            if now - last_print >= 20:
                held = sum(f.get("chunks_held", 0) for f in county)
                c = tb.counters(VILLAGE)
                say(f"  +{now - t0:5.0f} s  county holds {held} chunks; veth tx "
                    f"{c['tx_bytes'] - c0['tx_bytes']} B; cuts {len(cutter.cuts)}")
                last_print = now
            time.sleep(0.5)
        took = time.monotonic() - t0
        tcp_log.close()
        c1 = tb.counters(VILLAGE)
        d1 = tb.loss_drops(VILLAGE)
        vs = tb.status(VILLAGE)
        ts = tb.status(TOWNSHIP)
        ncuts = len(cutter.cuts) + (1 if cutter._cut else 0)
        cut_drops = dict(cutter.dropped)

        say("== the files at the county, byte for byte")
        for f in files_at(tb, COUNTY, case):
            out_path = os.path.join(tb.work, "got-" + f["sha256"])
            tb.cli("attachment", "get", case, f["sha256"][:12], "--data", tb.nodes[COUNTY].data,
                   "--out", out_path)
            with open(out_path, "rb") as fh:
                got = hashlib.sha256(fh.read()).hexdigest()
            want = sha.get(f.get("material"), "")
            say(f"  {f.get('material')}: {f.get('size')} B, sha256 {got[:16]}… "
                f"{'= original' if got == want else '!= original ' + want[:16]}")
            if got != want:
                problems.append(f"{f.get('material')}: the county's copy differs from the original")
        if sorted(f["sha256"] for f in files_at(tb, COUNTY, case)) != sorted(sha.values()):
            problems.append("the county's files are not the three scans")

        say(f"== custody: the village learns that the county holds each file (<= {CUSTODY_LIMIT_S:.0f} s)")
        t_custody = tb.wait_until(
            "every file held at the county, as the village sees it", CUSTODY_LIMIT_S,
            lambda: None if all("county" in f.get("held_at", []) for f in files_at(tb, VILLAGE, case))
            and len(files_at(tb, VILLAGE, case)) == len(MATERIALS)
            else f"{[(f.get('material'), f.get('held_at')) for f in files_at(tb, VILLAGE, case)]}")
        say(f"  held_at includes county at the village {t_custody:.1f} s after the last file was whole")
    finally:
        cutter.stop()
    problems += [f"cutter: {e}" for e in cutter.errors]

    va = vs.get("attachments", {})
    ta = ts.get("attachments", {})
    ln = link_of(vs, TOWNSHIP)
    up_bytes = c1["tx_bytes"] - c0["tx_bytes"]
    down_bytes = c1["rx_bytes"] - c0["rx_bytes"]
    loss_up = d1["up"] - d0["up"]
    drops_up = loss_up + cut_drops["up"]
    bound = byte_bound(took, 1, drops_up, ncuts, restarts)
    payload = len(MATERIALS) * SCAN_BYTES
    first_whole = min(t_whole.values())
    chunks_max = len(MATERIALS) * CHUNKS_PER_FILE + ncuts + 2 * restarts
    link_s = took - ncuts * CUT_FOR_S

    say("== figures")
    say(f"  case at the county             +{t_case if t_case is not None else float('nan'):.1f} s; "
        f"first file whole there +{first_whole:.1f} s, last +{max(t_whole.values()):.1f} s")
    say(f"  township's first chunk         +{t_town_first if t_town_first is not None else float('nan'):.1f} s")
    say(f"  cuts                           {ncuts} x {CUT_FOR_S:.0f} s; township restarts {restarts}")
    say(f"  bytes up the village veth      {up_bytes} B in {c1['tx_packets'] - c0['tx_packets']} packets; "
        f"down {down_bytes} B")
    say(f"  packets dropped going up       {loss_up} by the 10 % loss, {cut_drops['up']} in cuts "
        f"(down: {d1['down'] - d0['down']} + {cut_drops['down']})")
    say("  bound                          " + ", ".join(f"{k} {v}" for k, v in bound.items()))
    say(f"  measured / bound               {up_bytes} / {bound['total']} = {up_bytes / bound['total']:.2f}")
    say(f"  beyond one clean pass          {up_bytes - int((payload + bound['framing']) * ETH_IP_TCP_RATIO)} B "
        f"(the loss and cut resends, events, heartbeats, in-flight chunks)")
    say(f"  village chunks_out             {va.get('chunks_out')} (at most {chunks_max}); bytes_out "
        f"{va.get('bytes_out')}; township chunks_in {ta.get('chunks_in')} since its restart, "
        f"refused {ta.get('refused')}")
    say(f"  daemon's view (village→{TOWNSHIP}) sent {ln.get('bytes_sent')} B, received "
        f"{ln.get('bytes_received')} B")
    say(f"  time                           {took:.1f} s from submit to the last file whole at the county")
    say(f"  goodput                        {payload / took:.0f} B/s over the whole time; "
        f"{payload / max(1.0, link_s):.0f} B/s over the {link_s:.0f} s the link was not cut "
        f"(link: {RATE_KBIT * 1000 // 8} B/s)")
    say(f"  village TCP (ss -tin)          largest rto {tcp_max.get('rto', 0):.0f} ms, largest backoff "
        f"{tcp_max.get('backoff', 0):.0f} (samples in {tb.work}/tcp-village.log)")
    say("  qdiscs at the end:")
    for line in tb.qdisc_stats(VILLAGE).splitlines():
        say("    " + line)
    say("== what the daemons logged about chunks and the link")
    for code in (VILLAGE, TOWNSHIP, COUNTY):
        for line in tb.grep_log(code, "chunk", "attachment", "down", "did not answer", "error", "warn",
                                "refused", limit=25):
            say(f"  {code}: {line}")

    if t_case is None or t_case > first_whole:
        problems.append(f"the case reached the county at +{t_case} s, after a file was whole there "
                        f"(+{first_whole:.1f} s)")
    if restarts != 1:
        problems.append("the township was not killed and restarted mid-transfer")
    if up_bytes > bound["total"]:
        problems.append(f"{up_bytes} B went up the village veth, more than the bound {bound['total']} B")
    if va.get("chunks_out", 10**9) > chunks_max:
        problems.append(f"the village served {va.get('chunks_out')} chunks, more than {chunks_max}")
    for code in (VILLAGE, TOWNSHIP, COUNTY):
        if tb.status(code).get("attachments", {}).get("refused", 0):
            problems.append(f"{code} refused chunks")

    if not T.stop_and_check(tb, (VILLAGE, TOWNSHIP, COUNTY)):
        problems.append("a daemon did not stop cleanly or a store check failed")
    if problems:
        for p in problems:
            say(f"FAIL: {p}")
        return False
    say(f"attachment link ok: {len(MATERIALS)} x {SCAN_BYTES} B over {RATE_KBIT} kbit/s, {LOSS_PCT} % loss, "
        f"{ncuts} cuts and a township SIGKILL in {took:.1f} s; {up_bytes} B up, bound {bound['total']} B")
    return True


def main() -> int:
    return T.run_fault_test(__doc__, scenario)


if __name__ == "__main__":
    sys.exit(main())
