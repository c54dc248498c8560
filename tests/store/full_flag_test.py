#!/usr/bin/env python3
"""The full-disk flag (`status` store_full) tells the truth.

A county node's data directory sits on a small tmpfs (the test runs in a
mount namespace of its own; without the right to make one it exits 77).
  1. Through the daemon: the disk is filled; a local submission is refused
     for lack of space, and `status` then says store_full. A little room
     comes back (1 MiB, less than any free-space threshold): the next
     submission is stored, and `status` no longer says store_full.
  2. Without a daemon: a direct CLI submission on the full disk is refused
     and `status` says store_full; a daemon started later still says so
     (the mark is in the store directory) until its first write succeeds.

Usage: full_flag_test.py --bin build/node/liandong [--keep]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_common import Fail, main_with, say  # noqa: E402

DISK_MB = 24
BIG = "家庭成员务农收入、外出务工收入及各项补贴逐月登记。" * 800  # about 60 KiB: needs fresh pages


def in_own_mount_namespace() -> bool:
    return os.environ.get("LIANDONG_TEST_MOUNTNS") == "1"


def reexec_in_mount_namespace() -> int:
    env = dict(os.environ, LIANDONG_TEST_MOUNTNS="1")
    cmd = [sys.executable, os.path.abspath(__file__), *sys.argv[1:]]
    for prefix in (["unshare", "-m", "--propagation", "private"],
                   ["unshare", "-U", "-r", "-m", "--propagation", "private"]):
        probe = subprocess.run([*prefix, "true"], capture_output=True)
        if probe.returncode == 0:
            return subprocess.run([*prefix, *cmd], env=env).returncode
    print("SKIP: cannot make a mount namespace (needs root or user namespaces)")
    return 77


def store_full(b, data: str) -> bool:
    return bool(json.loads(b.ok("status", "--data", data, "--json")).get("store_full"))


def fill(path: str) -> int:
    """Writes a filler file until the disk is full; returns its size."""
    written = 0
    chunk = b"\0" * (64 << 10)
    with open(path, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
                written += len(chunk)
        except OSError:
            pass
    # Whatever the last partial write left: fill to the last byte.
    try:
        with open(path, "ab") as f:
            while True:
                f.write(b"\0" * 512)
                f.flush()
    except OSError:
        pass
    return os.path.getsize(path)


def free_some(path: str, size: int, mib: int = 1) -> None:
    os.truncate(path, max(0, size - (mib << 20)))


def submit_big(b, data: str) -> subprocess.CompletedProcess:
    args = b.submit_args(data)
    args += ["--field", f"家庭收入说明={BIG}"]
    return b.cli(*args)


def test(b) -> None:
    mnt = os.path.join(b.dir, "disk")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,mode=700", "tmpfs", mnt],
                   check=True)
    try:
        run(b, mnt)
    finally:
        subprocess.run(["umount", "-l", mnt])


def run(b, mnt: str) -> None:
    data = os.path.join(mnt, "county")
    b.ok("init", "--data", data, "--code", "360723")
    os.chmod(data, 0o700)
    conf = b.config(data, "360723")
    log = os.path.join(b.dir, "county.log")
    d = b.start(conf, data, log)
    for _ in range(3):
        b.submit(data)
    filler = os.path.join(mnt, "filler")

    say("== through the daemon: the disk fills up")
    size = fill(filler)
    r = submit_big(b, data)
    if r.returncode == 0:
        raise Fail("a submission on a full disk was reported stored")
    say(f"  submission refused, exit {r.returncode}: {r.stderr.strip()[:160]}")
    if not store_full(b, data):
        raise Fail("status says store_full:false after a local submission was refused for space")
    say("  status: store_full true")
    free_some(filler, size)
    b.submit(data)
    if store_full(b, data):
        raise Fail("status still says store_full after a submission was stored (1 MiB free)")
    say("  1 MiB back: a submission stored, status store_full false")
    if b.stop(d) != 0:
        raise Fail("the daemon did not stop cleanly")

    say("== without a daemon: a direct CLI write on the full disk")
    os.unlink(filler)
    size = fill(filler)
    r = submit_big(b, data)
    if r.returncode == 0:
        raise Fail("a direct submission on a full disk was reported stored")
    if not store_full(b, data):
        raise Fail(f"status (no daemon) says store_full:false after a refused direct write: {r.stderr.strip()} {os.listdir(os.path.join(data, 'store'))}")
    say(f"  direct submission refused (exit {r.returncode}); status store_full true")
    free_some(filler, size)
    d = b.start(conf, data, log)
    if not store_full(b, data):
        raise Fail("the daemon started after a refused direct write says store_full:false")
    say("  daemon started: status store_full true (nothing has been stored since)")
    b.submit(data)
    if store_full(b, data):
        raise Fail("status still says store_full after the daemon stored a submission")
    say("  a submission stored through the daemon: store_full false")
    if b.stop(d) != 0:
        raise Fail("the daemon did not stop cleanly")
    os.unlink(filler)
    b.ok("store", "check", "--data", data)
    say("full flag ok: set by every refused write, cleared by the first that commits")


if __name__ == "__main__":
    if not in_own_mount_namespace():
        sys.exit(reexec_in_mount_namespace())
    sys.exit(main_with(test, __doc__))
