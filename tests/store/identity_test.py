#!/usr/bin/env python3
"""A node refuses to run with another node's identity.

A keys/ folder restored into the wrong data directory (another node's
backup), or a backup of keys/ from before a key rotation, holds a signing
key the store does not hold for this node's code. Then:
  - `liandong run` exits with status 2 and one line saying what to restore;
  - a write at the CLI (submit) is refused and stores nothing;
  - reads (case list, keys show) still work, so the operator can look.
With the node's own keys back, and after a correct `keys rotate`, the node
runs and writes again.

Usage: identity_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import Fail, main_with, say, tail  # noqa: E402

MARK = "签名密钥与本机存储不符"


def expect_refused_start(b, conf: str, log: str, what: str) -> None:
    p = b.spawn(conf, log)
    deadline = time.monotonic() + 15
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if p.poll() is None:
        b.stop(p)
        raise Fail(f"{what}: `liandong run` started with a signing key that is not this node's")
    text = tail(log, 3)
    if p.returncode != 2 or MARK not in text or "keys/" not in text:
        raise Fail(f"{what}: `liandong run` exited {p.returncode}, want 2 and a line naming the "
                   f"keys/ to restore: {text}")
    say(f"  {what}: run refused, exit 2: {text.splitlines()[-1] if text else ''}")


def expect_refused_write(b, data: str, what: str) -> None:
    before = len(b.events(data))
    r = b.cli(*b.submit_args(data))
    if r.returncode == 0:
        raise Fail(f"{what}: a submission was stored and signed with another node's key")
    if MARK not in r.stderr or len(r.stderr.strip().splitlines()) != 1:
        raise Fail(f"{what}: the refusal is not one line naming the key: {r.stderr!r}")
    if len(b.events(data)) != before:
        raise Fail(f"{what}: the refused submission changed the store")
    b.ok("case", "list", "--data", data)  # reads still work
    b.ok("keys", "show", "--data", data)
    say(f"  {what}: submit refused: {r.stderr.strip()}")


def test(b) -> None:
    county = b.init("360723", "county")
    other = b.init("360724", "other")
    conf = b.config(county, "360723")
    log = os.path.join(b.dir, "county.log")
    keys = os.path.join(county, "keys")
    own_backup = os.path.join(b.dir, "keys-own")
    shutil.copytree(keys, own_backup)
    b.submit(county)

    say("== another node's keys/ restored into this node's data directory")
    shutil.rmtree(keys)
    shutil.copytree(os.path.join(other, "keys"), keys)
    expect_refused_write(b, county, "another node's keys")
    expect_refused_start(b, conf, log, "another node's keys")

    say("== the node's own keys back: it runs and writes")
    shutil.rmtree(keys)
    shutil.copytree(own_backup, keys)
    b.submit(county)
    p = b.start(conf, county, log)
    b.submit(county)  # through the daemon
    if b.stop(p) != 0:
        raise Fail("the daemon did not stop cleanly")

    say("== a correct key rotation: the node still starts and writes")
    b.ok("keys", "rotate", "--data", county, "--actor", "周敏")
    p = b.start(conf, county, log)
    b.submit(county)
    if b.stop(p) != 0:
        raise Fail("the daemon did not stop cleanly after the rotation")
    rotated = os.path.join(b.dir, "keys-rotated")
    shutil.copytree(keys, rotated)

    say("== keys/ restored from a backup made before the rotation")
    shutil.rmtree(keys)
    shutil.copytree(own_backup, keys)
    expect_refused_write(b, county, "the retired key")
    expect_refused_start(b, conf, log, "the retired key")

    shutil.rmtree(keys)
    shutil.copytree(rotated, keys)
    b.start_submit_stop(conf, county, log, "with the rotated keys")
    say("identity ok: another node's keys and a retired key are refused at run and at submit")


if __name__ == "__main__":
    sys.exit(main_with(test, __doc__))
