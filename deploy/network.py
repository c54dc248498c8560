#!/usr/bin/env python3
"""Orchestration and timing for deploy/network.sh (python3 stdlib only).

Runs a local three-tier network on 127.0.0.1: county 360723, townships
360723101 and 360723102, villages 360723101001/002/007 and 360723102003,
each one `liandong run --config FILE` process with its own store under the
work directory that network.sh made. Villages register applications while
their uplinks are down, the links come up and the cases catch up, township
360723101 is restarted (SIGTERM, then once SIGKILL) while villages keep
submitting, the townships pass up what they must (上报件) or decide what is
theirs, the county assigns and decides (one refusal with reason and legal
basis), decisions travel back down, and the villages deliver (送达), collect
a rating (一事一评) and close (办结销号).

Arrival times are measured by polling `liandong store events --json` at
every node every POLL_S seconds: an event's arrival time at a node is the
first poll that saw it there (an upper bound, within one poll interval).
Creation times come from the events' hybrid logical clocks.

Every process this script starts is recorded (pid) in WORK/pids; it stops
them itself (SIGTERM, wait, exit status 0 expected) and network.sh's EXIT
trap kills any left behind. Exit status 0 on success; on failure the tail of
every node's log is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.request

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "testbed"))
import invariants  # noqa: E402  (deploy/testbed/invariants.py: the routing-rule checker)

POLL_S = 0.15                                   # at most one poll per node per 150 ms
WAIT_S = float(os.environ.get("LIANDONG_WAIT", "60"))   # bound on every wait
READY_S = 15.0                                  # a started daemon must answer within this
STOP_S = 15.0                                   # a SIGTERMed daemon must exit within this

COUNTY = "360723"
T1, T2 = "360723101", "360723102"
V1, V2, V7, V3 = "360723101001", "360723101002", "360723101007", "360723102003"
TOWNSHIPS = [T1, T2]
VILLAGES = [V1, V2, V7, V3]
ALL = [COUNTY] + TOWNSHIPS + VILLAGES
PARENT = {T1: COUNTY, T2: COUNTY, V1: T1, V2: T1, V7: T1, V3: T2}
NAME = {
    COUNTY: "县行政服务中心",
    T1: "上竹乡便民服务中心", T2: "黄沙乡便民服务中心",
    V1: "龙潭村代理点", V2: "石门村代理点", V7: "黄沙村代理点", V3: "桥头村代理点",
}
TIER = {6: "县", 9: "乡", 12: "村"}
AGENT = {V1: "王小红", V2: "李春梅", V7: "刘建国", V3: "陈秀英"}       # 代理员
CLERK = {T1: "周敏", T2: "黄伟", COUNTY: "周主任"}                  # 窗口受理员
TOWNSHIP_HEAD = {T1: "刘乡长", T2: "曾乡长"}                         # 乡镇分管领导
REVIEWER = {"自然资源局": "钱科长", "住建局": "赵科长", "农业农村局": "孙科长"}
VILLAGE_NAME = {V1: "龙潭村", V2: "石门村", V7: "黄沙村", V3: "桥头村"}
TOWN_NAME = {T1: "上竹乡", T2: "黄沙乡"}

# Catalog items the village points proxy (DOMAIN.md "Typical items"):
# code -> name, who decides, working days promised, departments (county),
# decider, legal basis, materials, form fields.
ITEMS = {
    "NC-ZJD-001": dict(name="农村宅基地建房", level="county", days=20,
                       depts=["自然资源局", "住建局", "农业农村局"], decider="吴局长",
                       basis="《中华人民共和国土地管理法》第六十二条",
                       materials=["居民身份证:provided:copy", "户口簿:provided:copy",
                                  "宅基地使用申请表:provided:original", "村民会议意见:later"]),
    "LY-CF-002": dict(name="林木采伐许可", level="county", days=5, depts=["林业局"],
                      decider="陈股长", basis="《中华人民共和国森林法》第五十六条",
                      materials=["林权证:provided:copy", "采伐申请书:provided:original"]),
    "MZ-DB-003": dict(name="农村最低生活保障", level="county", days=20, depts=["民政局"],
                      decider="冯局长", basis="《社会救助暂行办法》第九条",
                      materials=["户口簿:provided:copy", "家庭收入证明:provided:original",
                                 "村委会评议记录:provided:original"]),
    "YB-CB-004": dict(name="城乡居民医保参保登记", level="township", days=1,
                      basis="《中华人民共和国社会保险法》第二十五条",
                      materials=["居民身份证:provided:copy", "户口簿:provided:copy"]),
    "WS-SY-005": dict(name="生育登记", level="township", days=1,
                      basis="《中华人民共和国人口与计划生育法》第二十条",
                      materials=["夫妻双方居民身份证:provided:copy", "结婚证:provided:copy",
                                 "户口簿:provided:copy"]),
    "MZ-WB-006": dict(name="特困人员供养(五保)", level="county", days=20, depts=["民政局"],
                      decider="冯局长", basis="《社会救助暂行办法》第十四条",
                      materials=["户口簿:provided:copy", "村委会评议记录:provided:original"]),
    "GA-HK-007": dict(name="户口迁移", level="county", days=5, depts=["公安局"],
                      decider="蒋所长", basis="《中华人民共和国户口登记条例》第十条",
                      materials=["户口簿:provided:original", "准予迁入证明:provided:original"]),
    "MZ-GL-008": dict(name="高龄津贴", level="county", days=10, depts=["民政局"],
                      decider="冯局长", basis="《中华人民共和国老年人权益保障法》第三十三条",
                      materials=["居民身份证:provided:copy", "户口簿:provided:copy"]),
    "YB-BX-009": dict(name="城乡居民医保报销", level="township", days=3,
                      basis="《中华人民共和国社会保险法》第二十八条",
                      materials=["住院发票:provided:original", "出院小结:provided:copy",
                                 "社保卡:provided:copy"]),
}

REFUSAL = "家庭人均月收入高于本县农村低保标准，经入户核查不符合条件"

# The applications: (phase, village, item, applicant, birth date, order code,
# phone, form fields, outcome). Phase 1: uplinks down; "3a": township
# 360723101 stopped (SIGTERM); "3b": township 360723101 killed (SIGKILL).
PLAN = [
    ("1", V1, "NC-ZJD-001", "张三", "19880512", "341", "13907970001",
     ["建房面积=120平方米", "层数=2", "用地类型=原址翻建"], "approve"),
    ("1", V1, "MZ-DB-003", "王五", "19550120", "771", "13907970002",
     ["家庭人口=3", "家庭年收入=21600元"], "reject"),
    ("1", V2, "LY-CF-002", "李四", "19760302", "115", "13907970003",
     ["树种=杉木", "蓄积量=12立方米", "林班=石门村7林班"], "approve"),
    ("1", V2, "YB-CB-004", "赵六", "19930817", "226", "13907970004",
     ["参保年度=2027", "缴费档次=一档"], "approve"),
    ("1", V7, "WS-SY-005", "孙丽", "19960425", "128", "13907970005",
     ["孩次=第二孩", "预产期=2027-03"], "approve"),
    ("1", V7, "MZ-WB-006", "周福生", "19490911", "413", "13907970006",
     ["供养方式=分散供养"], "approve"),
    ("1", V3, "NC-ZJD-001", "吴强", "19820214", "019", "13907970007",
     ["建房面积=98平方米", "层数=2", "用地类型=新增宅基地"], "approve"),
    ("1", V3, "MZ-GL-008", "郑大爷", "19430605", "331", "13907970008",
     ["年龄=83岁"], "approve"),
    ("3a", V1, "GA-HK-007", "钱芳", "19990109", "242", "13907970009",
     ["迁入地=大余县南安镇", "迁移原因=投靠配偶"], "approve"),
    ("3a", V2, "YB-BX-009", "何秀兰", "19670730", "068", "13907970010",
     ["住院费用=8650元", "医院=大余县人民医院"], "approve"),
    ("3b", V7, "LY-CF-002", "冯德明", "19701122", "157", "13907970011",
     ["树种=马尾松", "蓄积量=8立方米"], "approve"),
    ("3b", V3, "YB-CB-004", "褚晓燕", "20010318", "284", "13907970012",
     ["参保年度=2027", "缴费档次=二档"], "approve"),
]


class Fail(Exception):
    pass


def now_ms() -> int:
    return int(time.time() * 1000)


def say(text: str = "") -> None:
    print(text, flush=True)


def step(text: str) -> None:
    say(f"\n== {text}")


def id_number(birth: str, order: str) -> str:
    """An 18-digit resident ID of county 360723 with a valid check digit."""
    body = COUNTY + birth + order
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


def due_date(working_days: int) -> str:
    d = dt.date.today()
    left = working_days
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            left -= 1
    return d.isoformat()


def width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s: str, n: int) -> str:
    return s + " " * max(0, n - width(s))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, net: "Network", code: str):
        self.code = code
        self.data = os.path.join(net.work, code)
        self.conf = os.path.join(net.work, "conf", code + ".toml")
        self.log = os.path.join(net.work, "logs", code + ".log")
        self.port = free_port() if len(code) < 12 else None
        self.desk_port = free_port()
        self.proc: subprocess.Popen | None = None
        self.keys: dict = {}
        self.starts = 0
        self.stopping = False                    # this script is stopping it
        self.exits: list[tuple[str, int]] = []   # (how stopped, exit status)

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def desk(self) -> str:
        return f"http://127.0.0.1:{self.desk_port}/"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Network:
    def __init__(self, binary: str, work: str):
        self.bin = binary
        self.work = work
        os.makedirs(os.path.join(work, "conf"), exist_ok=True)
        os.makedirs(os.path.join(work, "logs"), exist_ok=True)
        self.nodes = {c: Node(self, c) for c in ALL}
        self.t0 = now_ms()
        self.lock = threading.Lock()
        self.seen: dict[str, dict[str, int]] = {c: {} for c in ALL}   # code -> event id -> first seen ms
        self.round: dict[str, dict[str, int]] = {c: {} for c in ALL}  # code -> event id -> first poll round
        self.events: dict[str, list] = {c: [] for c in ALL}           # last poll
        self.poll_errors: dict[str, str] = {}
        self.polls = 0
        self.stop_poll = threading.Event()
        self.poller: threading.Thread | None = None
        self.poller_error: BaseException | None = None
        self.cases: list[dict] = []
        self.cli_calls = 0

    # --- the liandong CLI -------------------------------------------------

    def cli(self, *args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        self.cli_calls += 1
        try:
            r = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"liandong {' '.join(args)}: no answer in {timeout:.0f} s")
        if check and r.returncode != 0:
            raise Fail(f"liandong {' '.join(args)}: exit {r.returncode}: "
                       f"{(r.stderr or r.stdout).strip()}")
        return r

    def cli_json(self, *args: str):
        r = self.cli(*args)
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            raise Fail(f"liandong {' '.join(args)}: not JSON: {r.stdout.strip()[:300]}")

    # --- set-up -----------------------------------------------------------

    def init_all(self) -> None:
        for c in ALL:
            n = self.nodes[c]
            self.cli("init", "--data", n.data, "--code", c)
            n.keys = self.cli_json("keys", "show", "--data", n.data, "--json")
            for k in ("sign_key", "curve_key"):
                if not n.keys.get(k):
                    raise Fail(f"keys show --json for {c} has no {k}: {n.keys}")
            say(f"  {pad(c, 13)} {pad(NAME[c], 20)} 签名公钥 {n.keys['sign_key'][:16]}…  "
                f"{'监听 ' + n.endpoint if n.port else '(只向上拨号)'}")
        for c in ALL:
            self.write_config(self.nodes[c])
            self.cli("config", "check", self.nodes[c].conf)

    def write_config(self, n: Node) -> None:
        def peer(section: str, p: Node, with_endpoint: bool) -> str:
            s = f'\n[[{section}]]\ncode = "{p.code}"\n'
            if with_endpoint:
                s += f'endpoint = "{p.endpoint}"\n'
            return s + f'curve_key = "{p.keys["curve_key"]}"\nsign_key = "{p.keys["sign_key"]}"\n'

        text = (f"# {NAME[n.code]} ({n.code}), written by deploy/network.py\n"
                f'[node]\ncode = "{n.code}"\ndata = "{n.data}"\nlog_level = "info"\n')
        if n.port:
            text += f'\n[listen]\nendpoint = "{n.endpoint}"\n'
        # Upstreams in order of preference: the parent, then the county directly.
        if n.code != COUNTY:
            text += peer("upstream", self.nodes[PARENT[n.code]], True)
            if len(n.code) == 12:
                text += peer("upstream", self.nodes[COUNTY], True)
        # Children: the county also admits every village (their fail-over).
        for c in ALL:
            if c != n.code and c.startswith(n.code):
                if n.code == COUNTY or PARENT.get(c) == n.code:
                    text += peer("child", self.nodes[c], False)
        text += ("\n[sync]\nheartbeat_ms = 200\npeer_timeout_ms = 1500\nack_timeout_ms = 2000\n"
                 "redial_min_ms = 100\nredial_max_ms = 1000\n")
        text += f'\n[desk]\nlisten = "127.0.0.1:{n.desk_port}"\n'

        with open(n.conf, "w", encoding="utf-8") as f:
            f.write(text)

    # --- processes ----------------------------------------------------------

    def start(self, code: str) -> None:
        n = self.nodes[code]
        if n.running():
            raise Fail(f"{code} is already running")
        n.starts += 1
        n.stopping = False
        with open(n.log, "a", encoding="utf-8") as f:
            f.write(f"--- network.py: start #{n.starts} at {self.rel(now_ms())}\n")
        logf = open(n.log, "ab")
        # Its own session: a Ctrl-C at the terminal reaches this script, which
        # then stops the nodes itself, in order.
        n.proc = subprocess.Popen([self.bin, "run", "--config", n.conf], stdout=logf,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        logf.close()
        with open(os.path.join(self.work, "pids"), "a") as f:
            f.write(f"{n.proc.pid}\n")
        deadline = time.monotonic() + READY_S
        while True:
            if n.proc.poll() is not None:
                raise Fail(f"{code}: liandong run exited with status {n.proc.returncode} at start")
            r = self.cli("status", "--data", n.data, "--json", check=False, timeout=5)
            if r.returncode == 0:
                try:
                    if json.loads(r.stdout).get("running"):
                        break
                except json.JSONDecodeError:
                    pass
            if time.monotonic() > deadline:
                raise Fail(f"{code}: not answering `liandong status` {READY_S:.0f} s after start "
                           f"({(r.stderr or r.stdout).strip()[:200]})")
            time.sleep(0.1)
        say(f"  启动 {code} {NAME[code]} (pid {n.proc.pid})，办事台 {n.desk}")

    def stop(self, code: str, sig: int = signal.SIGTERM) -> int:
        n = self.nodes[code]
        if not n.running():
            raise Fail(f"{code} is not running (exit status {n.proc.returncode if n.proc else '-'})")
        n.stopping = True
        os.kill(n.proc.pid, sig)
        try:
            rc = n.proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            os.kill(n.proc.pid, signal.SIGKILL)
            n.proc.wait()
            raise Fail(f"{code}: still running {STOP_S:.0f} s after {signal.Signals(sig).name}")
        how = signal.Signals(sig).name
        n.exits.append((how, rc))
        if sig == signal.SIGTERM and rc != 0:
            raise Fail(f"{code}: exit status {rc} after SIGTERM (expected 0)")
        if sig == signal.SIGKILL and rc != -signal.SIGKILL:
            raise Fail(f"{code}: exit status {rc} after SIGKILL")
        say(f"  {how} {code} (pid {n.proc.pid}) → " +
            ("退出码 0" if rc == 0 else f"被信号 {-rc} 终止" if rc < 0 else f"退出码 {rc}"))
        return rc

    def kill_all(self) -> None:
        """Last resort on failure: stop what is still running, TERM then KILL."""
        live = [n for n in self.nodes.values() if n.running()]
        for n in live:
            n.stopping = True
            try:
                os.kill(n.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        for n in live:
            try:
                n.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(n.proc.pid, signal.SIGKILL)
                n.proc.wait()

    def check_alive(self, what: str) -> None:
        """Fails if a node this script did not stop has exited by itself."""
        for n in self.nodes.values():
            if n.proc is not None and not n.stopping and n.proc.poll() is not None:
                raise Fail(f"{n.code} exited by itself with status {n.proc.returncode} "
                           f"while waiting for {what}")

    # --- polling `store events` -------------------------------------------

    def poll_once(self) -> None:
        procs = {}
        for c in ALL:
            procs[c] = subprocess.Popen([self.bin, "store", "events", "--data", self.nodes[c].data,
                                         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        # Every store is read right after this instant: one time for the round,
        # so arrivals at different nodes in one round compare as simultaneous.
        t = now_ms()
        self.polls += 1
        for c, p in procs.items():
            try:
                out, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.poll_errors[c] = "store events: no answer in 10 s"
                continue
            if p.returncode != 0:
                self.poll_errors[c] = err.strip()[:300]
                continue
            try:
                evs = json.loads(out)
            except json.JSONDecodeError:
                self.poll_errors[c] = "store events: not JSON: " + out[:200]
                continue
            with self.lock:
                self.events[c] = evs
                seen, rnd = self.seen[c], self.round[c]
                for e in evs:
                    if e["id"] not in seen:
                        seen[e["id"]] = t
                        rnd[e["id"]] = self.polls

    def poll_loop(self) -> None:
        try:
            while not self.stop_poll.is_set():
                started = time.monotonic()
                self.poll_once()
                self.stop_poll.wait(max(0.0, POLL_S - (time.monotonic() - started)))
        except BaseException as e:          # reported by the waits
            self.poller_error = e

    def start_polling(self) -> None:
        self.poller = threading.Thread(target=self.poll_loop, name="poll", daemon=True)
        self.poller.start()

    def stop_polling(self) -> None:
        self.stop_poll.set()
        if self.poller:
            self.poller.join(timeout=15)

    def wait_for(self, what: str, want: dict[str, list[str]], timeout: float = WAIT_S) -> float:
        """Waits until every node in `want` holds every listed event id."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            if self.poller_error:
                raise Fail(f"polling store events failed: {self.poller_error!r}")
            missing = {c: [i for i in ids if i not in self.seen[c]] for c, ids in want.items()}
            missing = {c: m for c, m in missing.items() if m}
            if not missing:
                return time.monotonic() - start
            self.check_alive(what)
            if time.monotonic() > deadline:
                lines = [f"{c} 缺 {', '.join(m[:6])}{' …' if len(m) > 6 else ''}"
                         for c, m in missing.items()]
                errs = "; ".join(f"{c}: {e}" for c, e in self.poll_errors.items())
                raise Fail(f"{what}: not there after {timeout:.0f} s: " + "; ".join(lines) +
                           (f" (last poll errors: {errs})" if errs else ""))
            time.sleep(0.05)

    def rel(self, ms: int | None) -> str:
        return "—" if ms is None else f"+{(ms - self.t0) / 1000:.1f}s"

    # --- the work ------------------------------------------------------------

    def act(self, code: str, case: dict, action: str, actor: str, role: str, *extra: str) -> str:
        out = self.cli_json("act", case["id"], action, "--data", self.nodes[code].data,
                            "--actor", actor, "--role", role, "--json", *extra)
        ev = out.get("event")
        if not ev:
            raise Fail(f"act {case['id']} {action} at {code}: no event id in {out}")
        case["acts"].append((action, code, ev, now_ms()))
        return ev

    def submit(self, phase: str, village: str, item: str, applicant: str, birth: str,
               order: str, phone: str, fields: list[str], outcome: str) -> dict:
        it = ITEMS[item]
        n = self.nodes[village]
        args = ["submit", "--data", n.data, "--json-out", "--actor", AGENT[village],
                "--role", "agent", "--item", item, "--item-name", it["name"],
                "--applicant", applicant, "--id-number", id_number(birth, order),
                "--phone", phone, "--address", f"{TOWN_NAME[PARENT[village]]}{VILLAGE_NAME[village]}",
                "--fee-due", "0", "--summary", f"{applicant}申请{it['name']}"]
        for f in fields:
            args += ["--field", f]
        for m in it["materials"]:
            args += ["--material", m]
        out = self.cli_json(*args)
        case = dict(id=out["case"], phase=phase, village=village, township=PARENT[village],
                    item=item, applicant=applicant, outcome=outcome, acts=[],
                    village_online=n.running())
        self.cases.append(case)
        if it["level"] == "county":
            # 全程代理: the agent accepts on the spot with a promised date and
            # forwards to the township hub.
            self.act(village, case, "accept", AGENT[village], "agent", "--due", due_date(it["days"]))
            # 容缺受理: a material that may follow is brought in before 办结.
            for m in it["materials"]:
                if m.endswith(":later"):
                    self.act(village, case, "supplement", AGENT[village], "agent",
                             "--provided", m.split(":")[0], "--note", "容缺材料已补交")
            self.act(village, case, "escalate", AGENT[village], "agent", "--to", PARENT[village],
                     "--note", "代理员转报乡镇")
            how = "受理并转报乡镇"
        else:
            how = "代办登记，由乡镇窗口受理"
        say(f"  {village} {AGENT[village]} 登记 {case['id']} {it['name']} 申请人 {applicant} "
            f"({how}{'' if n.running() else '；本村联网服务未启动，直接写入本地库'})")
        return case

    def village_ids(self, case: dict) -> list[str]:
        return [case["id"]] + [ev for a, c, ev, _ in case["acts"] if c == case["village"]]

    def township_handles(self, case: dict) -> None:
        t = case["township"]
        it = ITEMS[case["item"]]
        if it["level"] == "county":
            self.act(t, case, "escalate", CLERK[t], "clerk", "--to", COUNTY,
                     "--note", f"上报件: 报县{'、'.join(it['depts'])}审批")
            say(f"  {t} {CLERK[t]} 上报 {case['id']} {it['name']} → 县 {COUNTY}")
        else:
            self.act(t, case, "accept", CLERK[t], "clerk", "--due", due_date(it["days"]))
            self.act(t, case, "decide", TOWNSHIP_HEAD[t], "officer", "--approve",
                     "--basis", it["basis"])
            say(f"  {t} {CLERK[t]} 受理 {case['id']} {it['name']}，{TOWNSHIP_HEAD[t]} 即办批准")

    def county_handles(self, case: dict) -> None:
        it = ITEMS[case["item"]]
        c = COUNTY
        self.act(c, case, "assign", CLERK[c], "clerk", *sum((["--dept", d] for d in it["depts"]), []))
        if len(it["depts"]) > 1:                       # 并联审批: every department's opinion
            for d in it["depts"]:
                self.act(c, case, "opinion", REVIEWER[d], "reviewer", "--dept", d, "--approve",
                         "--text", "符合条件，同意")
        seq = case["id"].rsplit("-", 1)[1][-4:]
        if case["outcome"] == "approve":
            self.act(c, case, "decide", it["decider"], "officer", "--approve", "--basis", it["basis"],
                     "--certificate", f"余{it['name'][:2]}字{dt.date.today().year}第{seq}号")
            verdict = "批准"
        else:
            self.act(c, case, "decide", it["decider"], "officer", "--reject", "--reason", REFUSAL,
                     "--basis", it["basis"])
            verdict = f"不予许可 ({REFUSAL}; {it['basis']})"
        say(f"  {c} 分派 {case['id']} {it['name']} → {'、'.join(it['depts'])}"
            f"{' (并联审批)' if len(it['depts']) > 1 else ''}，{it['decider']} {verdict}")

    def decided_id(self, case: dict) -> str:
        return next(ev for a, c, ev, _ in case["acts"] if a == "decide")

    def acts_by(self, case: dict, code: str) -> list[str]:
        return [ev for a, c, ev, _ in case["acts"] if c == code]

    def wait_township_has(self, cases: list[dict], what: str) -> float:
        want: dict[str, list[str]] = {}
        for k in cases:
            want.setdefault(k["township"], []).extend(self.village_ids(k))
        return self.wait_for(what, want)

    def expected(self, code: str) -> set[str]:
        """Events the routing rule sends to `code`, from the union of every store."""
        with self.lock:
            union = invariants.union_of(self.events)
        return invariants.expected_ids(code, union)

    def custody_gaps(self) -> list[str]:
        """Events a village or township wrote whose custody tick (stored at
        the township / at the county) has not come back to it."""
        gaps = []
        for k in self.cases:
            for code in (k["village"], k["township"]):
                show = self.cli_json("case", "show", k["id"], "--data", self.nodes[code].data, "--json")
                for e in show.get("events", []):
                    if e.get("origin") != code:
                        continue
                    cu = e.get("custody") or {}
                    need = ["township", "county"] if len(code) == 12 else ["county"]
                    lack = [n for n in need if cu.get(n) is not True]
                    if lack:
                        gaps.append(f"{code}: {e['id']} 待上传 {'/'.join(lack)}")
        return gaps

    def wait_custody(self, timeout: float = WAIT_S) -> float:
        start = time.monotonic()
        while True:
            gaps = self.custody_gaps()
            if not gaps:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise Fail(f"custody ticks missing after {timeout:.0f} s: " + "; ".join(gaps[:8]))
            time.sleep(0.2)

    def wait_converged(self, timeout: float = WAIT_S) -> float:
        start = time.monotonic()
        while True:
            time.sleep(POLL_S * 2)   # at least one fresh poll
            with self.lock:
                stores = {c: list(self.events[c]) for c in ALL}
            problems = invariants.routing_problems(stores)
            if not problems:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise Fail("stores did not converge: " + "; ".join(problems))


def scenario(net: Network) -> None:
    N = net.nodes

    step("初始化七个节点: 县 1、乡镇 2、村代理点 4 (各自的库与密钥)")
    net.init_all()
    net.start_polling()

    step("第一步: 上联中断时村代理点照常登记 (乡镇、县未启动；龙潭村、石门村节点也未启动)")
    for v in (V7, V3):
        net.start(v)
    for p in PLAN:
        if p[0] == "1":
            net.submit(*p)
    phase1 = [k for k in net.cases if k["phase"] == "1"]
    time.sleep(0.5)
    st = net.cli("status", "--data", N[V7].data)
    say(f"  {V7} 链路状态 (上联未通):")
    for line in st.stdout.rstrip().splitlines():
        say("    " + line)
    t_offline_end = now_ms()

    step("第二步: 链路接通 —— 启动县、乡镇，再启动其余村节点，积压办件补传")
    t_up = now_ms()
    net.start(COUNTY)
    for t in TOWNSHIPS:
        net.start(t)
    for v in (V1, V2):
        net.start(v)
    net.wait_township_has(phase1, "第一步的办件到达乡镇")
    backlog = [i for k in phase1 for i in net.village_ids(k)]
    net.wait_for("第一步的办件到达县", {COUNTY: backlog})
    at_t = max(net.seen[k["township"]][i] for k in phase1 for i in net.village_ids(k))
    at_c = max(net.seen[COUNTY][i] for i in backlog)
    say(f"  {len(phase1)} 件积压办件 ({len(backlog)} 个事件) 自县节点启动起 {(at_t - t_up) / 1000:.1f} s "
        f"全部到乡镇，{(at_c - t_up) / 1000:.1f} s 全部到县 (含各节点启动时间)")

    step(f"第三步: 乡镇 {T1} 正常重启 (SIGTERM)，其间村代理点继续登记")
    net.stop(T1, signal.SIGTERM)
    for p in PLAN:
        if p[0] == "3a":
            net.submit(*p)
    time.sleep(1.0)
    net.start(T1)
    phase3a = [k for k in net.cases if k["phase"] == "3a"]
    took = net.wait_township_has(phase3a, "乡镇停机期间登记的办件到达乡镇")
    say(f"  停机期间登记的 {len(phase3a)} 件已到乡镇 {T1} ({took:.1f} s)")

    step("第四步: 县中心线路中断 (县节点 SIGTERM)；乡镇照常处理 —— 上报件报县，乡镇权限内的即办")
    net.stop(COUNTY, signal.SIGTERM)
    for k in phase1 + phase3a:
        net.township_handles(k)
    t_acts = {t: [ev for k in phase1 + phase3a if k["township"] == t for ev in net.acts_by(k, t)]
              for t in TOWNSHIPS}
    took = net.wait_for("乡镇的处理结果到达各村",
                        {v: [ev for k in phase1 + phase3a if k["village"] == v
                             for ev in net.acts_by(k, k["township"])] for v in VILLAGES})
    say(f"  乡镇的受理、上报、办结已到各村 ({took:.1f} s)；县联网服务未启动，上报件在乡镇排队:")
    for line in net.cli("status", "--data", N[T1].data).stdout.rstrip().splitlines():
        say("    " + line)

    step(f"乡镇 {T1} 带着 {len(t_acts[T1])} 个未送县的事件被强制终止 (SIGKILL)，村代理点继续登记")
    net.stop(T1, signal.SIGKILL)
    for p in PLAN:
        if p[0] == "3b":
            net.submit(*p)
    time.sleep(1.0)
    net.start(T1)
    net.start(COUNTY)
    phase3b = [k for k in net.cases if k["phase"] == "3b"]
    took = net.wait_for("强制终止前写入、尚未送县的事件到达县", {COUNTY: t_acts[T1] + t_acts[T2]})
    say(f"  {T1} 强制终止前写入的 {len(t_acts[T1])} 个事件、{T2} 排队的 {len(t_acts[T2])} 个事件"
        f"一个不少，已到县 (县节点启动后 {took:.1f} s)")
    net.wait_township_has(phase3b, "强制终止期间登记的办件到达乡镇")
    for k in phase3b:
        net.township_handles(k)

    step("第五步: 县行政服务中心分派、并联审批、办结")
    county_cases = [k for k in net.cases if ITEMS[k["item"]]["level"] == "county"]
    for k in county_cases:
        net.wait_for(f"{k['id']} 的上报到达县", {COUNTY: [net.acts_by(k, k["township"])[-1]]})
        net.county_handles(k)

    step("第六步: 办结结果回传到村，代理员送达、评价、销号")
    want: dict[str, list[str]] = {}
    for k in net.cases:
        want.setdefault(k["village"], []).append(net.decided_id(k))
    took = net.wait_for("办结结果回到各村", want)
    say(f"  {len(net.cases)} 件的办结结果已全部回到村代理点 (最后一件用时 {took:.1f} s)")
    ratings = ["不用跑县城，很满意", "办得快", "满意", "代理员很耐心", "一次办好"]
    for i, k in enumerate(net.cases):
        v = k["village"]
        approved = k["outcome"] == "approve"
        net.act(v, k, "deliver", AGENT[v], "agent", "--method", "当面送达" if i % 3 else "电话告知后上门送达",
                "--note", "申请人签收" if approved else "送达不予许可决定书，告知复议途径")
        net.act(v, k, "rate", AGENT[v], "agent", "--score", "5" if approved else "3",
                "--comment", ratings[i % len(ratings)] if approved else "理解，会补充材料再申请")
        net.act(v, k, "close", AGENT[v], "agent", "--note", "办结销号，材料归档")
    say(f"  {len(net.cases)} 件已送达、评价、销号")

    step("第七步: 等待各级数据一致 (每个节点恰好持有路由规则规定的事件，存储回执到齐)")
    took = net.wait_converged()
    say(f"  每个节点恰好持有路由规则规定的事件，无重复、无越权 ({took:.1f} s)")
    took = net.wait_custody()
    say(f"  各村、乡镇自己写入的事件均已确认存到上级 (case show 的存储位置: 已达乡镇 · 已达县) ({took:.1f} s)")


def report(net: Network) -> None:
    N = net.nodes
    step(f"县行政服务中心 {COUNTY} 台账 (liandong case list --data 县)")
    say(net.cli("case", "list", "--data", N[COUNTY].data).stdout.rstrip())

    reject = next((k for k in net.cases if k["outcome"] == "reject"), None)
    if reject:
        step(f"不予许可的办件在村代理点 {reject['village']} 的记录 (case show)")
        say(net.cli("case", "show", reject["id"], "--data", N[reject["village"]].data).stdout.rstrip())

    step("各办件路径与时间 (相对开始时间；到达时间为轮询首次看到，精度约 0.2 s)")
    say("  登记=村代理点写入  到乡=乡镇库收到  到县=县库收到  办结=作出决定  回村=决定到达村库  送达=代理员送达")
    hdr = ["办件编号", "事项", "申请人", "登记", "到乡", "到县", "办结", "回村", "送达", "路径/说明"]
    widths = [21, 22, 8, 7, 7, 7, 7, 7, 7, 0]
    say("  " + "".join(pad(h, w) for h, w in zip(hdr, widths)))
    county_cases = {k["id"]: net.cli_json("case", "show", k["id"], "--data", N[COUNTY].data, "--json")
                    for k in net.cases}
    lat = []
    for k in net.cases:
        show = county_cases[k["id"]]
        evs = show.get("events", [])
        hlc_of = {e["id"]: int(e["hlc"]) >> 16 for e in evs if "hlc" in e}
        cid, v, t = k["id"], k["village"], k["township"]
        dec = net.decided_id(k)
        dlv = next(ev for a, c, ev, _ in k["acts"] if a == "deliver")
        at_t = net.seen[t].get(cid)
        at_c = net.seen[COUNTY].get(cid)
        back = net.seen[v].get(dec)
        dec_ms = hlc_of.get(dec)
        if back and dec_ms:
            lat.append(back - dec_ms)
        decider = COUNTY if ITEMS[k["item"]]["level"] == "county" else t
        r_t, r_c = net.round[t].get(cid, 0), net.round[COUNTY].get(cid, 0)
        path = (f"{v}→{t}→{COUNTY}" if r_t < r_c else f"{v}→{COUNTY}(直连)→{t}" if r_c < r_t
                else f"{v}→{t}、{COUNTY}(同一轮)")
        note = {"1": "上联中断时登记" if k["village_online"] else "村联网服务未启动时登记",
                "3a": f"{T1} 重启期间登记", "3b": f"{T1} 被强制终止、县离线期间登记"}[k["phase"]]
        verdict = "批准" if k["outcome"] == "approve" else "不予许可"
        cells = [cid, ITEMS[k["item"]]["name"], k["applicant"], net.rel(hlc_of.get(cid)),
                 net.rel(at_t), net.rel(at_c), net.rel(dec_ms), net.rel(back), net.rel(hlc_of.get(dlv)),
                 f"{path}；{TIER[len(decider)]}级{verdict}；{note}"]
        say("  " + "".join(pad(x, w) for x, w in zip(cells, widths)))

    step("汇总")
    total_events = len({e["id"] for c in ALL for e in net.events[c]})
    n_county = sum(1 for k in net.cases if ITEMS[k["item"]]["level"] == "county")
    n_rej = sum(1 for k in net.cases if k["outcome"] == "reject")
    say(f"  办件 {len(net.cases)} 件 (县级审批 {n_county}、乡镇即办 {len(net.cases) - n_county}；"
        f"批准 {len(net.cases) - n_rej}、不予许可 {n_rej})，全部已送达、销号")
    say(f"  事件共 {total_events} 个；各节点持有:")
    for c in ALL:
        say(f"    {pad(c, 13)} {pad(NAME[c], 20)} {len(net.events[c]):4d} 个事件  "
            f"(启动 {N[c].starts} 次；停止 {'、'.join(h + '→' + str(r) for h, r in N[c].exits)})")
    if lat:
        lat.sort()
        say(f"  办结→回到村: 中位 {lat[len(lat) // 2] / 1000:.2f} s，最长 {lat[-1] / 1000:.2f} s "
            f"(含 0.15 s 轮询间隔)")
    say(f"  CLI 调用 {net.cli_calls} 次，轮询 {net.polls} 轮；总用时 {(now_ms() - net.t0) / 1000:.1f} s")


def check_desks(net: Network) -> None:
    """Each node's desk answers at the address it wrote (DATA/desk/address)."""
    step("各节点办事台 (liandong desk info；浏览器打开，deploy/demo.sh --keep-running 可留着试用)")
    for c in ALL:
        n = net.nodes[c]
        with open(os.path.join(n.data, "desk", "address"), encoding="utf-8") as f:
            url = f.read().strip()
        if url != n.desk:
            raise Fail(f"{c}: desk at {url}, config says {n.desk}")
        try:
            with urllib.request.urlopen(url + "api/people", timeout=5) as r:
                names = json.load(r)
        except (OSError, ValueError) as e:
            raise Fail(f"{c}: desk at {url} does not answer: {e}")
        if names.get("node") != c:
            raise Fail(f"{c}: desk at {url} answers for {names.get('node')}")
        say(f"  {pad(c, 13)} {pad(NAME[c], 20)} {url}")


def tail_logs(net: Network, lines: int = 25) -> None:
    for c in ALL:
        path = net.nodes[c].log
        print(f"\n--- {c} {NAME[c]}: {path} (last {lines} lines)", file=sys.stderr)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f.readlines()[-lines:]:
                    sys.stderr.write("    " + line)
        except FileNotFoundError:
            print("    (no log: never started)", file=sys.stderr)
    sys.stderr.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the liandong binary")
    ap.add_argument("--work", required=True, help="an empty work directory (stores, configs, logs)")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    net = Network(os.path.abspath(a.bin), os.path.abspath(a.work))
    ok = False
    try:
        scenario(net)
        check_desks(net)
        step("停止全部节点 (先村、再乡镇、最后县；SIGTERM，应退出码 0)")
        for c in VILLAGES + TOWNSHIPS + [COUNTY]:
            net.stop(c, signal.SIGTERM)
        net.stop_polling()
        net.poll_once()
        for c in ALL:
            r = net.cli("store", "check", "--data", net.nodes[c].data)
            say(f"  {c} {r.stdout.strip()}")
        report(net)
        ok = True
        say(f"\nnetwork ok: {len(net.cases)} cases across {len(ALL)} nodes, "
            f"{(now_ms() - net.t0) / 1000:.1f} s")
        return 0
    except Fail as e:
        print(f"\n失败: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:
        print(f"\n中断 (exit {e.code})", file=sys.stderr)
        return int(e.code or 1)
    finally:
        net.stop_polling()
        if not ok:
            net.kill_all()
            tail_logs(net)
            if os.environ.get("LIANDONG_KEEP") != "1":
                print("\n(LIANDONG_KEEP=1 keeps the stores, configs and logs)", file=sys.stderr)
        else:
            net.kill_all()


if __name__ == "__main__":
    sys.exit(main())
