#!/usr/bin/env python3
"""Damaged stores are reported, never crash the checker.

Real stores first: a county 360723 and its township 360723101, two daemons
syncing over loopback; the township registers applications (the county
acknowledges them) and the county a few of its own. Both stop. Then, on
copies of those data.mdb files:

1. Altered signed events: the applicant's name is changed inside chosen
   stored events (every copy of those bytes in the file, so the live one
   surely). Plain `store check` may well agree (the cached case states were
   changed alike); `store check --deep` must exit non-zero and name every
   altered event, saying for each whether a neighbour can send it again
   (the township's own events that the county acknowledged; at the county,
   the township's events) or only this node held it.
2. Random damage, seeded and reproducible: LIANDONG_DAMAGE_CASES copies
   (default 600), each cut short at a random length, given one flipped bit,
   or one zeroed page. For each, the real `liandong store check --deep`
   runs as a subprocess: it must never end by a signal; it either exits
   non-zero reporting the damage, or exits 0 with the log's digest unchanged
   (damage it can tolerate: free pages, slack). For cut-short copies,
   `liandong case list` must fail with one line too, not SIGBUS.
   LIANDONG_DAMAGE_SEED picks the seed (default 12); a failing case prints
   the seed, index and damage to replay it.

Usage: damage_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import Fail, main_with, say  # noqa: E402

COUNTY, TOWNSHIP = "360723", "360723101"
CASES = int(os.environ.get("LIANDONG_DAMAGE_CASES", "600"))
SEED = int(os.environ.get("LIANDONG_DAMAGE_SEED", "12"))
PAGE = 4096


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keys(b, data: str) -> dict:
    return json.loads(b.ok("keys", "show", "--data", data, "--json"))


def make_stores(b) -> tuple[str, str, dict]:
    """Returns (county data, township data, applicant -> (event id, origin))."""
    county, township = b.init(COUNTY, "county"), b.init(TOWNSHIP, "township")
    kc, kt = keys(b, county), keys(b, township)
    port = free_port()
    sync = "\n[sync]\nheartbeat_ms = 300\nack_timeout_ms = 1000\nredial_min_ms = 100\nredial_max_ms = 500\n"
    cconf, tconf = county + ".toml", township + ".toml"
    with open(cconf, "w", encoding="utf-8") as f:
        f.write(f'[node]\ncode = "{COUNTY}"\ndata = "{county}"\nlog_level = "info"\n'
                f'\n[listen]\nendpoint = "tcp://127.0.0.1:{port}"\n'
                f'\n[[child]]\ncode = "{TOWNSHIP}"\ncurve_key = "{kt["curve_key"]}"\n'
                f'sign_key = "{kt["sign_key"]}"\n' + sync)
    with open(tconf, "w", encoding="utf-8") as f:
        f.write(f'[node]\ncode = "{TOWNSHIP}"\ndata = "{township}"\nlog_level = "info"\n'
                f'\n[[upstream]]\ncode = "{COUNTY}"\nendpoint = "tcp://127.0.0.1:{port}"\n'
                f'curve_key = "{kc["curve_key"]}"\nsign_key = "{kc["sign_key"]}"\n' + sync)
    pc = b.start(cconf, county, os.path.join(b.dir, "county.log"))
    pt = b.start(tconf, township, os.path.join(b.dir, "township.log"))
    who: dict[str, tuple[str, str]] = {}
    for i in range(24):
        name = f"乡民{i:04d}"
        who[name] = (b.submit(township, name), TOWNSHIP)
    for i in range(6):
        name = f"县民{i:04d}"
        who[name] = (b.submit(county, name), COUNTY)
    want = {cid for cid, origin in who.values() if origin == TOWNSHIP}
    deadline = time.monotonic() + 60
    while True:
        at_county = {e["id"] for e in b.events(county)}
        link = next((l for l in json.loads(b.ok("status", "--data", township, "--json"))
                     .get("links", []) if l.get("peer") == COUNTY), {})
        if want <= at_county and link.get("unacked_events") == 0:
            break
        if time.monotonic() > deadline:
            raise Fail(f"the county holds {len(want & at_county)}/{len(want)} township events, "
                       f"link {link} after 60 s")
        time.sleep(0.2)
    for p in (pt, pc):
        if b.stop(p) != 0:
            raise Fail("a daemon did not stop cleanly")
    for d in (county, township):
        b.ok("store", "check", "--deep", "--data", d)
    return county, township, who


def scratch_of(b, data: str, name: str) -> str:
    """A copy of the data directory (keys included) to damage."""
    out = os.path.join(b.dir, name)
    shutil.copytree(data, out, ignore=shutil.ignore_patterns("lock.mdb", "daemon.lock",
                                                             "control.sock"))
    return out


def deep(b, data: str):
    return b.cli("store", "check", "--deep", "--data", data, timeout=120)


def digest_of(out: str) -> str | None:
    m = re.search(r"log digest ([0-9a-f]{64})", out)
    return m.group(1) if m else None


def altered_events(b, data: str, who: dict, names: list[str], expect_how: dict) -> None:
    path = os.path.join(data, "store", "data.mdb")
    raw = bytearray(open(path, "rb").read())
    for name in names:
        old = name.encode()
        new = name.replace("民", "名").encode()  # same length in UTF-8
        if raw.count(old) == 0:
            raise Fail(f"{name} is not in {path}")
        raw[:] = raw.replace(old, new)
    open(path, "wb").write(raw)
    r = deep(b, data)
    if r.returncode <= 0:
        raise Fail(f"store check --deep exit {r.returncode} on altered events: {r.stdout}{r.stderr}")
    for name in names:
        cid, _origin = who[name]
        line = next((l for l in r.stdout.splitlines() if f"事件 {cid} " in l), None)
        if line is None:
            raise Fail(f"store check --deep does not name altered event {cid} ({name}):\n{r.stdout}")
        lines = r.stdout.splitlines()
        how = lines[lines.index(line) + 1]
        if expect_how[name] not in how:
            raise Fail(f"for {cid} it says '{how.strip()}', want '{expect_how[name]}'")
    say(f"  {len(names)} altered events named with how to get them again; exit {r.returncode}")


def damage(raw: bytes, rng: random.Random) -> tuple[bytes, str, bool]:
    """One random damage: (bytes, description, cut short)."""
    kind = rng.randrange(3)
    if kind == 0:
        n = rng.randrange(len(raw))
        return raw[:n], f"truncate to {n}", True
    if kind == 1:
        at, bit = rng.randrange(len(raw)), rng.randrange(8)
        b = bytearray(raw)
        b[at] ^= 1 << bit
        return bytes(b), f"flip bit {bit} of byte {at}", False
    page = rng.randrange(len(raw) // PAGE)
    b = bytearray(raw)
    b[page * PAGE:(page + 1) * PAGE] = bytes(PAGE)
    return bytes(b), f"zero page {page}", False


def random_damage(b, base: str) -> None:
    path = os.path.join(base, "store", "data.mdb")
    raw = open(path, "rb").read()
    good = deep(b, base)
    want = digest_of(good.stdout)
    if good.returncode != 0 or want is None:
        raise Fail(f"the undamaged copy does not check: {good.stdout}{good.stderr}")
    rng = random.Random(SEED)
    counts = {"detected": 0, "tolerated": 0}
    failures = []
    t0 = time.monotonic()
    for i in range(CASES):
        bad, what, cut = damage(raw, rng)
        for f in ("data.mdb", "lock.mdb", "full"):
            try:
                os.unlink(os.path.join(base, "store", f))
            except FileNotFoundError:
                pass
        with open(path, "wb") as f:
            f.write(bad)
        r = deep(b, base)
        problem = None
        if r.returncode < 0:
            problem = f"store check died by signal {-r.returncode}"
        elif r.returncode == 0:
            if digest_of(r.stdout) != want:
                problem = f"store check says ok but the log differs: {r.stdout.strip()}"
            else:
                counts["tolerated"] += 1
        elif "存储损坏" not in r.stdout + r.stderr:
            problem = f"exit {r.returncode} without findings: {r.stdout}{r.stderr}"
        else:
            counts["detected"] += 1
        if problem is None and cut:
            c = b.cli("case", "list", "--data", base)
            if c.returncode < 0:
                problem = f"case list died by signal {-c.returncode}"
            elif c.returncode != 0 and len(c.stderr.strip().splitlines()) != 1:
                problem = f"case list did not fail with one line: {c.stderr!r}"
        if problem:
            failures.append(f"seed {SEED} case {i} ({what}): {problem}")
            if len(failures) >= 10:
                break
    took = time.monotonic() - t0
    say(f"  {CASES} damaged copies (seed {SEED}) in {took:.1f} s: {counts['detected']} reported, "
        f"{counts['tolerated']} tolerated (log unchanged), {len(failures)} failures")
    if failures:
        raise Fail("\n".join(failures))


def test(b) -> None:
    say("== real stores: a township syncing with its county")
    county, township, who = make_stores(b)
    say("== altered signed events")
    t_names = [n for n, (_c, o) in who.items() if o == TOWNSHIP][3:8]
    altered_events(b, scratch_of(b, township, "t-altered"), who, t_names,
                   {n: f"可从上级 {COUNTY} 重新获取" for n in t_names})
    c_names = [n for n, (_c, o) in who.items() if o == TOWNSHIP][10:13] + \
        [n for n, (_c, o) in who.items() if o == COUNTY][1:3]
    altered_events(b, scratch_of(b, county, "c-altered"), who, c_names,
                   {n: ("可从邻居节点重新获取" if who[n][1] == TOWNSHIP else "仅本机持有")
                    for n in c_names})
    say("== random damage")
    random_damage(b, scratch_of(b, township, "t-random"))
    say("damage ok: every damage reported or tolerated, never a crash")


if __name__ == "__main__":
    sys.exit(main_with(test, __doc__))
