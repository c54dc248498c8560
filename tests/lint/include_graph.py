#!/usr/bin/env python3
"""Checks the #include graph of node/: no cycle between its modules.

A module is a header and the .cpp of the same name (daemon.h + daemon.cpp).
Module A depends on module B when a file of A includes B's header. The check
fails, naming the cycle, when some module depends on itself through others
(cli.cpp including daemon.h while daemon.cpp includes cli.h was one), and
when node/app/ (the application layer) includes an entry point of node/
(the CLI, the daemon, the control socket).

Usage: include_graph.py SOURCE_ROOT
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"(node/[^"]+)"', re.M)
# What the application layer must never include: the entry points above it.
ENTRY_POINTS = {"node/cli", "node/daemon", "node/control", "node/commands", "node/main"}


def module_of(path):
    return os.path.splitext(path)[0]


def graph(root):
    deps = {}
    for dirpath, _, files in os.walk(os.path.join(root, "node")):
        for f in files:
            if not f.endswith((".h", ".cpp")) or f.endswith("_test.cpp"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                text = fh.read()
            m = module_of(rel)
            deps.setdefault(m, set())
            for inc in INCLUDE.findall(text):
                dep = module_of(inc)
                if dep != m:
                    deps[m].add(dep)
    return deps


def find_cycle(deps):
    state = {}
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(deps):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    deps = graph(root)
    bad = False
    cycle = find_cycle(deps)
    if cycle:
        print("include cycle in node/: " + " -> ".join(cycle))
        bad = True
    for m, ds in sorted(deps.items()):
        if m.startswith("node/app/"):
            for d in sorted(ds & ENTRY_POINTS):
                print(f"{m} (the application layer) includes the entry point {d}")
                bad = True
    if not bad:
        print(f"node/: {len(deps)} modules, no include cycle")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
