#!/usr/bin/env python3
"""The single-writer guard holds whatever files a user deletes.

A county daemon runs on its store. Then:
  1. DATA/daemon.lock is deleted: a second `liandong run` on the same store
     exits with status 2 (the store file itself is locked), before it binds
     anything; the first daemon keeps running.
  2. store/lock.mdb (LMDB's own lock file) is deleted too: a direct CLI
     write is refused with one line and stores nothing, and a second daemon
     is refused again. (Writing then would go past the running daemon's
     writer lock and corrupt the store.)
  3. The first daemon stops cleanly; `store check` finds the store whole,
     holding exactly the events made through the daemon; a daemon starts
     again on it.

Usage: single_writer_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import Fail, main_with, say, tail  # noqa: E402


def expect_second_refused(b, conf: str, log: str, first, what: str) -> None:
    p = b.spawn(conf, log)
    deadline = time.monotonic() + 15
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if p.poll() is None:
        b.stop(p)
        raise Fail(f"{what}: a second daemon started on a store a daemon runs on")
    text = tail(log, 2)
    if p.returncode != 2 or "守护进程" not in text:
        raise Fail(f"{what}: the second daemon exited {p.returncode}, want 2 with a clear line: "
                   f"{text}")
    if first.poll() is not None:
        raise Fail(f"{what}: the first daemon is gone (exit {first.returncode})")
    say(f"  {what}: second daemon refused, exit 2: {text.splitlines()[-1]}")


def test(b) -> None:
    data = b.init("360723", "county")
    conf = b.config(data, "360723")
    first = b.start(conf, data, os.path.join(b.dir, "first.log"))
    for _ in range(5):
        b.submit(data)
    held = [e["id"] for e in b.events(data)]
    say(f"== a daemon runs on the store ({len(held)} events)")

    os.unlink(os.path.join(data, "daemon.lock"))
    say("== daemon.lock deleted")
    expect_second_refused(b, conf, os.path.join(b.dir, "second.log"), first, "daemon.lock gone")

    os.unlink(os.path.join(data, "store", "lock.mdb"))
    say("== lock.mdb deleted too")
    r = b.cli(*b.submit_args(data))
    if r.returncode == 0:
        raise Fail("a direct CLI write went past the running daemon with lock.mdb gone")
    if "lock.mdb" not in r.stderr or len(r.stderr.strip().splitlines()) != 1:
        raise Fail(f"the refused write does not say why in one line: {r.stderr!r}")
    say(f"  direct submit refused, exit {r.returncode}: {r.stderr.strip()}")
    expect_second_refused(b, conf, os.path.join(b.dir, "third.log"), first, "lock.mdb gone")

    if b.stop(first) != 0:
        raise Fail(f"the first daemon did not stop cleanly: {tail(os.path.join(b.dir, 'first.log'))}")
    out = b.ok("store", "check", "--data", data)
    now = [e["id"] for e in b.events(data)]
    if now != held:
        raise Fail(f"the store changed: {len(now)} events, want the {len(held)} made before")
    say(f"== first daemon stopped; {out.strip()}")
    b.start_submit_stop(conf, data, os.path.join(b.dir, "again.log"), "after a restart")
    say("single writer ok: no second daemon and no direct write with daemon.lock and lock.mdb gone")


if __name__ == "__main__":
    sys.exit(main_with(test, __doc__))
