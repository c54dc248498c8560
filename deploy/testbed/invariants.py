"""The invariants of DESIGN.md section 8, checked over a whole network's stores
(python3 stdlib only; pure functions, no processes, no I/O).

Used by deploy/network.py (local network), deploy/testbed/chaos.py (fault
schedules in network namespaces) and the tests under tests/fault.

Inputs are what the CLI prints:
  - `liandong store events --json`: a list of {id, case, kind, origin, home, broadcast, ...}
  - `liandong case list --json`:    a list of {case, status, conflict, home, ...}
  - `liandong report --json`:       {node, total: {received, accepted, ...}, ...}
Each function returns a list of problems (empty = the invariant holds).
"""

from __future__ import annotations


def belongs(event: dict, code: str) -> bool:
    """The routing rule: an event about a case homed at H is stored by every
    node whose code is a prefix of H; a broadcast goes to its origin's whole
    subtree; a lineage event (a key rotation) to its origin's ancestors and
    whole subtree."""
    origin = event.get("origin") or ""
    if event.get("broadcast"):
        return code.startswith(origin)
    if event.get("lineage"):
        return code.startswith(origin) or origin.startswith(code)
    return (event.get("home") or "").startswith(code)


def union_of(stores: dict[str, list[dict]]) -> dict[str, dict]:
    """Every event held anywhere, by id."""
    return {e["id"]: e for events in stores.values() for e in events}


def expected_ids(code: str, union: dict[str, dict]) -> set[str]:
    """The events of `union` the routing rule sends to `code`."""
    return {i for i, e in union.items() if belongs(e, code)}


def routing_problems(stores: dict[str, list[dict]], sample: int = 4) -> list[str]:
    """Every event at exactly the nodes the routing rule names, once each.
    `stores`: node code -> its `store events --json` list."""
    union = union_of(stores)
    problems = []
    for code, events in stores.items():
        ids = [e["id"] for e in events]
        have = set(ids)
        if len(ids) != len(have):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            problems.append(f"{code} holds {len(twice)} event(s) twice: {twice[:sample]}")
        want = expected_ids(code, union)
        if have - want:
            problems.append(f"{code} holds {len(have - want)} event(s) outside its jurisdiction: "
                            f"{sorted(have - want)[:sample]}")
        if want - have:
            problems.append(f"{code} is missing {len(want - have)}: {sorted(want - have)[:sample]}")
    return problems


def recorded_problems(recorded: dict[str, str], stores: dict[str, list[dict]],
                      sample: int = 6) -> list[str]:
    """Nothing the CLI reported as stored is missing. `recorded`: event id ->
    the node whose CLI printed it. Each must be at that node (and, by
    routing_problems, wherever the rule names)."""
    have = {code: {e["id"] for e in events} for code, events in stores.items()}
    lost = sorted(i for i, code in recorded.items() if i not in have.get(code, set()))
    if not lost:
        return []
    return [f"{len(lost)} event(s) the CLI reported as stored are missing at their node: "
            + ", ".join(f"{i}@{recorded[i]}" for i in lost[:sample])]


def case_state_problems(lists: dict[str, list[dict]], ignore: tuple[str, ...] = (),
                        sample: int = 4) -> list[str]:
    """Identical case states everywhere they should be. `lists`: node code ->
    its `case list --json`. Each node must hold exactly the cases homed in
    its jurisdiction that any node holds, and every holder must show the same
    record (fields in `ignore` excepted)."""
    by_node = {code: {k["case"]: k for k in cases} for code, cases in lists.items()}
    problems = []
    for code, cases in lists.items():
        ids = [k["case"] for k in cases]
        if len(ids) != len(set(ids)):
            problems.append(f"{code} lists a case twice")
    union: dict[str, dict] = {}
    for cases in by_node.values():
        for cid, k in cases.items():
            union.setdefault(cid, k)
    diffs = []
    for cid, k in sorted(union.items()):
        home = k.get("home") or ""
        holders = [c for c in by_node if home.startswith(c)]
        missing = [c for c in holders if cid not in by_node[c]]
        if missing:
            problems.append(f"case {cid} missing at {', '.join(missing)}")
        stray = [c for c in by_node if cid in by_node[c] and c not in holders]
        if stray:
            problems.append(f"case {cid} (home {home}) held outside its path at {', '.join(stray)}")
        views = [(c, {f: v for f, v in by_node[c][cid].items() if f not in ignore})
                 for c in holders if cid in by_node[c]]
        for c, v in views[1:]:
            if v != views[0][1]:
                fields = sorted(f for f in set(v) | set(views[0][1]) if v.get(f) != views[0][1].get(f))
                diffs.append(f"case {cid}: {views[0][0]} and {c} differ in "
                             + ", ".join(f"{f} ({views[0][1].get(f)!r} vs {v.get(f)!r})" for f in fields[:3]))
                break
    if diffs:
        problems.append(f"{len(diffs)} case(s) differ between nodes: " + "; ".join(diffs[:sample]))
    return problems


def _additive(a, path: str, out: dict) -> None:
    """Flattens the count fields of a report (ints, not bools; rates,
    averages and formatted strings are derived, so left out)."""
    if isinstance(a, dict):
        for k, v in a.items():
            if k.endswith("_rate") or k.startswith("average"):
                continue          # derived (printed as 1 when it is 1.0)
            _additive(v, f"{path}.{k}" if path else k, out)
    elif isinstance(a, int) and not isinstance(a, bool):
        out[path] = a


def report_sum_problems(upper: dict, lower: list[dict], what: str = "county") -> list[str]:
    """The upper level's `report --json` totals equal the sum of the lower
    level's (same period, same --as-of). Only additive counts compared."""
    want: dict[str, int] = {}
    _additive(upper.get("total", {}), "", want)
    got: dict[str, int] = {}
    for r in lower:
        part: dict[str, int] = {}
        _additive(r.get("total", {}), "", part)
        for k, v in part.items():
            got[k] = got.get(k, 0) + v
    bad = [f"{k}: {what} {want.get(k)} vs sum {got.get(k)}" for k in sorted(set(want) | set(got))
           if want.get(k, 0) != got.get(k, 0)]
    if not bad:
        return []
    return [f"{what} report differs from the sum of the level below in {len(bad)} field(s): "
            + "; ".join(bad[:6])]
