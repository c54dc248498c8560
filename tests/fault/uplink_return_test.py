#!/usr/bin/env python3
"""Fault test: a village whose uplink was down a long time is connected
within 10 s of the link's return.

County 360723, township 360723101, villages 360723101001 and 360723101007,
one network namespace each (deploy/testbed/testbed.py). Every node runs with
the timings of the shipped example configs (config/examples/*.toml: the
villages' [sync] from village.toml — heartbeat 5 s, peer timeout 60 s,
redial 1 s .. 5 min —, the township and county with the defaults their
examples keep).

1. Both villages register an application; it reaches the county.
2. Both uplinks go down for DOWN seconds (default 150), in the two ways a
   village loses its link:
     - 360723101001: `ip link set down` on both ends (the modem is
       unplugged: the village's interface and route go away);
     - 360723101007: every packet dropped both ways, interfaces up (the 4G
       modem is up but has no signal: the village sees nothing happen, its
       SYNs go unanswered).
   150 s is long enough for the village to declare its session down
   (peer_timeout 60 s) and for the old unbounded backoff (1, 2, 4, ... s,
   up to 5 min) to grow past 10 s; from then on every longer outage looks
   the same to a node whose backoff is capped (docs/RELIABILITY.md).
3. Both links return at once. Each village must report its uplink `up`
   within 10 s; the time each took is printed.
4. A new application from each village reaches the county; every daemon
   stops cleanly and every store checks.

Needs root; otherwise exits 77 (ctest: skipped). Takes DOWN + about 40 s.
Usage: uplink_return_test.py --bin build/node/liandong [--down-minutes M] [--keep]
  --down-minutes 60: the hour-long outage, for a manual run (README, "Longer runs").
"""

from __future__ import annotations

import os
import sys
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy", "testbed"))
import testbed as T  # noqa: E402
from testbed import link_of, say  # noqa: E402

try:
    import tomllib  # python 3.11
except ModuleNotFoundError:  # pragma: no cover
    tomllib = None

COUNTY, TOWNSHIP = "360723", "360723101"
V_DOWN, V_SILENT = "360723101001", "360723101007"
VILLAGES = (V_DOWN, V_SILENT)
ALL = (V_DOWN, V_SILENT, TOWNSHIP, COUNTY)
RETURN_LIMIT_S = 10.0
EXAMPLES = os.path.join(HERE, "..", "..", "config", "examples")


def example_sync(name: str) -> dict:
    """The [sync] table of config/examples/<name>.toml ({} when it has none)."""
    path = os.path.join(EXAMPLES, name + ".toml")
    if tomllib is not None:
        with open(path, "rb") as f:
            return dict(tomllib.load(f).get("sync", {}))
    # Without tomllib: the example's [sync] holds only `key = integer` lines.
    out, inside = {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.split("#", 1)[0].strip()
            if s.startswith("["):
                inside = s == "[sync]"
            elif inside and "=" in s:
                k, v = (x.strip() for x in s.split("=", 1))
                out[k] = int(v)
    return out


def pop_down_seconds(argv: list[str]) -> float:
    """Takes --down-minutes M (or --down-minutes=M) out of argv; seconds."""
    down = 150.0
    for i, a in enumerate(list(argv)):
        if a == "--down-minutes" and i + 1 < len(argv):
            down = float(argv[i + 1]) * 60
            del argv[i:i + 2]
            break
        if a.startswith("--down-minutes="):
            down = float(a.split("=", 1)[1]) * 60
            del argv[i]
            break
    return down


def blackhole(tb: T.Testbed, child: str, on: bool) -> None:
    """Drops every packet into both ends of child's uplink (nftables on the
    ingress), or removes that rule. The interfaces stay up: nothing in the
    village's netlink says the link went or came back."""
    for ns, dev in tb._ends(child):
        table = f"ldup_{dev}"
        T.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "netdev", table], check=False,
              quiet=True)
        if on:
            rules = (f'table netdev {table} {{\n'
                     f'  chain cut {{ type filter hook ingress device "{dev}" priority 0;\n'
                     f'    counter drop; }}\n}}\n')
            T.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input_text=rules)


class Scenario:
    def __init__(self, tb: T.Testbed, down_s: float):
        self.tb = tb
        self.down_s = down_s
        self.n = 0

    def submit(self, village: str) -> str:
        self.n += 1
        i = self.n
        out = self.tb.cli_json("submit", "--data", self.tb.nodes[village].data, "--json-out",
                               "--actor", "刘建国", "--role", "agent", "--item", "YB-CB-004",
                               "--item-name", "城乡居民医保参保登记", "--applicant", f"村民{i:03d}",
                               "--id-number", T.resident_id(f"36072319800101{i % 1000:03d}"), "--summary",
                               f"村民{i:03d}申请参保登记")
        case = out.get("case")
        if not case:
            raise T.Fail(f"submit at {village}: no case id in {out}")
        return case

    def county_lacks(self, cases: set[str]) -> str | None:
        have = {e.get("case") for e in self.tb.events(COUNTY)}
        lack = cases - have
        return f"the county lacks {sorted(lack)}" if lack else None

    def uplink(self, village: str) -> str:
        try:
            return link_of(self.tb.status(village), TOWNSHIP).get("state", "?")
        except T.Fail as e:
            return f"status failed: {e}"

    def run(self) -> bool:
        tb = self.tb
        village_sync = example_sync("village")
        township_sync = example_sync("township")
        county_sync = example_sync("county")
        tb.add(COUNTY, sync=county_sync)
        tb.add(TOWNSHIP, COUNTY, sync=township_sync)
        for v in VILLAGES:
            tb.add(v, TOWNSHIP, sync=village_sync)
        tb.build()
        tb.init()
        say(f"== county, township, villages {V_DOWN} and {V_SILENT}; villages' [sync] from "
            f"village.toml: {village_sync}; township {township_sync or 'defaults'}, county "
            f"{county_sync or 'defaults'}")
        for code in (COUNTY, TOWNSHIP, *VILLAGES):
            tb.start(code)
        tb.wait_until("links up", 60, lambda: None if all(
            self.uplink(v) == "up" for v in VILLAGES) else "a village's uplink is not up")
        first = {self.submit(v) for v in VILLAGES}
        took = tb.wait_until("first applications at the county", 60,
                             lambda: self.county_lacks(first))
        say(f"  both villages' applications at the county after {took:.1f} s")

        say(f"== uplinks lost for {self.down_s:.0f} s: {V_DOWN} link down (both ends), "
            f"{V_SILENT} every packet dropped (interfaces up)")
        tb.partition(V_DOWN)
        blackhole(tb, V_SILENT, True)
        t_cut = time.monotonic()
        next_say = 0.0
        while time.monotonic() - t_cut < self.down_s:
            tb.check_alive()
            el = time.monotonic() - t_cut
            if el >= next_say:
                say(f"  {el:5.0f} s: uplink {V_DOWN} {self.uplink(V_DOWN)}, "
                    f"{V_SILENT} {self.uplink(V_SILENT)}")
                next_say += 30
            time.sleep(0.5)
        states = {v: self.uplink(v) for v in VILLAGES}
        if any(s == "up" for s in states.values()):
            raise T.Fail(f"after {self.down_s:.0f} s down a village still reports its uplink up "
                         f"({states}): the outage did not end the session; use a longer one")

        say("== links back")
        tb.heal(V_DOWN)
        blackhole(tb, V_SILENT, False)
        t_back = time.monotonic()
        back: dict[str, float] = {}
        while len(back) < len(VILLAGES) and time.monotonic() - t_back < 60:
            for v in VILLAGES:
                if v not in back and self.uplink(v) == "up":
                    back[v] = time.monotonic() - t_back
            time.sleep(0.2)
        for v in VILLAGES:
            say(f"  {v}: uplink up {back[v]:.1f} s after the link returned" if v in back
                else f"  {v}: uplink NOT up 60 s after the link returned")
        for v in VILLAGES:
            for line in tb.grep_log(v, "upstream", "dial", limit=6):
                say(f"    {v}: {line}")
        slow = {v: back.get(v) for v in VILLAGES if back.get(v) is None or back[v] > RETURN_LIMIT_S}
        if slow:
            raise T.Fail(f"uplink not up within {RETURN_LIMIT_S:.0f} s of the link's return "
                         f"after {self.down_s:.0f} s down: {slow}")

        after = {self.submit(v) for v in VILLAGES}
        took = tb.wait_until("applications after the return at the county", 30,
                             lambda: self.county_lacks(after))
        say(f"  new applications at the county {took:.1f} s after they were registered")
        if not T.stop_and_check(tb, ALL):
            return False
        say(f"uplink return ok: after {self.down_s:.0f} s down, uplinks up in "
            + ", ".join(f"{v} {back[v]:.1f} s" for v in VILLAGES))
        return True


def main() -> int:
    down_s = pop_down_seconds(sys.argv)
    return T.run_fault_test(__doc__, lambda tb: Scenario(tb, down_s).run())


if __name__ == "__main__":
    sys.exit(main())
