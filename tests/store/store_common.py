"""Shared by the store tests (tests/store/*_test.py): the real liandong binary
on real stores in a temporary directory, and daemons started as real
processes (a county node with no links: only its store and control socket).

Every wait has a deadline; every process started here is stopped here, by pid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True


class Fail(Exception):
    pass


def resident_id(body: str) -> str:
    """`body` (17 digits) with its GB 11643 check character: an ID number
    `liandong submit` takes."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def say(msg: str) -> None:
    print(msg, flush=True)


class Bench:
    """A scratch directory with nodes in it; removes it (and stops daemons) at exit."""

    def __init__(self, binary: str, keep: bool = False, base: str | None = None):
        self.bin = os.path.abspath(binary)
        self.dir = tempfile.mkdtemp(prefix="liandong-store-", dir=base)
        os.chmod(self.dir, 0o700)
        self.keep = keep
        self.daemons: list[subprocess.Popen] = []
        self.n = 0

    def __enter__(self) -> "Bench":
        return self

    def __exit__(self, *exc) -> None:
        for p in self.daemons:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=timeout,
                              env=env)

    def ok(self, *args: str) -> str:
        r = self.cli(*args)
        if r.returncode != 0:
            raise Fail(f"liandong {' '.join(args[:3])}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def init(self, code: str, name: str | None = None) -> str:
        data = os.path.join(self.dir, name or code)
        self.ok("init", "--data", data, "--code", code)
        os.chmod(data, 0o700)
        return data

    def submit_args(self, data: str, applicant: str | None = None) -> list[str]:
        self.n += 1
        i = self.n
        return ["submit", "--data", data, "--json-out", "--actor", "周敏", "--role", "clerk",
                "--item", "MZ-DB-001", "--item-name", "农村最低生活保障申请",
                "--applicant", applicant or f"申请人{i:04d}", "--id-number",
                resident_id(f"36072319700101{i % 1000:03d}"), "--phone", f"1397970{i % 10000:04d}",
                "--address", "上竹乡黄沙村", "--field", "家庭人口=3",
                "--material", "居民身份证:provided:copy", "--fee-due", "0",
                "--summary", f"第{i}号低保申请"]

    def submit(self, data: str, applicant: str | None = None) -> str:
        out = json.loads(self.ok(*self.submit_args(data, applicant)))
        if not out.get("case"):
            raise Fail(f"submit: no case id in {out}")
        return out["case"]

    def config(self, data: str, code: str) -> str:
        path = data + ".toml"
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'[node]\ncode = "{code}"\ndata = "{data}"\nlog_level = "info"\n')
        return path

    def start(self, conf: str, data: str, log: str, ready_s: float = 20) -> subprocess.Popen:
        """`liandong run`; returns once `status` answers through it."""
        p = self.spawn(conf, log)
        deadline = time.monotonic() + ready_s
        while True:
            if p.poll() is not None:
                raise Fail(f"liandong run exited with {p.returncode} at start: {tail(log)}")
            r = self.cli("status", "--data", data, "--json", timeout=10)
            if r.returncode == 0 and json.loads(r.stdout).get("running"):
                return p
            if time.monotonic() > deadline:
                raise Fail(f"the daemon does not answer {ready_s} s after start: {tail(log)}")
            time.sleep(0.1)

    def spawn(self, conf: str, log: str) -> subprocess.Popen:
        with open(log, "ab") as logf:
            p = subprocess.Popen([self.bin, "run", "--config", conf], stdout=logf,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        self.daemons.append(p)
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 15) -> int:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            raise Fail(f"the daemon (pid {p.pid}) is still running {timeout} s after SIGTERM")

    def start_submit_stop(self, conf: str, data: str, log: str, what: str) -> None:
        """Starts the daemon, submits one application through it, stops it
        (it must exit 0) and checks the store: a node that still works."""
        p = self.start(conf, data, log)
        self.submit(data)
        if self.stop(p) != 0:
            raise Fail(f"the daemon did not stop cleanly {what}")
        self.ok("store", "check", "--data", data)

    def events(self, data: str) -> list[dict]:
        return json.loads(self.ok("store", "events", "--data", data, "--json"))


def tail(path: str, n: int = 5) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return "(no log)"


def main_with(test, doc: str) -> int:
    """Parses --bin and --keep, runs test(bench); 0 on success, 1 on Fail."""
    import argparse
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    try:
        with Bench(args.bin, args.keep) as b:
            test(b)
    except Fail as e:
        say(f"FAIL: {e}")
        return 1
    say("PASS")
    return 0
