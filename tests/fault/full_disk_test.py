#!/usr/bin/env python3
"""Fault test: the township's disk fills up, then space returns.

County 360723, township 360723101 and village 360723101007, one network
namespace each (deploy/testbed/testbed.py); the township's data directory is
on a small tmpfs the testbed mounts (and unmounts).

1. The village registers applications; all reach the county.
2. The township's disk is filled to the last byte (a filler file). The
   village goes on registering: its own store has room, so each is stored
   there (the CLI says so), while the township must refuse the batches
   without acking them — the village keeps them and resends. Checked for
   several resend rounds: the township holds none of the new events, its
   daemon is alive, `status` and `case list` still answer there, a local
   submission at the township window is refused with a clear error and
   stores nothing, and the township logged "store is full" once — not once
   per resend.
3. The filler is removed. With no restart and no command, within 60 s
   every node holds exactly the same events (all these cases are homed at
   the village), none twice; the township logged "room again" once.
4. SIGTERM every daemon (exit status 0) and `store check` every store:
   nothing stored before the disk filled was damaged.

Needs root; otherwise exits 77 (ctest: skipped). Bounded: about a minute.
Usage: full_disk_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import os
import sys
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                                "testbed"))
import testbed as T  # noqa: E402
from testbed import link_of, say  # noqa: E402

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"
ALL = (VILLAGE, TOWNSHIP, COUNTY)
DISK_MB = 24
FULL_S = 10.0          # how long the disk stays full (ten resend rounds)
HEAL_LIMIT_S = 60.0
SYNC = {
    "heartbeat_ms": 500,
    "peer_timeout_ms": 5000,
    "ack_timeout_ms": 1000,
    "redial_min_ms": 200,
    "redial_max_ms": 2000,
}


class Scenario:
    def __init__(self, tb: T.Testbed):
        self.tb = tb
        self.n = 0

    def submit_args(self, code: str, actor: str, role: str, big: bool = False,
                    parts: int = 1) -> list[str]:
        """A 低保 application; `big`: with a long family-income statement
        (about 60 KiB, in each of `parts` form fields), so that storing it
        needs fresh pages: on a full disk LMDB could otherwise fit a small
        event into pages it freed earlier, or into file space a batch that
        failed for lack of space had already taken."""
        self.n += 1
        i = self.n
        statement = f"村民{i:03d}家庭收入情况说明：" + "家庭成员务农收入、外出务工收入及各项补贴逐月登记。" * (
            800 if big else 1)
        fields = ["--field", f"家庭收入说明={statement}"]
        for k in range(2, parts + 1):
            fields += ["--field", f"家庭收入说明{k}={statement}"]
        return ["submit", "--data", self.tb.nodes[code].data, "--json-out",
                "--actor", actor, "--role", role, "--item", "MZ-DB-001",
                "--item-name", "农村最低生活保障申请", "--applicant", f"村民{i:03d}",
                "--id-number", T.resident_id(f"36072319700101{i % 1000:03d}"), "--phone", f"1397970{i:04d}",
                "--address", "上竹乡黄沙村", "--field", "家庭人口=3",
                *fields,
                "--material", "居民身份证:provided:copy", "--fee-due", "0",
                "--summary", f"村民{i:03d}申请低保"]

    def submit(self, big: bool = False) -> str:
        out = self.tb.cli_json(*self.submit_args(VILLAGE, "刘建国", "agent", big))
        if not out.get("case"):
            raise T.Fail(f"submit: no case id in {out}")
        return out["case"]

    def ids(self, code: str) -> list[str]:
        """The case events `code` holds (audit records, which travel up only,
        and the county's key directory broadcasts are left out)."""
        return [e["id"] for e in self.tb.events(code) if e.get("case")]

    def missing(self, code: str, want: set[str]) -> str | None:
        lack = want - set(self.ids(code))
        return f"{code} lacks {len(lack)}: {sorted(lack)[:4]}" if lack else None

    def run(self) -> bool:
        tb = self.tb
        tb.add(COUNTY, sync=SYNC)
        tb.add(TOWNSHIP, COUNTY, sync=SYNC)
        tb.add(VILLAGE, TOWNSHIP, sync=SYNC)
        tb.build()
        tb.mount_tmpfs(TOWNSHIP, DISK_MB)
        tb.init()
        say(f"== network {COUNTY} <-> {TOWNSHIP} <-> {VILLAGE}; the township's data on a "
            f"{DISK_MB} MiB tmpfs")
        for code in (COUNTY, TOWNSHIP, VILLAGE):
            tb.start(code)
        tb.wait_until("links up", 30, lambda: None if all(
            link_of(tb.status(c), p).get("state") == "up" for c, p in ((VILLAGE, TOWNSHIP),
                                                                        (TOWNSHIP, COUNTY)))
            else "a link is not up")

        say("== before: 10 applications through the village daemon")
        for _ in range(10):
            self.submit()
        first = set(self.ids(VILLAGE))
        tb.wait_until("first applications at the county", 30, lambda: self.missing(COUNTY, first))
        held_before = set(self.ids(TOWNSHIP))

        written = tb.fill_disk(TOWNSHIP)
        say(f"== the township's disk is full ({written >> 20} MiB of filler, "
            f"{tb.disk_free(TOWNSHIP)} bytes free); the village goes on registering")
        t_full = time.monotonic()
        during = 0
        while time.monotonic() - t_full < FULL_S:
            self.submit(big=True)
            during += 1
            time.sleep(0.5)
        new_v = set(self.ids(VILLAGE)) - first
        say(f"  the village stored {during} applications ({len(new_v)} events) during the full disk")
        tb.check_alive(TOWNSHIP)
        now_t = set(self.ids(TOWNSHIP))
        if now_t & new_v:
            raise T.Fail(f"the township stored {len(now_t & new_v)} events on a full disk")
        if now_t != held_before:
            raise T.Fail("the township's events changed while its disk was full")
        t_status = tb.status(TOWNSHIP)
        if not t_status.get("store_full"):
            raise T.Fail(f"the township's status does not say its store is full: {t_status}")
        link = link_of(tb.status(VILLAGE), TOWNSHIP)
        say(f"  village -> township: state {link.get('state')}, unacked "
            f"{link.get('unacked_events')} events; township status still answers: "
            f"{len(tb.status(TOWNSHIP).get('links', []))} links")
        cases = tb.cli_json("case", "list", "--data", tb.nodes[TOWNSHIP].data, "--json")
        if len(cases) != 10:
            raise T.Fail(f"case list at the township on a full disk: {len(cases)} cases, want 10")

        # About 600 KiB: more than any run of pages the failed batches left.
        r = tb.cli(*self.submit_args(TOWNSHIP, "周敏", "clerk", big=True, parts=10), check=False,
                   quiet=True)
        msg = (r.stderr or r.stdout).strip()
        say(f"  a submission at the township window: exit {r.returncode}: {msg}")
        if r.returncode == 0:
            raise T.Fail("a local submission on a full disk was reported stored")
        if "full" not in msg and "已满" not in msg:
            raise T.Fail(f"the refusal does not say the store is full: {msg}")
        if set(self.ids(TOWNSHIP)) != held_before:
            raise T.Fail("the refused submission changed the township's store")

        full_lines = tb.grep_log(TOWNSHIP, "store is full")
        for line in full_lines:
            say(f"  township log: {line}")
        if len(full_lines) != 1:
            raise T.Fail(f"the township logged 'store is full' {len(full_lines)} times, want once")

        say("== space returns (filler removed); nothing else is done")
        tb.free_disk(TOWNSHIP)

        def converged() -> str | None:
            sets = {c: self.ids(c) for c in ALL}
            union = set().union(*(set(v) for v in sets.values()))
            problems = []
            for c, ids in sets.items():
                if len(ids) != len(set(ids)):
                    problems.append(f"{c} holds an event twice")
                if set(ids) != union:
                    problems.append(f"{c} lacks {len(union - set(ids))}")
            return "; ".join(problems) or None

        took = tb.wait_until("convergence after space returned", HEAL_LIMIT_S, converged)
        say(f"  converged {took:.1f} s after space returned: "
            + ", ".join(f"{c} {len(self.ids(c))} events" for c in ALL))
        if tb.status(TOWNSHIP).get("store_full"):
            raise T.Fail("the township's status still says its store is full")
        # The log says "room again" once the room has lasted a few seconds.
        tb.wait_until("the township logs that it has room again", 30,
                      lambda: None if tb.grep_log(TOWNSHIP, "room again") else "not logged yet")
        again = tb.grep_log(TOWNSHIP, "room again")
        for line in again:
            say(f"  township log: {line}")
        if len(again) != 1:
            raise T.Fail(f"the township logged 'room again' {len(again)} times, want once")

        if not T.stop_and_check(tb, ALL):
            return False
        say(f"full disk ok: {during} applications registered while the township's disk was full "
            f"reached it and the county once space returned; nothing was lost or damaged")
        return True


def main() -> int:
    return T.run_fault_test(__doc__, lambda tb: Scenario(tb).run())


if __name__ == "__main__":
    sys.exit(main())
