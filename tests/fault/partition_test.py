#!/usr/bin/env python3
"""Fault test: the township<->county link is cut for 20 s, then healed.

County 360723, township 360723101 and village 360723101007, one network
namespace each (deploy/testbed/testbed.py), links unshaped, short timeouts
(heartbeat 1 s, peer timeout 5 s) so that the cut really ends the
township<->county session and the heal really re-handshakes.

1. The village registers applications through its daemon; all reach the county.
2. `ip link set down` on both ends of township<->county. For 20 s the village
   keeps registering (one a second), the township comments on a case and the
   county comments on another (an event going down while the link is cut).
   Checked during the cut: the township has the village's new events, the
   county has none of them (the cut is real).
3. Heal. Within 60 s every node must hold exactly what the routing rule
   names: all these cases are homed at the village, so every event (from
   whatever origin) belongs at village, township and county — the three
   `store events --json` sets must be equal, with no event twice.
4. SIGTERM every daemon (exit status 0) and `store check` every store.

Needs root; otherwise exits 77 (ctest: skipped). Bounded: about a minute.
Usage: partition_test.py --bin build/node/liandong [--keep]
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
CUT_S = 20.0
HEAL_LIMIT_S = 60.0
SYNC = {
    "heartbeat_ms": 1000,
    "peer_timeout_ms": 5000,
    "ack_timeout_ms": 5000,
    "redial_min_ms": 500,
    "redial_max_ms": 4000,
}


class Scenario:
    def __init__(self, tb: T.Testbed):
        self.tb = tb
        self.n = 0

    def submit(self) -> tuple[str, str]:
        """Registers one application through the village daemon; returns (case, event id)."""
        self.n += 1
        i = self.n
        out = self.tb.cli_json("submit", "--data", self.tb.nodes[VILLAGE].data, "--json-out",
                               "--actor", "刘建国", "--role", "agent", "--item", "YB-CB-004",
                               "--item-name", "城乡居民医保参保登记", "--applicant", f"村民{i:03d}",
                               "--id-number", T.resident_id(f"36072319800101{i % 1000:03d}"), "--phone", f"1390797{i:04d}",
                               "--address", "上竹乡黄沙村", "--field", "参保年度=2027",
                               "--material", "居民身份证:provided:copy", "--fee-due", "0",
                               "--summary", f"村民{i:03d}申请参保登记")
        case = out.get("case")
        if not case:
            raise T.Fail(f"submit: no case id in {out}")
        return case, out.get("event") or case

    def comment(self, code: str, case: str, text: str) -> str:
        out = self.tb.cli_json("act", case, "comment", "--data", self.tb.nodes[code].data,
                               "--actor", "周敏" if code == TOWNSHIP else "周主任", "--role", "clerk",
                               "--text", text, "--json")
        ev = out.get("event")
        if not ev:
            raise T.Fail(f"act comment at {code}: no event id in {out}")
        return ev

    def ids(self, code: str) -> list[str]:
        """The case events `code` holds (audit records, which travel up only,
        and the county's key directory broadcasts are left out)."""
        return [e["id"] for e in self.tb.events(code) if e.get("case")]

    def missing(self, code: str, want: set[str]) -> str | None:
        have = set(self.ids(code))
        lack = want - have
        return f"{code} lacks {len(lack)}: {sorted(lack)[:4]}" if lack else None

    def run(self) -> bool:
        tb = self.tb
        tb.add(COUNTY, sync=SYNC)
        tb.add(TOWNSHIP, COUNTY, sync=SYNC)
        tb.add(VILLAGE, TOWNSHIP, sync=SYNC)
        tb.build()
        tb.init()
        say(f"== network {COUNTY} <-> {TOWNSHIP} <-> {VILLAGE}, unshaped; [sync] {SYNC}")
        for code in (COUNTY, TOWNSHIP, VILLAGE):
            tb.start(code)
        tb.wait_until("links up", 30, lambda: None if all(
            link_of(tb.status(c), p).get("state") == "up" for c, p in ((VILLAGE, TOWNSHIP),
                                                                        (TOWNSHIP, COUNTY)))
            else "a link is not up")

        say("== before the cut: 5 applications through the village daemon")
        before = [self.submit() for _ in range(5)]
        all_v = set(self.ids(VILLAGE))
        took = tb.wait_until("pre-cut applications at the county", 30,
                          lambda: self.missing(COUNTY, all_v))
        say(f"  {len(all_v)} events at the county after {took:.1f} s")
        county_before = set(self.ids(COUNTY))

        say(f"== cutting {TOWNSHIP} <-> {COUNTY} for {CUT_S:.0f} s (ip link set down, both ends)")
        t_cut = time.monotonic()
        tb.partition(TOWNSHIP)
        during: list[str] = []
        t_ev = self.comment(TOWNSHIP, before[0][0], "乡镇在县链路中断期间的批注")
        c_ev = self.comment(COUNTY, before[1][0], "县在链路中断期间的批注 (须下传到乡、村)")
        say(f"  township commented ({t_ev}), county commented ({c_ev}) during the cut")
        while time.monotonic() - t_cut < CUT_S - 3:
            case, _ = self.submit()
            during.append(case)
            time.sleep(1.0)
        v_now = set(self.ids(VILLAGE))
        new_v = v_now - all_v
        say(f"  village registered {len(during)} applications during the cut ({len(new_v)} new events)")
        took = tb.wait_until("cut-time village events at the township", 2.5,
                          lambda: self.missing(TOWNSHIP, new_v))
        county_now = set(self.ids(COUNTY))
        leaked = (county_now - county_before) & (new_v | {t_ev})
        if leaked:
            raise T.Fail(f"the county got {len(leaked)} events across a cut link: {sorted(leaked)[:4]}")
        if c_ev in set(self.ids(TOWNSHIP)):
            raise T.Fail("the township got the county's comment across a cut link")
        t_st = tb.status(TOWNSHIP)
        say(f"  during the cut: township holds them all, county none; township's uplink is "
            f"{link_of(t_st, COUNTY).get('state')}, county sees the township as "
            f"{link_of(tb.status(COUNTY), TOWNSHIP).get('state')}")
        while time.monotonic() - t_cut < CUT_S:
            time.sleep(0.1)

        say("== healing")
        tb.heal(TOWNSHIP)
        t_heal = time.monotonic()

        def converged() -> str | None:
            sets = {c: self.ids(c) for c in ALL}
            union = set().union(*(set(v) for v in sets.values()))
            problems = []
            for c, ids in sets.items():
                if len(ids) != len(set(ids)):
                    problems.append(f"{c} holds an event twice")
                # Every event here is about a case homed at the village: it
                # belongs at the village, the township and the county.
                if set(ids) != union:
                    problems.append(f"{c} lacks {len(union - set(ids))}: {sorted(union - set(ids))[:3]}")
            return "; ".join(problems) or None

        took = tb.wait_until("convergence after the heal", HEAL_LIMIT_S, converged)
        final = {c: self.ids(c) for c in ALL}
        homes = {e.get("home") for e in tb.events(COUNTY) if e.get("case")}
        if homes != {VILLAGE}:
            raise T.Fail(f"unexpected homes in the county's store: {homes}")
        say(f"  converged {took:.1f} s after the heal ({time.monotonic() - t_cut:.1f} s after the cut): "
            + ", ".join(f"{c} {len(v)} events" for c, v in final.items()))
        if t_ev not in final[COUNTY] or c_ev not in final[VILLAGE]:
            raise T.Fail("a cut-time comment did not travel after the heal")

        say("== what the daemons logged about the cut")
        for code in (TOWNSHIP, COUNTY):
            for line in tb.grep_log(code, "down", "did not answer", "no ack", "up (it holds",
                                    f"child {TOWNSHIP}", "error"):
                say(f"  {code}: {line}")
        ups = tb.grep_log(TOWNSHIP, f"upstream {COUNTY} up")
        if len(ups) < 2:
            say(f"  NOTE: the township logged {len(ups)} session(s) with the county; the cut did "
                f"not end the session (TCP survived {CUT_S:.0f} s)")

        if not T.stop_and_check(tb, ALL):
            return False
        say(f"partition ok: {len(during)} applications and 2 comments made during a {CUT_S:.0f} s cut "
            f"reached every node that must hold them, once each")
        return True


def main() -> int:
    return T.run_fault_test(__doc__, lambda tb: Scenario(tb).run())


if __name__ == "__main__":
    sys.exit(main())
