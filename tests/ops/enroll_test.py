#!/usr/bin/env python3
"""Enrollment (入网) and live configuration across real daemons.

A county (360723) enrolls a township (360723101) with a one-time join code;
the township enrolls two villages (水城村 360723101007, 新田村 360723101008).
Nobody edits a file and no daemon restarts to admit them. Then:

- refusals, each answered with one line and audited (入网拒绝), the audit
  reaching the county: a code used a second time, an expired code, a code
  changed to name another township's village, a wrong secret, and a code
  for another township's village refused at `enroll create`;
- an application registered at 水城村 reaches the county;
- SIGHUP (`systemctl reload liandong`) adds a [[child]] (大塘村 ...011,
  which then links up) and removes it again, while the enrolled villages'
  links stay up the whole time (same session start); a broken config is
  refused with its line and the running one kept;
- a stolen laptop: `enroll remove` closes 新田村's link; a new laptop joins
  with a fresh code and links up.

Usage: enroll_test.py --bin build/node/liandong
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "deploy"))
from network import id_number  # noqa: E402

COUNTY, TOWN, TOWN2 = "360723", "360723101", "360723102"
V7, V8, V9 = "360723101007", "360723101008", "360723101009"
V11 = "360723101011"  # 大塘村: named in the township's config by hand
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FAST_SYNC = """
[sync]
heartbeat_ms = 200
peer_timeout_ms = 1500
ack_timeout_ms = 1000
redial_min_ms = 50
redial_max_ms = 500
"""


class Fail(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- join codes, read and re-sealed as a forger would -----------------------

def decode_code(text: str) -> bytes:
    syms = text.replace("-", "")[2:]
    acc, bits, out = 0, 0, bytearray()
    for ch in syms:
        acc = (acc << 5) | ALPHABET.index(ch)
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def encode_code(body: bytes) -> str:
    """Re-encodes code bytes (without their check) with a valid check."""
    b = body + hashlib.blake2b(body, digest_size=16).digest()[:2]
    acc, bits, syms = 0, 0, ""
    for byte in b:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            syms += ALPHABET[(acc >> bits) & 31]
    if bits:
        syms += ALPHABET[(acc << (5 - bits)) & 31]
    return "LD" + "".join("-" + syms[i:i + 4] for i in range(0, len(syms), 4))


def with_code(text: str, code: str) -> str:
    b = bytearray(decode_code(text)[:-2])
    b[1:6] = int(code).to_bytes(5, "big")
    return encode_code(bytes(b))


def with_secret_flipped(text: str) -> str:
    b = bytearray(decode_code(text)[:-2])
    b[-1] ^= 0x5A  # the secret is the last 8 bytes before the check
    return encode_code(bytes(b))


class Ops:
    def __init__(self, binary: str, work: str):
        self.bin = binary
        self.work = work
        self.procs: dict[str, subprocess.Popen] = {}
        self.env: dict[str, dict] = {}

    def dir(self, name: str) -> str:
        return os.path.join(self.work, name)

    def data(self, name: str) -> str:
        return os.path.join(self.dir(name), "data")

    def conf(self, name: str) -> str:
        return os.path.join(self.dir(name), "node.toml")

    def cli(self, *args: str, check: bool = True, timeout: float = 40):
        r = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise Fail(f"liandong {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def start(self, name: str, extra_env: dict | None = None) -> None:
        log = open(os.path.join(self.dir(name), "node.log"), "ab")
        env = dict(os.environ)
        env.update(extra_env or {})
        p = subprocess.Popen([self.bin, "run", "--config", self.conf(name)], stdout=log,
                             stderr=subprocess.STDOUT, env=env)
        self.procs[name] = p
        deadline = time.time() + 20
        while time.time() < deadline:
            if p.poll() is not None:
                raise Fail(f"{name} exited {p.returncode}:\n{self.tail(name)}")
            r = self.cli("status", "--json", "--data", self.data(name), check=False)
            if r.returncode == 0 and json.loads(r.stdout).get("running"):
                return
            time.sleep(0.2)
        raise Fail(f"{name} did not start:\n{self.tail(name)}")

    def stop(self, name: str) -> None:
        p = self.procs.pop(name, None)
        if p is None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    def kill_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(5)
        self.procs.clear()

    def tail(self, name: str, n: int = 30) -> str:
        try:
            with open(os.path.join(self.dir(name), "node.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def links(self, name: str) -> dict:
        r = self.cli("status", "--json", "--data", self.data(name))
        return {(l["peer"], l["direction"]): l for l in json.loads(r.stdout)["links"]}

    def wait_link(self, name: str, peer: str, direction: str, up: bool, timeout: float = 20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            l = self.links(name).get((peer, direction))
            if (l is not None and l["state"] == "up") == up:
                return l
            time.sleep(0.2)
        raise Fail(f"{name}: link {direction} to {peer} not {'up' if up else 'down'} in "
                   f"{timeout:.0f} s:\n{self.tail(name)}")

    def audit(self, name: str) -> list:
        r = self.cli("audit", "--json", "--data", self.data(name))
        return json.loads(r.stdout)


def wait_log(ops: Ops, name: str, words: str, timeout: float = 10) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if words in ops.tail(name, 40):
            return
        time.sleep(0.1)
    raise Fail(f"{name}: no '{words}' in its log within {timeout:.0f} s:\n{ops.tail(name)}")


def enroll_code(ops: Ops, at: str, code: str, *extra: str) -> str:
    r = ops.cli("enroll", "create", code, "--json", "--data", ops.data(at), *extra)
    return json.loads(r.stdout)["join_code"]


def expect_refused(r, words: str, what: str) -> None:
    if r.returncode == 0 or words not in r.stderr:
        raise Fail(f"{what}: expected a refusal saying '{words}', got exit {r.returncode}: "
                   f"{r.stdout.strip()} {r.stderr.strip()}")
    if len(r.stderr.strip().splitlines()) != 1:
        raise Fail(f"{what}: the refusal is not one line: {r.stderr!r}")
    print(f"  refused as expected ({what}): {r.stderr.strip()}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="liandong-enroll-")
    ops = Ops(os.path.abspath(args.bin), work)
    t0 = time.time()
    try:
        run(ops)
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        for name in sorted(os.listdir(work)):
            if os.path.isdir(ops.dir(name)):
                print(f"--- {name} log ---\n{ops.tail(name)}", file=sys.stderr)
        return 1
    finally:
        ops.kill_all()
    print(f"enroll test passed in {time.time() - t0:.1f} s")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def run(ops: Ops) -> None:
    # The county: made by hand (init and a config), taking joins on loopback.
    os.makedirs(ops.dir("county"))
    ops.cli("init", "--data", ops.data("county"), "--code", COUNTY)
    cp, ce = free_port(), free_port()
    with open(ops.conf("county"), "w") as f:
        f.write(f'[node]\ncode = "{COUNTY}"\ndata = "data"\n\n[listen]\nendpoint = '
                f'"tcp://127.0.0.1:{cp}"\n\n[enroll]\nendpoint = "tcp://127.0.0.1:{ce}"\n'
                f'address = "127.0.0.1"\n\n[desk]\nlisten = "off"\n{FAST_SYNC}')
    ops.start("county")

    print("1. the county enrolls 南安镇; the township joins with nothing but the code")
    code_t = enroll_code(ops, "county", TOWN)
    if not code_t.startswith("LD-") or len(code_t) != 62:
        raise Fail(f"unexpected join code {code_t!r}")
    os.makedirs(ops.dir("town"))
    tp, te = free_port(), free_port()
    r = ops.cli("join", code_t.lower().replace("-", " "), "--config", ops.conf("town"),
                "--data", ops.data("town"), "--listen", f"tcp://127.0.0.1:{tp}",
                "--enroll-endpoint", f"tcp://127.0.0.1:{te}", "--json")
    joined = json.loads(r.stdout)
    if joined["parent"] != COUNTY or joined["endpoint"] != f"tcp://127.0.0.1:{cp}":
        raise Fail(f"township joined wrongly: {joined}")
    with open(ops.conf("town"), "a") as f:
        f.write('\n[desk]\nlisten = "off"\n' + FAST_SYNC)
    ops.start("town")
    ops.wait_link("county", TOWN, "down", True)
    ops.wait_link("town", COUNTY, "up", True)

    print("2. the township enrolls 水城村 and 新田村")
    for v in (V7, V8):
        os.makedirs(ops.dir(v))
        c = enroll_code(ops, "town", v, "--expires", "2h")
        r = ops.cli("join", c, "--config", ops.conf(v), "--data", ops.data(v))
        if "已入网" not in r.stdout:
            raise Fail(f"join of {v} printed: {r.stdout}")
        with open(ops.conf(v), "a") as f:
            f.write('\n[desk]\nlisten = "off"\n' + FAST_SYNC)
        ops.start(v)
        ops.wait_link("town", v, "down", True)
        ops.wait_link(v, TOWN, "up", True)
        if v == V7:
            used_code = c
    enrolled = json.loads(ops.cli("enroll", "list", "--json", "--data", ops.data("town")).stdout)
    if sorted(c["code"] for c in enrolled["children"]) != [V7, V8]:
        raise Fail(f"enroll list: {enrolled}")
    if any(c["state"] != "used" for c in enrolled["codes"]):
        raise Fail(f"codes not marked used: {enrolled['codes']}")

    print("3. refusals")
    os.makedirs(ops.dir("thief"))
    r = ops.cli("join", used_code, "--config", ops.conf("thief"), "--data", ops.data("thief"),
                check=False)
    expect_refused(r, "已使用", "a code used twice")
    if os.path.exists(ops.conf("thief")):
        raise Fail("a refused join wrote a config")
    # Another township's village: refused when the code is made, and when
    # a code is altered to name it (its check recomputed).
    r = ops.cli("enroll", "create", "360723102005", "--data", ops.data("town"), check=False)
    if r.returncode != 2 or "辖区" not in r.stderr:
        raise Fail(f"enroll create outside the township: exit {r.returncode} {r.stderr}")
    c9 = enroll_code(ops, "town", V9, "--expires", "2h")
    os.makedirs(ops.dir("other"))
    r = ops.cli("join", with_code(c9, "360723102005"), "--config", ops.conf("other"),
                "--data", ops.data("other"), check=False)
    expect_refused(r, "辖区", "a code altered for another township's village")
    # A wrong secret (the check recomputed, so only the township can tell).
    os.makedirs(ops.dir(V9))
    r = ops.cli("join", with_secret_flipped(c9), "--config", ops.conf(V9), "--data",
                ops.data(V9), check=False)
    expect_refused(r, "入网码不符", "a wrong secret")
    # A mistyped code is caught before anything is sent.
    typo = c9[:10] + ("X" if c9[10] != "X" else "Y") + c9[11:]
    r = ops.cli("join", typo, "--config", ops.conf(V9), "--data", ops.data(V9), check=False)
    if r.returncode != 2 or "校验不符" not in r.stderr:
        raise Fail(f"a mistyped code: exit {r.returncode} {r.stderr}")
    # Expired: the township's clock moved past the code's hour.
    c_exp = enroll_code(ops, "town", "360723101010", "--expires", "1h")
    ops.stop("town")
    ops.start("town", {"LIANDONG_TEST_CLOCK_OFFSET_MS": str(3600 * 1000 + 60 * 1000)})
    os.makedirs(ops.dir("late"))
    r = ops.cli("join", c_exp, "--config", ops.conf("late"), "--data", ops.data("late"),
                check=False)
    expect_refused(r, "已过期", "an expired code")
    ops.stop("town")
    ops.start("town")
    ops.wait_link("town", V7, "down", True)
    ops.wait_link("town", COUNTY, "up", True)
    # The wrong secret did not burn the code: the real one still works.
    r = ops.cli("join", c9, "--config", ops.conf(V9), "--data", ops.data(V9))
    with open(ops.conf(V9), "a") as f:
        f.write('\n[desk]\nlisten = "off"\n' + FAST_SYNC)
    refused = [e for e in ops.audit("town") if e["what"] == "enroll_refused"]
    reasons = " | ".join(e["reason"] for e in refused)
    for words in ("used already", "outside this node's jurisdiction", "wrong secret", "expired"):
        if words not in reasons:
            raise Fail(f"township audit lacks a refusal '{words}': {reasons}")
    print(f"  township audit: {len(refused)} 入网拒绝 entries")

    print("4. 水城村 registers an application; the county holds it")
    r = ops.cli("submit", "--data", ops.data(V7), "--json-out", "--actor", "王小红", "--role",
                "agent", "--item", "YB-CB-004", "--item-name", "城乡居民医保参保登记",
                "--applicant", "张桂兰", "--id-number", id_number("19580312", "042"),
                "--phone", "13907971234", "--address", "南安镇水城村", "--fee-due", "0",
                "--summary", "张桂兰申请城乡居民医保参保登记")
    case_id = json.loads(r.stdout)["case"]
    deadline = time.time() + 30
    while time.time() < deadline:
        r = ops.cli("case", "list", "--json", "--data", ops.data("county"))
        if case_id in r.stdout:
            break
        time.sleep(0.3)
    else:
        raise Fail(f"case {case_id} did not reach the county")
    county_audit = ops.audit("county")
    joined_at_county = {e["peer_code"] for e in county_audit if e["what"] == "node_enrolled"}
    if not {TOWN, V7, V8} <= joined_at_county:
        raise Fail(f"the county's audit lacks enrollments: {joined_at_county}")
    refused_at_county = [e for e in county_audit if e["what"] == "enroll_refused"]
    if len(refused_at_county) < 4:
        raise Fail(f"the county holds {len(refused_at_county)} of the township's refusals")
    print(f"  case {case_id} at the county; its audit shows 入网 of {sorted(joined_at_county)}"
          f" and {len(refused_at_county)} 入网拒绝")

    print("5. SIGHUP: a [[child]] added, then removed; the other links undisturbed")
    before = {v: ops.links("town")[(v, "down")]["since_ms"] for v in (V7, V8)}
    os.makedirs(ops.dir(V11))
    ops.cli("init", "--data", ops.data(V11), "--code", V11)
    keys11 = json.loads(ops.cli("keys", "show", "--json", "--data", ops.data(V11)).stdout)
    keys_t = json.loads(ops.cli("keys", "show", "--json", "--data", ops.data("town")).stdout)
    with open(ops.conf(V11), "w") as f:
        f.write(f'[node]\ncode = "{V11}"\ndata = "data"\n\n[[upstream]]\ncode = "{TOWN}"\n'
                f'endpoint = "tcp://127.0.0.1:{tp}"\ncurve_key = "{keys_t["curve_key"]}"\n'
                f'sign_key = "{keys_t["sign_key"]}"\n\n[desk]\nlisten = "off"\n{FAST_SYNC}')
    with open(ops.conf("town")) as f:
        town_conf = f.read()
    with open(ops.conf("town"), "a") as f:
        f.write(f'\n[[child]]\ncode = "{V11}"\ncurve_key = "{keys11["curve_key"]}"\n'
                f'sign_key = "{keys11["sign_key"]}"\n')
    ops.procs["town"].send_signal(signal.SIGHUP)
    ops.start(V11)
    ops.wait_link("town", V11, "down", True)
    # A broken file: refused with its line, nothing changes.
    with open(ops.conf("town"), "a") as f:
        f.write('\n[sync]\nheartbeat_ms = "fast"\n')
    ops.procs["town"].send_signal(signal.SIGHUP)
    wait_log(ops, "town", "reload refused")
    if "node.toml:" not in ops.tail("town", 10):
        raise Fail("a broken config was not refused with its line:\n" + ops.tail("town", 10))
    ops.wait_link("town", V11, "down", True, timeout=2)
    # Removed again.
    with open(ops.conf("town"), "w") as f:
        f.write(town_conf)
    ops.procs["town"].send_signal(signal.SIGHUP)
    ops.wait_link("town", V11, "down", False)
    ops.wait_link(V11, TOWN, "up", False)
    after = ops.links("town")
    for v in (V7, V8):
        if after[(v, "down")]["state"] != "up" or after[(v, "down")]["since_ms"] != before[v]:
            raise Fail(f"the link to {v} was disturbed by the reloads: {after[(v, 'down')]}")
    if ops.procs["town"].poll() is not None:
        raise Fail("the township died on a reload")
    ops.stop(V11)
    print("  大塘村 linked up and was dropped; 水城村 and 新田村 stayed up throughout")

    print("6. a stolen laptop: 新田村 removed, its new laptop enrolled")
    r = ops.cli("enroll", "remove", V8, "--reason", "代理点笔记本电脑被盗", "--actor", "刘乡长",
                "--data", ops.data("town"))
    ops.wait_link("town", V8, "down", False)
    ops.stop(V8)
    stolen_key = json.loads(ops.cli("keys", "show", "--json", "--data", ops.data(V8)).stdout)
    ops.start(V8)  # the stolen laptop's key is refused now
    wait_log(ops, "town", f'its CurveZMQ key {stolen_key["curve_key"]} is not a configured child',
             timeout=15)
    if ops.links(V8)[(TOWN, "up")]["state"] == "up":
        raise Fail("the removed laptop still links up")
    ops.stop(V8)
    os.makedirs(ops.dir("v8-new"))
    c = enroll_code(ops, "town", V8)
    ops.cli("join", c, "--config", ops.conf("v8-new"), "--data", ops.data("v8-new"))
    with open(ops.conf("v8-new"), "a") as f:
        f.write('\n[desk]\nlisten = "off"\n' + FAST_SYNC)
    ops.start("v8-new")
    ops.wait_link("town", V8, "down", True)
    ops.wait_link(V7, TOWN, "up", True)
    print("  the new laptop of 新田村 linked up")


if __name__ == "__main__":
    sys.exit(main())
