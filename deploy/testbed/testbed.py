#!/usr/bin/env python3
"""Network-namespace testbed for Liandong fault tests (python3 stdlib only).

One network namespace per node, named `ldtb-<pid>-<code>` so that parallel
runs never collide; a veth pair along every tree edge (child `uplink` <->
parent `c<n>`, addresses 10.77.<n>.2 / 10.77.<n>.1); per-link shaping:

  - bandwidth: `tc qdisc ... tbf` on both ends (each direction);
  - random loss: nftables `numgen random mod 100 < P drop` on the ingress of
    both ends (each direction; a dropped packet has crossed the wire and is
    counted in the sender's tx bytes, as on a real lossy link);
  - latency: `tc netem` when the kernel has it (`Testbed.netem_available()`);
    when it has not, asking for latency prints a loud warning and is skipped;
  - partitions: `ip link set ... down` / `up`;
  - small disks: `Testbed.mount_tmpfs()` puts a node's data directory on a
    tmpfs of its own; `fill_disk()` fills it with a filler file (the disk is
    full), `free_disk()` removes the filler. Unmounted on close.

It starts each node's `liandong run --config FILE` inside its namespace
(`ip netns exec`), stops it (SIGTERM) or kill -9s it by pid, and reads the
byte counters of each veth (`ip -s -j link` inside the namespace).
The CLI (`submit`, `status`, `store events`) runs from the caller's
namespace: the control socket is a path in the data directory.

Everything it made (daemons, namespaces, the work directory unless kept) is
removed on exit, on failure and on SIGINT/SIGTERM (`atexit` plus signal
handlers). `testbed.py --cleanup` removes leftover `ldtb-*` namespaces of
processes that are gone. Needs root: without it (or without permission for
`ip netns`) it prints one loud line and exits with code 77 (ctest: skipped).

By hand (as root):
  deploy/testbed/testbed.py --cleanup
  deploy/testbed/testbed.py up --bin build-testbed/node/liandong \
      [--rate-kbit 64] [--loss 10] [--delay-ms 0] [--keep]
      -> county 360723, township 360723101, village 360723101007; the
         village<->township link shaped; Ctrl-C tears it all down.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
PREFIX = "ldtb-"
PORT = 7601

_live: list["Testbed"] = []      # every testbed not yet closed, for atexit / signals
_handlers_installed = False


class Fail(Exception):
    pass


def say(text: str = "") -> None:
    print(text, flush=True)


def resident_id(body: str) -> str:
    """`body` (17 digits) with its GB 11643 check character: an ID number
    `liandong submit` takes."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def link_of(status: dict, peer: str) -> dict:
    """The link to `peer` in a `liandong status --json` document ({} if none)."""
    for link in status.get("links", []):
        if link.get("peer") == peer:
            return link
    return {}


def loud(text: str) -> None:
    print(f"!!!!! testbed: {text}", file=sys.stderr, flush=True)


def run(cmd: list[str], check: bool = True, timeout: float = 60, quiet: bool = False,
        input_text: str | None = None) -> subprocess.CompletedProcess:
    """Runs a command; a failure prints the command, its status and its whole
    output (unless quiet), then raises Fail if check."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input_text,
                           stdin=None if input_text is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        msg = f"`{' '.join(cmd)}`: no answer in {timeout:.0f} s"
        if not quiet:
            print(f"FAILED {msg}\n  stdout: {e.stdout!r}\n  stderr: {e.stderr!r}", file=sys.stderr,
                  flush=True)
        raise Fail(msg)
    if r.returncode != 0:
        if not quiet:
            print(f"FAILED (exit {r.returncode}): {' '.join(cmd)}\n"
                  f"  stdout: {r.stdout.rstrip()}\n  stderr: {r.stderr.rstrip()}",
                  file=sys.stderr, flush=True)
        if check:
            raise Fail(f"`{' '.join(cmd[:6])}{' …' if len(cmd) > 6 else ''}` exited {r.returncode}: "
                       f"{(r.stderr or r.stdout).strip()[:300]}")
    return r


def require_root() -> None:
    """Exits 77 with one loud line unless this process may make namespaces."""
    if os.geteuid() != 0:
        loud("SKIPPED: needs root (network namespaces, veth, tc, nftables); run as root / sudo")
        sys.exit(SKIP)
    for tool in ("ip", "tc", "nft"):
        if shutil.which(tool) is None:
            loud(f"SKIPPED: `{tool}` is not installed (iproute2 / nftables)")
            sys.exit(SKIP)
    probe = f"{PREFIX}{os.getpid()}-probe"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        loud(f"SKIPPED: `ip netns add` is not permitted here: {r.stderr.strip()}")
        sys.exit(SKIP)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_namespaces() -> list[str]:
    r = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def _kill_namespace(ns: str) -> None:
    """Kills the processes left inside one of our namespaces, then deletes it."""
    r = run(["ip", "netns", "pids", ns], check=False, quiet=True)
    for p in r.stdout.split():
        try:
            os.kill(int(p), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    run(["ip", "netns", "del", ns], check=False)


def _mounts_under(path: str) -> list[str]:
    """Mount points at or below `path`, deepest first (from /proc/self/mounts)."""
    path = os.path.abspath(path)
    out = []
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            for line in f:
                mp = line.split()[1].replace("\\040", " ")
                if mp == path or mp.startswith(path + "/"):
                    out.append(mp)
    except OSError:
        pass
    return sorted(out, key=len, reverse=True)


def _umount(mp: str) -> None:
    r = run(["umount", mp], check=False, quiet=True)
    if r.returncode != 0:
        run(["umount", "-l", mp], check=False, quiet=True)


def cleanup_leftovers() -> int:
    """Removes `ldtb-<pid>-*` namespaces whose pid is gone, and the work
    directories (with any disk mounted below them) of such runs. Returns how
    many namespaces."""
    n = 0
    for ns in list_namespaces():
        if not ns.startswith(PREFIX):
            continue
        parts = ns.split("-")
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid != os.getpid() and _pid_alive(pid):
            say(f"  keeping {ns}: process {pid} still runs")
            continue
        _kill_namespace(ns)
        say(f"  removed {ns}")
        n += 1
    # Work directories of killed runs (not of kept ones: --keep runs exit, so
    # their pid is gone too; only remove dirs without a `kept` marker).
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        parts = name.split("-")
        path = os.path.join(tmp, name)
        if (name.startswith(PREFIX) and len(parts) >= 3 and parts[1].isdigit() and os.path.isdir(path)
                and not _pid_alive(int(parts[1])) and not os.path.exists(os.path.join(path, "kept"))):
            for mp in _mounts_under(path):
                _umount(mp)
                say(f"  unmounted {mp}")
            shutil.rmtree(path, ignore_errors=True)
            say(f"  removed {path}")
    return n


def _close_all() -> None:
    for tb in list(_live):
        tb.close()


def _on_signal(signo, _frame) -> None:
    loud(f"signal {signal.Signals(signo).name}: tearing the testbed down")
    _close_all()
    sys.exit(128 + signo)


def _install_handlers() -> None:
    global _handlers_installed
    if _handlers_installed:
        return
    atexit.register(_close_all)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    _handlers_installed = True


class Node:
    def __init__(self, tb: "Testbed", code: str, parent: str | None, sync: dict):
        self.code = code
        self.parent = parent
        self.sync = dict(sync)
        self.ns = f"{tb.prefix}{code}"
        self.data = os.path.join(tb.work, code)
        self.conf = os.path.join(tb.work, "conf", code + ".toml")
        self.log = os.path.join(tb.work, "logs", code + ".log")
        self.keys: dict = {}
        self.proc: subprocess.Popen | None = None
        self.children: list[str] = []
        self.index = 0            # link number of the edge to its parent (10.77.<index>.0/24)
        self.starts = 0
        self.stopped = False       # stopped by the testbed, not by itself
        self.disk_mb = 0           # > 0: data directory on a tmpfs of this size

    @property
    def up_dev(self) -> str:
        return "uplink"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Testbed:
    """A tree of liandong nodes, one network namespace each.

    Use: tb = Testbed(bin); tb.add(code, parent, sync); tb.build(); tb.init();
    tb.shape(child, ...); tb.start(code); ...; tb.close() (also at exit).
    Not thread-safe; one testbed per process is the usual case, several work.
    """

    def __init__(self, binary: str, work: str | None = None, keep: bool = False):
        _install_handlers()
        self.bin = os.path.abspath(binary)
        if not os.access(self.bin, os.X_OK):
            raise Fail(f"{self.bin}: not an executable liandong binary")
        self.prefix = f"{PREFIX}{os.getpid()}-"
        if len(_live) > 0:
            self.prefix = f"{PREFIX}{os.getpid()}-t{len(_live)}-"
        self.own_work = work is None
        self.work = os.path.abspath(work or tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self.keep = keep
        os.makedirs(os.path.join(self.work, "conf"), exist_ok=True)
        os.makedirs(os.path.join(self.work, "logs"), exist_ok=True)
        self.nodes: dict[str, Node] = {}
        self.namespaces: list[str] = []
        self.mounts: list[str] = []
        self.closed = False
        self._netem: bool | None = None
        _live.append(self)

    # --- topology ------------------------------------------------------------

    def add(self, code: str, parent: str | None = None, sync: dict | None = None) -> Node:
        if parent is not None and parent not in self.nodes:
            raise Fail(f"{code}: parent {parent} must be added first")
        n = Node(self, code, parent, sync or {})
        self.nodes[code] = n
        if parent is not None:
            self.nodes[parent].children.append(code)
            n.index = sum(1 for x in self.nodes.values() if x.parent is not None)
        return n

    def parent_dev(self, child: str) -> str:
        return f"c{self.nodes[child].index}"

    def addr(self, child: str, side: str) -> str:
        return f"10.77.{self.nodes[child].index}.{1 if side == 'parent' else 2}"

    def build(self) -> None:
        """Makes the namespaces and the veth links (all up, unshaped)."""
        for n in self.nodes.values():
            run(["ip", "netns", "add", n.ns])
            self.namespaces.append(n.ns)
            self.ns_exec(n.ns, ["ip", "link", "set", "lo", "up"])
            # No IPv6 chatter (router solicitations) in the byte counts.
            self.ns_exec(n.ns, ["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"])
            self.ns_exec(n.ns, ["sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"])
        for n in self.nodes.values():
            if n.parent is None:
                continue
            p = self.nodes[n.parent]
            pdev = self.parent_dev(n.code)
            run(["ip", "-n", p.ns, "link", "add", "name", pdev, "type", "veth", "peer", "name",
                 n.up_dev, "netns", n.ns])
            run(["ip", "-n", p.ns, "addr", "add", self.addr(n.code, "parent") + "/24", "dev", pdev])
            run(["ip", "-n", n.ns, "addr", "add", self.addr(n.code, "child") + "/24", "dev", n.up_dev])
            run(["ip", "-n", p.ns, "link", "set", "dev", pdev, "up"])
            run(["ip", "-n", n.ns, "link", "set", "dev", n.up_dev, "up"])

    def ns_exec(self, ns: str, cmd: list[str], **kw) -> subprocess.CompletedProcess:
        return run(["ip", "netns", "exec", ns, *cmd], **kw)

    # --- shaping ---------------------------------------------------------------

    def netem_available(self) -> bool:
        """Whether this kernel has sch_netem (probed once on a scratch veth)."""
        if self._netem is None:
            ns = self.prefix + "netem-probe"
            run(["ip", "netns", "add", ns])
            try:
                run(["ip", "-n", ns, "link", "add", "name", "p0", "type", "veth", "peer", "name", "p1"])
                r = run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "p0", "root", "netem",
                         "delay", "1ms"], check=False, quiet=True)
                self._netem = r.returncode == 0
            finally:
                run(["ip", "netns", "del", ns], check=False)
        return self._netem

    def _ends(self, child: str) -> list[tuple[str, str]]:
        c = self.nodes[child]
        return [(c.ns, c.up_dev), (self.nodes[c.parent].ns, self.parent_dev(child))]

    def shape(self, child: str, rate_kbit: float | None = None, loss_pct: float = 0,
              delay_ms: float = 0, burst_bytes: int = 4096, queue_ms: int = 400) -> dict:
        """Shapes the link between `child` and its parent, both directions.
        rate: tbf at rate_kbit, burst_bytes, a queue of queue_ms at that rate;
        loss: nftables drop of loss_pct % on each end's ingress; delay: netem
        one-way delay_ms on each end if the kernel has netem (else a warning).
        Replaces any earlier shaping of that link. Returns what was applied."""
        applied = {"rate_kbit": rate_kbit, "loss_pct": loss_pct, "delay_ms": 0}
        use_netem = delay_ms > 0 and self.netem_available()
        if delay_ms > 0 and not use_netem:
            loud(f"this kernel has no sch_netem: latency ({delay_ms} ms) is NOT emulated on "
                 f"{child}'s link; only tbf queueing delay applies")
        if use_netem:
            applied["delay_ms"] = delay_ms
        for ns, dev in self._ends(child):
            run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"], check=False,
                quiet=True)
            tbf = []
            if rate_kbit:
                tbf = ["tbf", "rate", f"{rate_kbit}kbit", "burst", str(burst_bytes), "latency",
                       f"{queue_ms}ms"]
            if use_netem:
                run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "handle",
                     "1:", "netem", "delay", f"{delay_ms}ms", "limit", "10000"])
                if tbf:
                    run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "parent", "1:1",
                         "handle", "10:", *tbf])
            elif tbf:
                run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "handle",
                     "1:", *tbf])
            table = f"ldtb_{dev}"
            run(["ip", "netns", "exec", ns, "nft", "delete", "table", "netdev", table], check=False,
                quiet=True)
            if loss_pct > 0:
                rules = (f'table netdev {table} {{\n'
                         f'  chain loss {{ type filter hook ingress device "{dev}" priority 0;\n'
                         f'    numgen random mod 100 < {int(loss_pct)} counter drop; }}\n}}\n')
                run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input_text=rules)
        return applied

    def loss_drops(self, child: str) -> dict[str, int]:
        """Packets dropped by the loss rules: {'up': into the parent, 'down': into the child}."""
        out = {}
        for (ns, dev), key in zip(self._ends(child), ("down", "up")):
            r = run(["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "netdev", f"ldtb_{dev}"],
                    check=False, quiet=True)
            pk = 0
            if r.returncode == 0:
                for item in json.loads(r.stdout).get("nftables", []):
                    for e in item.get("rule", {}).get("expr", []):
                        if "counter" in e:
                            pk += e["counter"]["packets"]
            out[key] = pk
        return out

    def qdisc_stats(self, child: str) -> str:
        lines = []
        for ns, dev in self._ends(child):
            r = run(["ip", "netns", "exec", ns, "tc", "-s", "qdisc", "show", "dev", dev], check=False)
            lines.append(f"{ns}/{dev}: " + " | ".join(x.strip() for x in r.stdout.splitlines()))
        return "\n".join(lines)

    def partition(self, child: str) -> None:
        """Cuts the link between child and its parent (link down, both ends)."""
        for ns, dev in self._ends(child):
            run(["ip", "-n", ns, "link", "set", "dev", dev, "down"])

    def heal(self, child: str) -> None:
        for ns, dev in self._ends(child):
            run(["ip", "-n", ns, "link", "set", "dev", dev, "up"])

    def counters(self, code: str, dev: str | None = None) -> dict[str, int]:
        """Byte and packet counters of a node's veth (default: its uplink)."""
        n = self.nodes[code]
        dev = dev or n.up_dev
        r = run(["ip", "-n", n.ns, "-j", "-s", "link", "show", "dev", dev])
        s = json.loads(r.stdout)[0]["stats64"]
        return {"tx_bytes": s["tx"]["bytes"], "rx_bytes": s["rx"]["bytes"],
                "tx_packets": s["tx"]["packets"], "rx_packets": s["rx"]["packets"]}

    # --- small disks -----------------------------------------------------------

    def mount_tmpfs(self, code: str, size_mb: int) -> None:
        """Puts the node's data directory on a tmpfs of size_mb MiB (before
        `init`). The daemon sees it: `ip netns exec` copies the mounts."""
        n = self.nodes[code]
        os.makedirs(n.data, exist_ok=True)
        run(["mount", "-t", "tmpfs", "-o", f"size={int(size_mb)}m,mode=0700", f"ldtb-{code}", n.data])
        self.mounts.append(n.data)
        n.disk_mb = int(size_mb)

    def filler(self, code: str) -> str:
        return os.path.join(self.nodes[code].data, "filler.bin")

    def fill_disk(self, code: str, leave_bytes: int = 0, limit_s: float = 20) -> int:
        """Fills the node's tmpfs with a filler file until the kernel says
        ENOSPC (leave_bytes > 0: stops that much short). Returns the bytes
        written by this call."""
        n = self.nodes[code]
        if not n.disk_mb:
            raise Fail(f"{code}: its data directory is not on a testbed disk")
        written = 0
        deadline = time.monotonic() + limit_s
        with open(self.filler(code), "ab", buffering=0) as f:
            for chunk in (1 << 20, 64 << 10, 4 << 10, 512):
                block = b"\0" * chunk
                while time.monotonic() < deadline:
                    if leave_bytes and shutil.disk_usage(n.data).free - chunk < leave_bytes:
                        break
                    try:
                        f.write(block)
                        written += chunk
                    except OSError:
                        break
        return written

    def free_disk(self, code: str) -> None:
        """Removes the filler file."""
        try:
            os.remove(self.filler(code))
        except FileNotFoundError:
            pass

    def disk_free(self, code: str) -> int:
        return shutil.disk_usage(self.nodes[code].data).free

    # --- stores and configs --------------------------------------------------

    def cli(self, *args: str, check: bool = True, timeout: float = 60,
            quiet: bool = False) -> subprocess.CompletedProcess:
        return run([self.bin, *args], check=check, timeout=timeout, quiet=quiet)

    def cli_json(self, *args: str, timeout: float = 60):
        r = self.cli(*args, timeout=timeout)
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            raise Fail(f"liandong {' '.join(args[:4])}: not JSON: {r.stdout.strip()[:300]}")

    def init(self) -> None:
        """`liandong init` for every node, then writes and checks their configs."""
        for n in self.nodes.values():
            self.cli("init", "--data", n.data, "--code", n.code)
            n.keys = self.cli_json("keys", "show", "--data", n.data, "--json")
            for k in ("sign_key", "curve_key"):
                if not n.keys.get(k):
                    raise Fail(f"keys show --json for {n.code} has no {k}: {n.keys}")
        for n in self.nodes.values():
            self.write_config(n)

    def write_config(self, n: Node) -> None:
        text = (f"# {n.code}, written by deploy/testbed/testbed.py (namespace {n.ns})\n"
                f'[node]\ncode = "{n.code}"\ndata = "{n.data}"\nlog_level = "info"\n')
        if n.children:
            text += f'\n[listen]\nendpoint = "tcp://0.0.0.0:{PORT}"\n'
        if n.parent:
            p = self.nodes[n.parent]
            text += (f'\n[[upstream]]\ncode = "{p.code}"\n'
                     f'endpoint = "tcp://{self.addr(n.code, "parent")}:{PORT}"\n'
                     f'curve_key = "{p.keys["curve_key"]}"\nsign_key = "{p.keys["sign_key"]}"\n')
        for c in n.children:
            k = self.nodes[c].keys
            text += (f'\n[[child]]\ncode = "{c}"\ncurve_key = "{k["curve_key"]}"\n'
                     f'sign_key = "{k["sign_key"]}"\n')
        if n.sync:
            text += "\n[sync]\n" + "".join(f"{k} = {v}\n" for k, v in n.sync.items())
        with open(n.conf, "w", encoding="utf-8") as f:
            f.write(text)
        self.cli("config", "check", n.conf)

    # --- daemons ---------------------------------------------------------------

    def start(self, code: str, ready_s: float = 20) -> None:
        """Starts `liandong run` in the node's namespace; returns once it
        answers `liandong status`."""
        n = self.nodes[code]
        if n.running():
            raise Fail(f"{code} is already running")
        n.starts += 1
        n.stopped = False
        with open(n.log, "ab") as logf:
            logf.write(f"--- testbed: start #{n.starts} at {time.strftime('%H:%M:%S')}\n".encode())
            logf.flush()
            n.proc = subprocess.Popen(["ip", "netns", "exec", n.ns, self.bin, "run", "--config", n.conf],
                                      stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        deadline = time.monotonic() + ready_s
        last = ""
        while True:
            if n.proc.poll() is not None:
                self.tail(code)
                raise Fail(f"{code}: liandong run exited with status {n.proc.returncode} at start")
            r = self.cli("status", "--data", n.data, "--json", check=False, quiet=True, timeout=10)
            if r.returncode == 0:
                try:
                    if json.loads(r.stdout).get("running"):
                        return
                except json.JSONDecodeError:
                    pass
            last = (r.stderr or r.stdout).strip()
            if time.monotonic() > deadline:
                self.tail(code)
                raise Fail(f"{code}: not answering `liandong status` {ready_s:.0f} s after start: {last}")
            time.sleep(0.1)

    def stop(self, code: str, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Signals the node's daemon by pid and waits; SIGKILL if SIGTERM is
        not enough within timeout (and then raises). Returns the exit status."""
        n = self.nodes[code]
        if not n.running():
            raise Fail(f"{code} is not running (status {n.proc.returncode if n.proc else '-'})")
        n.stopped = True
        os.kill(n.proc.pid, sig)
        try:
            return n.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(n.proc.pid, signal.SIGKILL)
            n.proc.wait()
            raise Fail(f"{code}: still running {timeout:.0f} s after {signal.Signals(sig).name}")

    def kill9(self, code: str) -> int:
        return self.stop(code, signal.SIGKILL)

    def wait_until(self, what: str, limit: float, cond) -> float:
        """Polls cond() (a problem string, or None when satisfied) every
        0.25 s, checking the daemons stay alive, until None or `limit`
        seconds; returns the seconds it took, or raises Fail naming `what`."""
        t0 = time.monotonic()
        while True:
            self.check_alive()
            problem = cond()
            if problem is None:
                return time.monotonic() - t0
            if time.monotonic() - t0 > limit:
                raise Fail(f"{what}: not so after {limit:.0f} s: {problem}")
            time.sleep(0.25)

    def check_alive(self, *codes: str) -> None:
        """Raises Fail if a daemon it started (of codes, default all) has exited."""
        for n in self.nodes.values():
            if codes and n.code not in codes:
                continue
            if n.proc is not None and not n.stopped and n.proc.poll() is not None:
                self.tail(n.code)
                raise Fail(f"{n.code}: liandong run exited by itself with status {n.proc.returncode}")

    def status(self, code: str) -> dict:
        return self.cli_json("status", "--data", self.nodes[code].data, "--json", timeout=20)

    def events(self, code: str) -> list[dict]:
        return self.cli_json("store", "events", "--data", self.nodes[code].data, "--json", timeout=60)

    def tail(self, code: str, lines: int = 30) -> None:
        n = self.nodes[code]
        print(f"--- {code} log {n.log} (last {lines} lines)", file=sys.stderr)
        try:
            with open(n.log, encoding="utf-8", errors="replace") as f:
                for line in f.readlines()[-lines:]:
                    sys.stderr.write("    " + line)
        except FileNotFoundError:
            print("    (no log)", file=sys.stderr)
        sys.stderr.flush()

    def grep_log(self, code: str, *needles: str, limit: int = 40) -> list[str]:
        out = []
        try:
            with open(self.nodes[code].log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if any(s in line for s in needles):
                        out.append(line.rstrip())
        except FileNotFoundError:
            pass
        return out[-limit:]

    # --- teardown --------------------------------------------------------------

    def close(self) -> None:
        """Kills the daemons it started (by pid), deletes its namespaces and,
        unless kept, its work directory. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for n in self.nodes.values():
            if n.running():
                try:
                    os.kill(n.proc.pid, signal.SIGKILL)
                    n.proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        for ns in self.namespaces:
            _kill_namespace(ns)
        self.namespaces.clear()
        for mp in reversed(self.mounts):
            if self.keep:
                # A kept store must stay readable: copy it off the tmpfs first.
                try:
                    shutil.copytree(mp, mp + ".kept", dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("filler.bin", "*.sock", "control*"))
                except (OSError, shutil.Error) as e:
                    loud(f"copying {mp} off its tmpfs: {e}")
            _umount(mp)
        self.mounts.clear()
        if self.own_work and not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        elif self.keep:
            with open(os.path.join(self.work, "kept"), "w") as f:
                f.write("kept by testbed.py --keep; --cleanup leaves this directory alone\n")
            say(f"testbed: kept {self.work} (stores, configs, logs)")
        if self in _live:
            _live.remove(self)


# --- by hand -----------------------------------------------------------------

COUNTY, TOWNSHIP, VILLAGE = "360723", "360723101", "360723101007"


def stop_and_check(tb: "Testbed", codes) -> bool:
    """SIGTERMs each node (exit status 0 expected), then `store check`s its
    store; says each result. False if any failed."""
    say("== stopping (SIGTERM, exit status 0 expected), then `store check`")
    ok = True
    for code in codes:
        rc = tb.stop(code)
        r = tb.cli("store", "check", "--data", tb.nodes[code].data, check=False)
        say(f"  {code}: exit {rc}; store check: {(r.stdout or r.stderr).strip()}")
        if rc != 0 or r.returncode != 0:
            ok = False
    if not ok:
        say("FAIL: a daemon did not stop cleanly or a store check failed")
    return ok


def run_fault_test(doc: str, scenario) -> int:
    """The main() of a fault test (tests/fault/*_test.py): --bin and --keep,
    root required (exit 77 without), scenario(tb) -> bool on a fresh Testbed,
    the nodes' log tails on failure, everything cleaned up. Exit status 0 or 1."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the liandong binary")
    ap.add_argument("--keep", action="store_true", help="keep stores, configs and logs")
    a = ap.parse_args()
    require_root()
    tb = Testbed(a.bin, keep=a.keep or os.environ.get("LIANDONG_KEEP") == "1")
    ok = False
    try:
        ok = scenario(tb)
    except Fail as e:
        say(f"FAIL: {e}")
    finally:
        if not ok:
            for code in tb.nodes:
                tb.tail(code, 25)
        tb.close()
    return 0 if ok else 1


def cmd_up(a) -> int:
    tb = Testbed(a.bin, keep=a.keep)
    tb.add(COUNTY)
    tb.add(TOWNSHIP, COUNTY)
    tb.add(VILLAGE, TOWNSHIP, sync={"heartbeat_ms": 5000, "peer_timeout_ms": 60000,
                                    "ack_timeout_ms": 30000})
    tb.build()
    tb.init()
    applied = tb.shape(VILLAGE, rate_kbit=a.rate_kbit or None, loss_pct=a.loss, delay_ms=a.delay_ms)
    for c in (COUNTY, TOWNSHIP, VILLAGE):
        tb.start(c)
    say(f"testbed up in {tb.work}; village link: {applied}")
    for n in tb.nodes.values():
        say(f"  {n.code}: namespace {n.ns}, config {n.conf}, log {n.log}")
        say(f"    liandong status --data {n.data}")
    say("Ctrl-C tears it all down.")
    try:
        while True:
            time.sleep(5)
            for n in tb.nodes.values():
                if not n.running():
                    loud(f"{n.code} exited with status {n.proc.returncode}")
                    tb.tail(n.code)
                    return 1
    finally:
        tb.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cleanup", action="store_true",
                    help="remove leftover ldtb-<pid>-* namespaces of processes that are gone")
    sub = ap.add_subparsers(dest="cmd")
    up = sub.add_parser("up", help="county, township, village; shaped village link; until Ctrl-C")
    up.add_argument("--bin", required=True)
    up.add_argument("--rate-kbit", type=float, default=64)
    up.add_argument("--loss", type=float, default=10)
    up.add_argument("--delay-ms", type=float, default=0)
    up.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    require_root()
    if a.cleanup:
        n = cleanup_leftovers()
        say(f"testbed cleanup: {n} namespace(s) removed")
        return 0
    if a.cmd == "up":
        try:
            return cmd_up(a)
        except Fail as e:
            loud(f"FAILED: {e}")
            return 1
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
