#!/usr/bin/env python3
"""Chaos runner: a three-tier network under a random fault schedule drawn from a seed.

County 360723, townships 360723101 and 360723102, and (default) six village
points, three under each township; every node in its own network namespace
(deploy/testbed/testbed.py), every link a veth pair. From one seed it draws
a schedule of steps and runs it:

  burst      submissions (agents at villages, clerks at township windows) and
             workflow actions at every level, with the roles of the rule
             table in storage/authority.h: accept, escalate, assign, opinion,
             decide, reply, deliver, rate, close, withdraw, comment (and a
             note that settles a case in conflict);
  loss       random drop 0-30 % on one link, both directions (nftables);
  rate       bandwidth 32 kbit/s .. 10 Mbit/s on one link (tbf);
  partition  one link down for 1-45 s, or until the final heal;
  kill9      SIGKILL of any node at a random instant inside a burst, restart
             after 0-15 s (or at the final heal);
  restart    clean restart (SIGTERM, exit status 0 expected, start again);
  disk       one of the villages whose data directory is on a small tmpfs
             fills up (filler file) and is freed 3-25 s later, or at the heal
             (off with --no-disk-faults);
  flood      15-40 submissions at one village as fast as the CLI goes (a
             backlog for the link, the batches and the kills to work on);
  rotate     one node of any level rolls its signing key (`keys rotate`),
             through its daemon or on its store if it is down;
  pause      nothing for a while.

Before the schedule the county publishes the service catalog
(config/catalog-example.toml, a broadcast to every node); the items come
from it. The schedule is printed before it runs; `--seed N` replays it (the fault
schedule exactly; the workload's case choices follow the same seed but see
the live stores). Every event the CLI reported as stored (exit 0 and an
event id) is recorded. After the schedule: every link healed and unshaped,
every node running, every disk freed; then, bounded in time, the runner waits
for and checks the invariants of DESIGN.md section 8
(deploy/testbed/invariants.py):

  - every event at exactly the nodes the routing rule names, once;
  - nothing the CLI reported as stored is missing;
  - identical case states everywhere they should be (`case list --json`);
  - the county's `report --json` equals the sum of the townships' reports;
  - every node stops cleanly (SIGTERM, exit 0) and passes `store check`.

Exit 0 on pass; 1 with `CHAOS FAIL seed=N: reason` on failure; 77 without
root. Namespaces, mounts and processes are removed on exit, on failure and
on SIGINT/SIGTERM.

  sudo deploy/testbed/chaos.py --bin build-testbed/node/liandong [--seed N]
       [--steps K] [--villages 6] [--no-disk-faults] [--keep] [--keep-on-fail]
       [--summary FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import sys
import threading
import time
import tomllib
import traceback

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import invariants as I  # noqa: E402
import testbed as T  # noqa: E402
from testbed import say  # noqa: E402

COUNTY = "360723"
TOWNSHIPS = ["360723101", "360723102"]
VILLAGE_NUMBERS = ["001", "002", "007", "003", "004", "005", "006", "008", "009", "010", "011", "012"]

# Short timeouts so a partition really ends a session and a heal re-handshakes;
# small batches and window so a 32 kbit/s link with 30 % loss still acks.
SYNC = {
    "heartbeat_ms": 1000,
    "peer_timeout_ms": 6000,
    "ack_timeout_ms": 6000,
    "redial_min_ms": 300,
    "redial_max_ms": 3000,
    "batch_max_events": 64,
    "batch_max_bytes": 16384,
    "window_bytes": 32768,
}
DISK_MB = 24                 # tmpfs under a village's data directory
CONVERGE_S = 240.0           # bound on the wait after the heal
CLI_S = 25.0                 # bound on one CLI call
RATES_KBIT = [32, 48, 64, 128, 256, 512, 1000, 2000, 5000, 10000]

# Who does what at which level, following the rule table of
# storage/authority.h: agents (代理员) at village points; clerks (窗口) at
# township windows, with an officer (首席代表) for a department's opinion;
# at the county center a director (分管领导) accepts, assigns, decides and
# publishes the catalog, an officer gives opinions, answers consultations
# and writes notes.
ROLE = {
    "village": {"*": "agent"},
    "township": {"*": "clerk", "opinion": "officer", "reply": "officer"},
    "county": {"*": "director", "opinion": "officer", "reply": "officer", "comment": "officer"},
}

# The catalog the county publishes before the schedule (a broadcast event
# to every node); items are drawn from it.
CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config",
                       "catalog-example.toml")
LEVEL_LEN = {"village": 12, "township": 9, "county": 6}


def load_catalog(path: str) -> tuple[int, dict]:
    """(version, code -> item) of a catalog TOML file."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    return int(doc.get("version", 1)), {i["code"]: i for i in doc.get("item", [])}


FIELDS = {
    "ZJ-001": lambda r: [f"建房面积={r.randint(60, 150)}平方米", f"层数={r.randint(1, 3)}"],
    "LY-001": lambda r: [f"树种={r.choice(['杉木', '马尾松', '湿地松', '毛竹'])}",
                         f"蓄积量={r.randint(3, 40)}立方米"],
    "MZ-001": lambda r: [f"家庭人口={r.randint(1, 6)}", f"家庭年收入={r.randint(8, 30) * 1200}元"],
    "YB-001": lambda r: [f"住院费用={r.randint(500, 30000)}元"],
    "YB-002": lambda r: [f"参保年度={r.choice(['2026', '2027'])}", f"缴费档次={r.choice(['一档', '二档'])}"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余"
GIVEN = "建国秀英春梅小红志强丽华德明福生晓燕桂兰玉珍海涛文军永红金凤国平淑芬长青光明振华爱民秋菊"
COMMENTS = ["已电话联系申请人", "材料原件已核对", "申请人询问办理进度", "已告知办理时限",
            "请加快办理", "现场勘察已安排", "申请人外出务工，由家属代办"]


def tier(code: str) -> str:
    return {6: "county", 9: "township", 12: "village"}[len(code)]


def id_number(r: random.Random) -> str:
    body = (COUNTY + f"{r.randint(1940, 2005)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            + f"{r.randint(0, 999):03d}")
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def beijing_today() -> dt.date:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()


# --- the schedule ------------------------------------------------------------

def make_schedule(seed: int, villages: list[str], disk_villages: list[str], steps: int | None,
                  disk_faults: bool) -> list[dict]:
    """The fault schedule, a pure function of its arguments."""
    r = random.Random(seed)
    nodes = [COUNTY] + TOWNSHIPS + villages
    links = TOWNSHIPS + villages              # a link is named by its child
    n = steps if steps is not None else r.randint(14, 22)
    kinds = ["burst", "loss", "rate", "partition", "kill9", "restart", "disk", "pause", "flood",
             "rotate"]
    weights = [32, 10, 10, 15, 13, 6, 8 if disk_faults and disk_villages else 0, 4, 5, 4]
    out = []
    for i in range(n):
        k = "burst" if i == 0 else r.choices(kinds, weights)[0]
        s: dict = {"n": i + 1, "kind": k, "wait": round(r.uniform(0.3, 3.0), 1)}
        if k in ("burst", "kill9"):
            s["subs"] = r.randint(1, 5)
            s["acts"] = r.randint(4, 16)
        if k == "loss":
            s["link"] = r.choice(links)
            s["pct"] = r.choice([0, 5, 10, 15, 20, 25, 30, r.randint(0, 30)])
        elif k == "rate":
            s["link"] = r.choice(links)
            s["kbit"] = r.choice(RATES_KBIT + [r.randint(32, 10000)])
        elif k == "partition":
            s["link"] = r.choice(links)
            s["for"] = r.choice([round(r.uniform(1, 5), 1), round(r.uniform(5, 20), 1),
                                 round(r.uniform(20, 45), 1), None])   # None: until the heal
        elif k == "kill9":
            s["node"] = r.choice(nodes)
            s["at"] = round(r.uniform(0.0, 2.0), 2)       # seconds into the burst
            s["down"] = r.choice([0.0, round(r.uniform(0.5, 5), 1), round(r.uniform(5, 15), 1), None])
        elif k == "restart":
            s["node"] = r.choice(nodes)
            s["down"] = round(r.uniform(0, 5), 1)
        elif k == "disk":
            s["node"] = r.choice(disk_villages)
            s["for"] = r.choice([round(r.uniform(3, 10), 1), round(r.uniform(10, 25), 1), None])
            s["leave"] = r.choice([0, 0, 0, 16 << 10, 256 << 10])     # bytes left free
        elif k == "pause":
            s["wait"] = round(r.uniform(2, 8), 1)
        elif k == "flood":
            s["node"] = r.choice(villages)
            s["subs"] = r.randint(15, 40)
        elif k == "rotate":
            s["node"] = r.choice(nodes)
        out.append(s)
    return out


def describe(s: dict) -> str:
    k = s["kind"]
    until = lambda v: "until the heal" if v is None else f"{v} s"  # noqa: E731
    d = {
        "burst": lambda: f"burst: {s['subs']} submission(s), {s['acts']} workflow action(s)",
        "loss": lambda: f"loss {s['pct']} % on link {s['link']}",
        "rate": lambda: f"rate {s['kbit']} kbit/s on link {s['link']}",
        "partition": lambda: f"partition link {s['link']} for {until(s['for'])}",
        "kill9": lambda: (f"SIGKILL {s['node']} {s['at']} s into a burst of {s['subs']} submission(s), "
                          f"{s['acts']} action(s); down {until(s['down'])}"),
        "restart": lambda: f"clean restart of {s['node']} (SIGTERM, {s['down']} s down)",
        "disk": lambda: (f"fill the disk of {s['node']}"
                         + (f" to {s['leave'] >> 10} KiB short" if s.get("leave") else "")
                         + f", free after {until(s['for'])}"),
        "pause": lambda: "pause",
        "flood": lambda: f"flood: {s['subs']} submissions at {s['node']} as fast as the CLI goes",
        "rotate": lambda: f"{s['node']} rolls its signing key (keys rotate), running or not",
    }[k]()
    return f"step {s['n']:02d}: {d}; then {s['wait']} s"


# --- the runner --------------------------------------------------------------

class Chaos:
    def __init__(self, tb: T.Testbed, seed: int, villages: list[str], disk_villages: list[str],
                 schedule: list[dict]):
        self.tb = tb
        self.seed = seed
        self.villages = villages
        self.disk_villages = disk_villages
        self.schedule = schedule
        self.work = random.Random(seed * 7919 + 17)     # the workload's choices
        self.nodes = [COUNTY] + TOWNSHIPS + villages
        self.recorded: dict[str, str] = {}               # event id -> node whose CLI stored it
        self.deferred: list[tuple[float, str, object]] = []   # (due, what, fn)
        self.lock = threading.Lock()
        self.down_for_good: set[str] = set()             # nodes to start only at the heal
        self.cut: set[str] = set()
        self.full: set[str] = set()
        self.faults = 0
        self.events = 0                                  # distinct events once converged
        self.stats = {"submitted": 0, "acted": 0, "refused": 0, "cli_errors": 0, "kills": 0,
                      "restarts": 0, "partitions": 0, "disk_fills": 0, "rotations": 0}
        self.observed: list[str] = []                    # notes on disk-full behaviour
        self.full_refusals: dict[str, list[str]] = {}
        self.refusals: dict[str, int] = {}               # reason -> count
        self.last_refusal = ""
        self.t0 = time.monotonic()
        self.actors = {}
        r = random.Random(seed)
        for c in self.nodes:
            self.actors[c] = r.choice(SURNAMES) + r.choice(GIVEN[::2]) + r.choice(GIVEN[1::2])
        self.shaping: dict[str, dict] = {}               # link -> {rate_kbit, loss_pct}
        self.catalog_version, self.items = load_catalog(CATALOG)

    def rel(self) -> str:
        return f"t+{time.monotonic() - self.t0:6.1f}s"

    def log(self, text: str) -> None:
        say(f"  {self.rel()} {text}")

    def parent(self, code: str) -> str:
        return self.tb.nodes[code].parent

    # --- CLI -------------------------------------------------------------

    def cli(self, code: str, *args: str):
        """Runs the CLI against `code`'s store; returns (exit status, stdout, stderr)."""
        try:
            r = T.run([self.tb.bin, *args, "--data", self.tb.nodes[code].data], check=False,
                      quiet=True, timeout=CLI_S)
        except T.Fail as e:
            self.stats["cli_errors"] += 1
            return 124, "", str(e)
        return r.returncode, r.stdout, r.stderr

    def actor(self, code: str, action: str) -> list[str]:
        roles = ROLE[tier(code)]
        role = roles.get(action, roles["*"])
        name = self.actors[code] if role in ("agent", "clerk") else self.actors[code][0] + \
            {"officer": "科长", "director": "主任"}[role]
        return ["--actor", name, "--role", role]

    def note_refusal(self, code: str, what: str, err: str) -> None:
        """Counts a CLI refusal by its reason (printed at the end); notes it
        if the node's disk is full."""
        self.stats["refused"] += 1
        msg = " ".join(err.split())
        key = f"{tier(code)} {what}: {msg[:110]}"
        self.refusals[key] = self.refusals.get(key, 0) + 1
        self.last_refusal = key
        self.note_full(code, what, err)

    def note_full(self, code: str, what: str, err: str) -> None:
        if code in self.full:
            self.full_refusals.setdefault(code, []).append(f"{what}: {err.strip()[:160]}")

    def submit(self, code: str) -> None:
        r = self.work
        # Township windows take their own items and consultations.
        pool = [c for c, it in self.items.items()
                if tier(code) == "village" or it["level"] != "village"]
        item = r.choice(pool)
        it = self.items[item]
        name = it["name"]
        fields = FIELDS.get(item, lambda rr: [f"备注=第{rr.randint(1, 99)}号"])
        applicant = r.choice(SURNAMES) + r.choice(GIVEN)
        args = ["submit", "--json-out", *self.actor(code, "submit"), "--item", item, "--item-name", name,
                "--applicant", applicant, "--id-number", id_number(r),
                "--phone", f"139{r.randint(0, 99999999):08d}", "--address", f"{code}号点辖区",
                "--fee-due", "0", "--summary", f"{applicant}申请{name}"]
        for f in fields(r):
            args += ["--field", f]
        for m in it.get("material", []):
            args += ["--material", f"{m['name']}:provided:{m.get('form', 'copy')}"]
        args += ["--catalog-version", str(self.catalog_version)]
        rc, out, err = self.cli(code, *args)
        if rc != 0:
            self.note_refusal(code, "submit", err or out)
            return
        try:
            case = json.loads(out)["case"]
        except (json.JSONDecodeError, KeyError):
            raise T.Fail(f"submit at {code} exited 0 but printed no case id: {out.strip()[:200]}")
        with self.lock:
            self.recorded[case] = code
        self.stats["submitted"] += 1

    def rotate(self, code: str) -> None:
        """`keys rotate` at `code` (through its daemon, or on the store when
        it is down): the rotation event is recorded like any stored event;
        everything the node signs afterwards must verify wherever it goes."""
        rc, out, err = self.cli(code, "keys", "rotate", "--actor", self.actors[code], "--json")
        if rc != 0:
            self.note_refusal(code, "keys rotate", err or out)
            return
        try:
            ev = json.loads(out)["event"]
        except (json.JSONDecodeError, KeyError):
            raise T.Fail(f"keys rotate at {code} exited 0 but printed no event id: {out.strip()[:200]}")
        with self.lock:
            self.recorded[ev] = code
        self.stats["rotations"] += 1

    def act(self, code: str, case: str, action: str, *extra: str) -> bool:
        cli_action = {"opinion": "opinion"}.get(action, action)
        rc, out, err = self.cli(code, "act", case, cli_action, *self.actor(code, action), "--json", *extra)
        if rc != 0:
            self.note_refusal(code, f"act {action}", err or out)
            return False
        try:
            ev = json.loads(out)["event"]
        except (json.JSONDecodeError, KeyError):
            raise T.Fail(f"act {action} at {code} exited 0 but printed no event id: {out.strip()[:200]}")
        with self.lock:
            self.recorded[ev] = code
        self.stats["acted"] += 1
        return True

    def next_action(self, code: str, k: dict) -> tuple[str, list[str]] | None:
        """A realistic next step for case k at node `code`, from what `code`
        sees (its own `case list` / `case show`), within the rules of
        storage/authority.h. None: nothing for this node to do."""
        r = self.work
        st, handler, home = k.get("status"), k.get("handler") or "", k.get("home") or ""
        it = self.items.get(k.get("item_code") or "", {})
        level_len = LEVEL_LEN.get(it.get("level", "township"), 9)
        basis = it.get("legal_basis", "有关规定")
        if r.random() < 0.06:
            return "comment", ["--text", r.choice(COMMENTS)]
        due = (beijing_today() + dt.timedelta(days=r.randint(3, 20))).isoformat()
        at_k = handler == code
        above_k = handler.startswith(code)                # at or above the handling level
        at_h = home == code
        if at_h and st == "decided":
            return "deliver", ["--method", r.choice(["当面送达", "电话告知后上门送达", "邮寄送达"])]
        if at_h and st == "delivered":
            if not k.get("rating") and r.random() < 0.6:
                return "rate", ["--score", str(r.choice([5, 5, 5, 4, 3])), "--comment", "满意"]
            return "close", ["--note", "办结销号，材料归档"]
        if at_h and st == "closed" and not k.get("rating"):
            return "rate", ["--score", str(r.choice([5, 4])), "--comment", "回访满意"]
        if (at_h or at_k) and tier(code) == "village" and st in ("submitted", "accepted", "escalated") \
                and r.random() < 0.04:
            return "withdraw", ["--reason", "申请人撤回申请"]
        if not above_k or len(code) < level_len:          # not this level's business
            return None
        if st == "submitted" and r.random() < 0.7:
            return "accept", ["--due", due]
        if len(code) > level_len:                          # decided above: pass it up
            if st in ("submitted", "accepted", "escalated"):
                return "escalate", ["--to", code[:len(code) - 3],
                                    "--note", "上报件: 报上级审批" if len(code) == 9 else "代理员转报乡镇"]
            return None
        if not at_k:
            return None
        if it.get("handling") == "consult":
            if st in ("submitted", "accepted", "escalated", "assigned"):
                return "reply", ["--text", "经查询，已按政策答复申请人"]
            return None
        depts = it.get("departments") or []
        if st in ("accepted", "escalated") and tier(code) != "village":
            if len(depts) > 1 or (depts and r.random() < 0.5):
                return "assign", sum((["--dept", d] for d in depts), [])
        assigned = k.get("departments") or []            # case show: [{department, opinion}]
        if st == "assigned" and len(assigned) > 1:
            left = [d["department"] for d in assigned if isinstance(d, dict) and d.get("opinion") is None]
            if left:
                return "opinion", ["--dept", left[0], "--approve", "--text", "符合条件，同意"]
        if st in ("accepted", "escalated", "assigned"):
            if r.random() < 0.12:
                return "decide", ["--reject", "--reason", "经核查不符合条件", "--basis", basis]
            return "decide", ["--approve", "--basis", basis,
                              "--certificate", f"余字{beijing_today().year}第{r.randint(1, 9999):04d}号"]
        return None

    def workflow(self) -> None:
        """One workflow action: up to four nodes are asked for their cases
        until one has something to do; else a comment on a case it holds."""
        for _ in range(4):
            if self.workflow_at(self.work.choices(self.nodes, [3] + [3, 3] + [4] * len(self.villages))[0]):
                return

    def workflow_at(self, code: str) -> bool:
        r = self.work
        rc, out, _ = self.cli(code, "case", "list", "--json")
        if rc != 0:
            return False
        try:
            cases = json.loads(out)
        except json.JSONDecodeError:
            return False
        r.shuffle(cases)
        for k in cases[:30]:
            if k.get("conflict"):
                # 冲突待处理: the level handling it settles with a note.
                if k.get("handler") == code and r.random() < 0.5:
                    self.act(code, k["case"], "comment", "--settle", "--text", "冲突已核实，以本级意见为准")
                    return True
                continue
            if k.get("status") == "assigned" and k.get("handler") == code:
                # The list has no opinions: ask for the case itself.
                rc2, out2, _ = self.cli(code, "case", "show", k["case"], "--json")
                if rc2 == 0:
                    try:
                        k = json.loads(out2)
                    except json.JSONDecodeError:
                        pass
            step = self.next_action(code, k)
            if step is None:
                continue
            action, extra = step
            self.act(code, k["case"], action, *extra)
            return True
        calm = [k for k in cases if not k.get("conflict")]
        if calm and r.random() < 0.3:                     # nothing to do here: a note
            self.act(code, r.choice(calm)["case"], "comment", "--text", r.choice(COMMENTS))
            return True
        return False

    def burst(self, subs: int, acts: int) -> None:
        r = self.work
        ops = ["s"] * subs + ["a"] * acts
        r.shuffle(ops)
        for op in ops:
            if op == "s":
                code = r.choice(self.villages) if r.random() < 0.85 else r.choice(TOWNSHIPS)
                self.submit(code)
            else:
                self.workflow()

    # --- faults ------------------------------------------------------------

    def defer(self, delay: float | None, what: str, fn) -> None:
        if delay is None:
            self.deferred.append((float("inf"), what, fn))
        else:
            self.deferred.append((time.monotonic() + delay, what, fn))

    def run_due(self, all_now: bool = False) -> None:
        now = time.monotonic()
        due = [d for d in self.deferred if all_now or d[0] <= now]
        self.deferred = [d for d in self.deferred if d not in due]
        for _, what, fn in sorted(due, key=lambda d: d[0]):
            self.log(what)
            fn()

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self.run_due()
            self.tb.check_alive()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.2, left))

    def start(self, code: str) -> None:
        n = self.tb.nodes[code]
        if n.running():
            return
        try:
            self.tb.start(code, ready_s=30)
        except T.Fail as e:
            if code in self.full:
                n.stopped = True          # not "exited by itself": it could not start
                if n.running():
                    self.tb.kill9(code)
                self.observed.append(f"{code}: restart with a full disk failed: {e}")
                self.log(f"{code} would not start on a full disk; starting it again once freed")
                return
            raise

    def probe_full(self, code: str) -> None:
        """On a full disk: one submission at the village, and `status`.
        What happens is noted (the node must refuse with a clear error, or
        store; and keep serving)."""
        before = self.stats["submitted"]
        refusals = len(self.full_refusals.get(code, []))
        self.submit(code)
        if self.stats["submitted"] > before:
            what = "stored (exit 0; checked at the end like every other)"
        elif len(self.full_refusals.get(code, [])) > refusals:
            what = "refused: " + self.full_refusals[code][-1]
        else:
            what = "refused"
        # An event that must travel down into the full store: the township
        # writes a note on one of the village's cases.
        down = "no case of it at the township yet"
        town = self.parent(code)
        rc, out, _ = self.cli(town, "case", "list", "--json")
        try:
            mine = [k["case"] for k in json.loads(out) if k.get("home") == code] if rc == 0 else []
        except json.JSONDecodeError:
            mine = []
        if mine:
            ok = self.act(town, self.work.choice(mine), "comment", "--text", "乡镇备注: 请代理员关注办理进度")
            down = f"a township note on its case {'written' if ok else 'refused'} (travels down to it)"
        rc, out, err = self.cli(code, "status", "--json")
        alive = self.tb.nodes[code].running()
        note = (f"{code} disk full ({self.tb.disk_free(code)} bytes free): a submission was {what}; "
                f"{down}; `status` exit {rc}; daemon {'running' if alive else 'NOT running'}")
        self.log(note)
        self.observed.append(note)

    def heal_link(self, link: str) -> None:
        if link in self.cut:
            self.tb.heal(link)
            self.cut.discard(link)

    def free(self, code: str) -> None:
        if code not in self.full:
            return
        self.tb.free_disk(code)
        self.full.discard(code)
        if not self.tb.nodes[code].running() and code not in self.down_for_good:
            self.start(code)
        self.probe_freed(code)

    def probe_freed(self, code: str, tries: int = 3) -> None:
        """After the space is freed the village must store again: one
        submission, retried a few times (bounded); refused throughout = fail."""
        errors = []
        for _ in range(tries):
            before = self.stats["submitted"]
            self.last_refusal = ""
            self.submit(code)
            if self.stats["submitted"] > before:
                self.log(f"{code}: disk freed; a submission was stored")
                if errors:
                    self.observed.append(f"{code}: after its disk was freed a submission was refused "
                                         f"{len(errors)} time(s) before one was stored: {errors[0]}")
                return
            errors.append(self.last_refusal or "no answer")
            time.sleep(1.0)
        raise T.Fail(f"{code}: its disk was freed but it still refuses submissions "
                     f"({tries} tries): {errors[-1] if errors else '?'}")

    def kill_now(self, code: str) -> None:
        with self.lock:
            n = self.tb.nodes[code]
            if n.running():
                self.tb.kill9(code)
                self.stats["kills"] += 1

    def set_shape(self, link: str, **kw) -> None:
        cur = self.shaping.setdefault(link, {"rate_kbit": None, "loss_pct": 0})
        cur.update(kw)
        burst = max(4096, int((cur["rate_kbit"] or 0) * 1000 / 8 / 100))   # >= 10 ms at the rate
        self.tb.shape(link, rate_kbit=cur["rate_kbit"], loss_pct=cur["loss_pct"], burst_bytes=burst,
                      queue_ms=1000)

    def run_step(self, s: dict) -> None:
        k = s["kind"]
        say(f"{self.rel()} {describe(s)}")
        if k not in ("burst", "pause", "flood", "rotate"):
            self.faults += 1
        if k == "burst":
            self.burst(s["subs"], s["acts"])
        elif k == "flood":
            for _ in range(s["subs"]):
                self.submit(s["node"])
        elif k == "rotate":
            self.rotate(s["node"])
        elif k == "loss":
            self.set_shape(s["link"], loss_pct=s["pct"])
        elif k == "rate":
            self.set_shape(s["link"], rate_kbit=s["kbit"])
        elif k == "partition":
            link = s["link"]
            if link in self.cut:
                self.log(f"link {link} is already cut")
            else:
                self.tb.partition(link)
                self.cut.add(link)
                self.stats["partitions"] += 1
                if s["for"] is not None:
                    self.defer(s["for"], f"heal link {link}", lambda: self.heal_link(link))
        elif k == "kill9":
            code = s["node"]
            was_running = self.tb.nodes[code].running()
            timer = threading.Timer(s["at"], self.kill_now, args=(code,))
            timer.daemon = True
            timer.start()
            try:
                self.burst(s["subs"], s["acts"])
            finally:
                timer.join(timeout=30)
            if not was_running:
                self.log(f"{code} was not running: nothing to kill")
            elif s["down"] is None:
                self.down_for_good.add(code)
            else:
                self.defer(s["down"], f"restart {code} after SIGKILL", lambda: self.start(code))
        elif k == "restart":
            code = s["node"]
            if not self.tb.nodes[code].running():
                self.log(f"{code} is not running: nothing to restart")
            else:
                rc = self.tb.stop(code)
                if rc != 0:
                    raise T.Fail(f"{code}: exit status {rc} after SIGTERM (expected 0)")
                self.stats["restarts"] += 1
                self.sleep(s["down"])
                if code not in self.down_for_good:
                    self.start(code)
        elif k == "disk":
            code = s["node"]
            if code in self.full:
                self.log(f"{code}'s disk is already full")
            else:
                wrote = self.tb.fill_disk(code, leave_bytes=s.get("leave", 0))
                self.full.add(code)
                self.stats["disk_fills"] += 1
                self.log(f"{code}: filler {wrote >> 10} KiB, {self.tb.disk_free(code)} bytes left")
                self.probe_full(code)
                self.defer(s["for"], f"free the disk of {code}", lambda: self.free(code))
        self.sleep(s["wait"])

    def heal_all(self) -> None:
        say(f"{self.rel()} heal: every link up and unshaped, every disk freed, every node running")
        self.run_due(all_now=True)
        for link in list(self.cut):
            self.heal_link(link)
        for code in list(self.full):
            self.free(code)
        for link in list(self.shaping):
            self.tb.shape(link)
        self.shaping.clear()
        self.down_for_good.clear()
        for code in self.nodes:
            self.start(code)
        for code in self.nodes:
            if not self.tb.nodes[code].running():
                raise T.Fail(f"{code} is not running after the heal")

    # --- checks ------------------------------------------------------------

    def read_json(self, code: str, *args: str):
        rc, out, err = self.cli(code, *args)
        if rc != 0:
            raise T.Fail(f"{code}: liandong {' '.join(args)}: exit {rc}: {(err or out).strip()[:200]}")
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            raise T.Fail(f"{code}: liandong {' '.join(args)}: not JSON: {out.strip()[:200]}")

    def rejections(self) -> list[str]:
        """Events a node refused from a peer (authority, signature, schema).
        Every node here is honest, so any is a problem: the event is acked
        and never stored there."""
        out = []
        for c in self.nodes:
            for line in self.tb.grep_log(c, "rejected event", limit=3):
                out.append(f"{c} logged: {line.strip()[:240]}")
        return out

    def problems(self) -> tuple[list[str], dict]:
        stores = {c: self.read_json(c, "store", "events", "--json") for c in self.nodes}
        p = I.routing_problems(stores) + I.recorded_problems(self.recorded, stores)
        if p:
            return p, stores
        lists = {c: self.read_json(c, "case", "list", "--json") for c in self.nodes}
        p = I.case_state_problems(lists)
        if p:
            return p, stores
        today = beijing_today()
        period = ["--from", (today - dt.timedelta(days=366)).isoformat(),
                  "--to", (today + dt.timedelta(days=1)).isoformat(), "--as-of", today.isoformat()]
        county = self.read_json(COUNTY, "report", "--json", *period)
        towns = [self.read_json(t, "report", "--json", *period) for t in TOWNSHIPS]
        return I.report_sum_problems(county, towns), stores

    def converge(self, limit: float) -> dict:
        t0 = shown = time.monotonic()
        last: list[str] = []
        while True:
            self.tb.check_alive()
            last, stores = self.problems()
            if not last:
                took = time.monotonic() - t0
                n = self.events = len(I.union_of(stores))
                for line in self.rejections():
                    self.observed.append(f"rejected, yet converged: {line}")
                say(f"{self.rel()} converged {took:.1f} s after the heal: {n} events, "
                    f"{len(self.recorded)} recorded by the CLI; "
                    + ", ".join(f"{c} {len(stores[c])}" for c in self.nodes))
                return stores
            rejected = self.rejections()
            if rejected:
                raise T.Fail("an honest node's event was rejected by a peer: " + "; ".join(rejected[:4])
                             + " — so: " + "; ".join(last[:3]))
            if time.monotonic() - t0 > limit:
                raise T.Fail(f"not converged {limit:.0f} s after the heal: " + "; ".join(last[:6]))
            if time.monotonic() - shown > 20:
                shown = time.monotonic()
                say(f"{self.rel()} waiting for convergence: " + "; ".join(last[:3]))
            time.sleep(1.0)

    def stop_all(self) -> None:
        say(f"{self.rel()} stopping every node (SIGTERM, exit 0 expected), then `store check`")
        bad = []
        for code in reversed(self.nodes):
            rc = self.tb.stop(code)
            if rc != 0:
                bad.append(f"{code} exited {rc} after SIGTERM")
            rc2, out, err = self.cli(code, "store", "check")
            if rc2 != 0:
                bad.append(f"{code}: store check: {(err or out).strip()[:200]}")
        if bad:
            raise T.Fail("; ".join(bad))

    def publish_catalog(self, limit: float = 60) -> None:
        """The county publishes the catalog (a broadcast to every node) and
        the runner waits until every node holds it."""
        rc, out, err = self.cli(COUNTY, "catalog", "publish", os.path.abspath(CATALOG),
                                *self.actor(COUNTY, "publish"), "--json")
        if rc != 0:
            raise T.Fail(f"catalog publish at {COUNTY}: exit {rc}: {(err or out).strip()[:300]}")
        try:
            ev = json.loads(out).get("event")
        except json.JSONDecodeError:
            ev = None
        if ev:
            self.recorded[ev] = COUNTY
        t0 = time.monotonic()
        while True:
            lacking = []
            for c in self.nodes:
                rc, out, _ = self.cli(c, "catalog", "list", "--json")
                try:
                    ok = rc == 0 and bool(json.loads(out))
                except json.JSONDecodeError:
                    ok = False
                if not ok:
                    lacking.append(c)
            if not lacking:
                say(f"{self.rel()} catalog v{self.catalog_version} ({len(self.items)} items) published by "
                    f"{COUNTY}, held by every node after {time.monotonic() - t0:.1f} s")
                return
            if time.monotonic() - t0 > limit:
                raise T.Fail(f"the catalog did not reach {', '.join(lacking)} in {limit:.0f} s")
            time.sleep(0.5)

    def run(self) -> dict:
        self.publish_catalog()
        self.t0 = time.monotonic()
        for s in self.schedule:
            self.run_step(s)
        self.heal_all()
        stores = self.converge(CONVERGE_S)
        self.stop_all()
        return stores


def build(tb: T.Testbed, villages: list[str], disk_villages: list[str]) -> None:
    tb.add(COUNTY, sync=SYNC)
    for t in TOWNSHIPS:
        tb.add(t, COUNTY, sync=SYNC)
    for v in villages:
        tb.add(v, v[:9], sync=SYNC)
    tb.build()
    for v in disk_villages:
        tb.mount_tmpfs(v, DISK_MB)
    tb.init()
    for c in [COUNTY] + TOWNSHIPS + villages:
        tb.start(c, ready_s=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the liandong binary")
    ap.add_argument("--seed", type=int, help="replay this seed (default: a new one)")
    ap.add_argument("--steps", type=int, help="schedule length (default: 14-22, from the seed)")
    ap.add_argument("--villages", type=int, default=6, help="village points, 6-12 (default 6)")
    ap.add_argument("--no-disk-faults", action="store_true", help="no full-disk faults")
    ap.add_argument("--converge-s", type=float, default=240.0, help="bound on the wait after the heal")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--keep-on-fail", action="store_true", help="keep the work directory if the run fails")
    ap.add_argument("--summary", help="write a one-line JSON summary of the round to this file")
    a = ap.parse_args()
    global CONVERGE_S
    CONVERGE_S = a.converge_s
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1, 2**31)
    if not 6 <= a.villages <= len(VILLAGE_NUMBERS):
        ap.error(f"--villages must be 6..{len(VILLAGE_NUMBERS)}")
    T.require_root()
    villages = [TOWNSHIPS[i % 2] + VILLAGE_NUMBERS[i] for i in range(a.villages)]
    villages.sort()
    r = random.Random(seed ^ 0x5EED)
    disk_villages = [] if a.no_disk_faults else sorted(r.sample(villages, r.choice([1, 2])))
    schedule = make_schedule(seed, villages, disk_villages, a.steps, not a.no_disk_faults)
    replay = (f"deploy/testbed/chaos.py --bin {a.bin} --seed {seed}"
              + (f" --steps {a.steps}" if a.steps is not None else "")
              + (f" --villages {a.villages}" if a.villages != 6 else "")
              + (" --no-disk-faults" if a.no_disk_faults else ""))
    say(f"chaos seed={seed} ({len(schedule)} steps); replay: {replay}")
    say(f"  nodes: county {COUNTY}, townships {', '.join(TOWNSHIPS)}, villages {', '.join(villages)}")
    say(f"  disks: {', '.join(disk_villages) or 'none'} on a {DISK_MB} MiB tmpfs"
        + (" (disk faults off)" if a.no_disk_faults else ""))
    for s in schedule:
        say("  " + describe(s))
    t0 = time.monotonic()
    summary = {"seed": seed, "steps": len(schedule), "faults": 0, "events": 0, "recorded": 0,
               "result": "fail", "seconds": 0.0, "reason": "", "work": ""}
    tb = T.Testbed(a.bin, keep=a.keep)
    ch: Chaos | None = None
    rc = 1
    try:
        build(tb, villages, disk_villages)
        ch = Chaos(tb, seed, villages, disk_villages, schedule)
        stores = ch.run()
        summary.update(result="pass", events=len(I.union_of(stores)))
        rc = 0
    except T.Fail as e:
        summary["reason"] = str(e)
    except Exception as e:   # a bug in this runner: still report the seed
        traceback.print_exc()
        summary["reason"] = f"runner error: {e!r}"
    finally:
        if ch is not None:
            summary.update(faults=ch.faults, recorded=len(ch.recorded))
            summary["events"] = summary["events"] or ch.events
            say(f"  workload: {json.dumps(ch.stats, ensure_ascii=False)}")
            for reason, n in sorted(ch.refusals.items(), key=lambda x: -x[1])[:8]:
                say(f"  refused x{n}: {reason}")
            for code, lines in sorted(ch.full_refusals.items()):
                ch.observed.append(f"{code}: {len(lines)} CLI call(s) refused while its disk was full, "
                                   f"e.g. {lines[0]}")
            for code in ch.disk_villages:
                for line in tb.grep_log(code, "space", "full", "No space", limit=5):
                    ch.observed.append(f"{code} log: {line.strip()[:200]}")
            for o in ch.observed:
                say(f"  observed: {o}")
            summary["observed"] = ch.observed
        if rc != 0 and not tb.closed:
            for code in tb.nodes:
                tb.tail(code, 15)
            if a.keep_on_fail:
                tb.keep = True
            summary["work"] = tb.work if tb.keep else ""
        summary["seconds"] = round(time.monotonic() - t0, 1)
        tb.close()
        if a.summary:
            with open(a.summary, "w", encoding="utf-8") as f:
                f.write(json.dumps(summary, ensure_ascii=False) + "\n")
    if rc == 0:
        say(f"CHAOS PASS seed={seed}: {summary['steps']} steps, {summary['faults']} faults, "
            f"{summary['events']} events, {summary['recorded']} recorded by the CLI, {summary['seconds']} s")
    else:
        say(f"CHAOS FAIL seed={seed}: {summary['reason']}")
        say(f"  replay: {replay}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
