#!/usr/bin/env python3
"""Checks the #include graph of node/: no cycle between its modules.

A module is a header and the .cpp of the same name (daemon.h + daemon.cpp).
Module A depends on module B when a file of A includes B's header. The check
fails, naming the cycle, when some module depends on itself through others
(cli.cpp including daemon.h while daemon.cpp includes cli.h was one), and
when node/app/ (the application layer) includes an entry point of node/
(the CLI, the daemon, the control socket), and when node/sync/ (the sync
protocol without sockets or LMDB) includes anything of ours but node/sync/,
protocol/ and config/, or ZeroMQ or LMDB.

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


ANY_INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]', re.M)
SYNC_ALLOWED_PREFIXES = ("node/sync/", "protocol/", "config/")
OURS = ("node/", "storage/", "protocol/", "config/")
SYNC_FORBIDDEN = {"zmq.hpp", "zmq.h", "lmdb.h"}


def sync_layer_problems(root):
    problems = []
    sync_dir = os.path.join(root, "node", "sync")
    if not os.path.isdir(sync_dir):
        return problems
    for f in sorted(os.listdir(sync_dir)):
        if not f.endswith((".h", ".cpp")):
            continue
        with open(os.path.join(sync_dir, f), encoding="utf-8") as fh:
            text = fh.read()
        for inc in ANY_INCLUDE.findall(text):
            if inc in SYNC_FORBIDDEN or (
                inc.startswith(OURS) and not inc.startswith(SYNC_ALLOWED_PREFIXES)
            ):
                problems.append(f"node/sync/{f} includes {inc}: node/sync/ may use only "
                                "node/sync/, protocol/ and config/, never ZeroMQ or LMDB")
    return problems


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
    for problem in sync_layer_problems(root):
        print(problem)
        bad = True
    if not bad:
        print(f"node/: {len(deps)} modules, no include cycle")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
