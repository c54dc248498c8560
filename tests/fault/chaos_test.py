#!/usr/bin/env python3
"""Fault test: a few fixed seeds of the chaos runner (deploy/testbed/chaos.py).

Each seed drives county 360723, two townships and six village points (one
network namespace each) through a random fault schedule — submission and
workflow bursts at every level, link loss 0-30 %, bandwidth 32 kbit/s to
10 Mbit/s, partitions, SIGKILL at any instant and restart, clean restarts,
a village's disk filling up and being freed — then heals everything and
checks the invariants of DESIGN.md section 8. About a minute a seed on a
2-core machine; the seeds run one after another, each printed with its
replay command.

  LIANDONG_CHAOS_SEEDS="11,23,42"   seeds to run (default below)
  LIANDONG_CHAOS_DISK=0             no full-disk faults
  LIANDONG_KEEP=1                   keep the work directory of a failed seed

Needs root; otherwise exits 77 (ctest: skipped).
Usage: chaos_test.py --bin build/node/liandong
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
TESTBED = os.path.join(HERE, "..", "..", "deploy", "testbed")
sys.path.insert(0, TESTBED)
import testbed as T  # noqa: E402
from testbed import say  # noqa: E402

# Chosen so that together they hold every kind of step, SIGKILL of the county
# and of a township, and a full disk early in the schedule.
SEEDS = [1111, 1406, 1692, 1869]
SEED_LIMIT_S = 420          # bound on one seed (chaos.py bounds its own waits)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the liandong binary")
    a = ap.parse_args()
    T.require_root()
    seeds = [int(x) for x in os.environ.get("LIANDONG_CHAOS_SEEDS", "").replace(",", " ").split()] or SEEDS
    disk = os.environ.get("LIANDONG_CHAOS_DISK", "1") != "0"
    say(f"chaos test: seeds {', '.join(map(str, seeds))}; disk faults {'on' if disk else 'off'}")
    failed = []
    t_all = time.monotonic()
    for seed in seeds:
        fd, summary = tempfile.mkstemp(prefix="ldtb-chaos-", suffix=".json")
        os.close(fd)
        cmd = [sys.executable, os.path.join(TESTBED, "chaos.py"), "--bin", a.bin, "--seed", str(seed),
               "--summary", summary]
        if not disk:
            cmd.append("--no-disk-faults")
        if os.environ.get("LIANDONG_KEEP") == "1":
            cmd.append("--keep-on-fail")
        say(f"\n==== chaos seed {seed}: {' '.join(cmd[1:])}")
        t0 = time.monotonic()
        try:
            rc = subprocess.run(cmd, timeout=SEED_LIMIT_S).returncode
        except subprocess.TimeoutExpired:
            # chaos.py got SIGKILL: its namespaces are left; remove them.
            rc = -9
            say(f"seed {seed}: no result in {SEED_LIMIT_S} s")
            T.cleanup_leftovers()
        info = {}
        try:
            with open(summary, encoding="utf-8") as f:
                info = json.loads(f.read() or "{}")
        except (OSError, json.JSONDecodeError):
            pass
        os.remove(summary)
        if rc == T.SKIP:
            return T.SKIP
        line = (f"==== seed {seed}: {'pass' if rc == 0 else 'FAIL'} in {time.monotonic() - t0:.0f} s "
                f"({info.get('steps', '?')} steps, {info.get('faults', '?')} faults, "
                f"{info.get('events', '?')} events)")
        say(line)
        if rc != 0:
            failed.append(seed)
            say(f"     reason: {info.get('reason', '(no summary)')}")
    say(f"\nchaos test: {len(seeds) - len(failed)}/{len(seeds)} seeds passed in "
        f"{time.monotonic() - t_all:.0f} s")
    if failed:
        say("FAIL: seeds " + ", ".join(map(str, failed)) + "; replay one with "
            f"deploy/testbed/chaos.py --bin {a.bin} --seed N" + ("" if disk else " --no-disk-faults"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
