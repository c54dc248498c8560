"""The metrics endpoint scraped by a real Prometheus (`metrics.prometheus`).

A township (南安镇 360723101) and a village point (水城村 360723101007) run
on 127.0.0.1 with `[metrics] listen = "127.0.0.1:0"` (tests/desk/desk_net.py
starts them); an application is registered at the village; Debian's
/usr/bin/prometheus, started here with its own config, data directory and
port (never the package's service), scrapes both nodes every second and
loads deploy/prometheus/liandong-rules.yml; the test then asks Prometheus's
HTTP API for the link's state and counters and checks:

  - liandong_link_up{peer="360723101007"} == 1 at the township, and the
    village's link to the township up;
  - the events the township received from the village > 0, and at least
    the village's own events, and the village's sent events > 0;
  - the store's, the disk's and the desk's figures are there;
  - the rules file is loaded by Prometheus and passes `promtool check
    rules`; the example deploy/prometheus/prometheus.yml passes `promtool
    check config`;
  - the endpoint answers GET /metrics only: POST gives 405, another path
    404;
  - a second node whose [metrics] listen names a port already taken
    refuses to start with one line saying so, exit status 2.

Every wait is bounded; every process is started here and stopped by its
pid. About 15-25 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "desk"))
import desk_net as D  # noqa: E402
from desk_net import Fail, say, wait_for  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
RULES = os.path.join(ROOT, "deploy", "prometheus", "liandong-rules.yml")
EXAMPLE = os.path.join(ROOT, "deploy", "prometheus", "prometheus.yml")
TOWNSHIP, VILLAGE, OTHER = "360723101", "360723101007", "360723101009"
SCRAPE_S = 30.0   # Prometheus has scraped what the nodes show within this


class MetricsNet(D.Net):
    """desk_net's loopback network, each node with a metrics endpoint on a
    free port of 127.0.0.1 (read back from DATA/metrics/address)."""

    def write_config(self, n: D.Node) -> None:
        super().write_config(n)
        with open(n.conf, "a", encoding="utf-8") as f:
            f.write('\n[metrics]\nlisten = "127.0.0.1:0"\n')

    def metrics_url(self, code: str) -> str:
        path = os.path.join(self.nodes[code].data, "metrics", "address")
        def read():
            try:
                with open(path, encoding="utf-8") as f:
                    return f.read().strip()
            except FileNotFoundError:
                return ""
        return wait_for(f"{code} writes its metrics address", 10, read)


def fetch(url: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, Content-Type, body) of one request; status 0 when nothing answers."""
    req = urllib.request.Request(url, method=method, data=b"x" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, "", ""


class Prometheus:
    """/usr/bin/prometheus on a free port of 127.0.0.1, its TSDB and config
    in `work`, scraping `targets` every second; stopped by its pid."""

    def __init__(self, work: str, targets: dict[str, str]):
        self.work = work
        self.port = D.network.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = os.path.join(work, "prometheus.log")
        conf = os.path.join(work, "prometheus.yml")
        lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s",
                 "  evaluation_interval: 1s", "rule_files:", f"  - {RULES}", "scrape_configs:",
                 "  - job_name: liandong", "    static_configs:"]
        for code, url in targets.items():
            u = urllib.parse.urlparse(url)
            lines += [f"      - targets: ['{u.netloc}']", f"        labels: {{node: '{code}'}}"]
        with open(conf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.conf = conf
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "wb") as logf:
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={self.conf}",
                 f"--storage.tsdb.path={os.path.join(self.work, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--web.console.templates=/etc/prometheus/consoles",
                 "--web.console.libraries=/etc/prometheus/console_libraries"],
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                self.tail()
                raise Fail(f"prometheus exited with status {self.proc.returncode} at start")
            return fetch(self.url + "/-/ready")[0] == 200
        wait_for("prometheus ready", 20, ready, every=0.2)
        say(f"  启动 prometheus (pid {self.proc.pid})，{self.url}/，每秒采集一次")

    def query(self, expr: str) -> list[dict]:
        status, _, body = fetch(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if status != 200:
            raise Fail(f"prometheus query {expr!r}: HTTP {status} {body[:300]}")
        j = json.loads(body)
        if j.get("status") != "success":
            raise Fail(f"prometheus query {expr!r}: {j}")
        return j["data"]["result"]

    def value(self, expr: str) -> float | None:
        """The single value of an instant vector query, or None while empty."""
        r = self.query(expr)
        if len(r) > 1:
            raise Fail(f"prometheus query {expr!r}: {len(r)} series, one expected: {r}")
        return float(r[0]["value"][1]) if r else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, lines: int = 20) -> None:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                for line in f.readlines()[-lines:]:
                    sys.stderr.write("    " + line)
        except FileNotFoundError:
            pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Fail(what)


def run(net: MetricsNet, tmp: str) -> None:
    say("1. 南安镇与水城村启动，各开指标端点 (127.0.0.1)")
    net.add(TOWNSHIP, "南安镇", listens=True)
    net.add(VILLAGE, "水城村", parent=TOWNSHIP)
    net.init()
    net.start(TOWNSHIP)
    net.start(VILLAGE)
    urls = {code: net.metrics_url(code) for code in (TOWNSHIP, VILLAGE)}
    for code, url in urls.items():
        say(f"  {code} 指标端点 {url}")

    say("2. 端点只答 GET /metrics")
    status, ctype, body = fetch(urls[TOWNSHIP])
    check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
          f"GET /metrics: {status} {ctype!r}")
    check("# TYPE liandong_link_up gauge" in body and 'liandong_build_info{version="' in body,
          f"GET /metrics lacks the link and build families:\n{body[:800]}")
    status, _, body = fetch(urls[TOWNSHIP], method="POST")
    check(status == 405, f"POST /metrics: {status} (405 expected) {body[:200]}")
    base = urls[TOWNSHIP].rsplit("/", 1)[0]
    for path in ("/", "/metrics/x", "/api/people", "/metrics.txt"):
        status, _, body = fetch(base + path)
        check(status == 404, f"GET {path}: {status} (404 expected) {body[:200]}")

    say("3. 水城村受理一件申请（登记办件）")
    out = net.cli_json("submit", "--data", net.nodes[VILLAGE].data, "--json-out", "--actor",
                       "张代办", "--role", "agent", "--item", "hukou_move",
                       "--item-name", "户口迁移", "--applicant", "李明",
                       "--id-number", D.testbed.resident_id("36072319800101123"),
                       "--phone", "13907971234", "--address", "南安镇水城村三组", "--fee-due", "0",
                       "--summary", "李明申请户口迁移")
    check(bool(out.get("case")), f"submit: no case in {out}")
    say(f"  办件 {out['case']}")

    say("4. Prometheus 每秒采集两节点，按其 HTTP 接口查询")
    prom = Prometheus(tmp, urls)
    try:
        prom.start()
        t0 = time.monotonic()
        wait_for("both targets scraped and up", SCRAPE_S,
                 lambda: prom.value('count(up{job="liandong"} == 1)') == 2)
        wait_for(f'liandong_link_up{{peer="{VILLAGE}"}} == 1 at the township', SCRAPE_S,
                 lambda: prom.value(f'liandong_link_up{{node="{TOWNSHIP}",peer="{VILLAGE}",'
                                    f'direction="down"}}') == 1)
        wait_for("the village's link to the township up", SCRAPE_S,
                 lambda: prom.value(f'liandong_link_up{{node="{VILLAGE}",peer="{TOWNSHIP}",'
                                    f'direction="up"}}') == 1)
        got = wait_for("events received from the village > 0 at the township", SCRAPE_S,
                       lambda: prom.value(f'liandong_link_received_events_total{{node="{TOWNSHIP}",'
                                          f'peer="{VILLAGE}"}} > 0'))
        sent = wait_for("events sent by the village > 0", SCRAPE_S,
                        lambda: prom.value(f'liandong_link_sent_events_total{{node="{VILLAGE}",'
                                           f'peer="{TOWNSHIP}"}} > 0'))
        say(f"  南安镇收到水城村事件 {got:.0f} 件，水城村发出 {sent:.0f} 件"
            f"（{time.monotonic() - t0:.1f} s）")
        # The application is held at the township: its case count follows.
        wait_for("the township holds the case", SCRAPE_S,
                 lambda: (prom.value(f'liandong_cases{{node="{TOWNSHIP}"}}') or 0) >= 1)
        for expr in (f'liandong_store_used_bytes{{node="{VILLAGE}"}} > 0',
                     f'liandong_disk_free_bytes{{node="{VILLAGE}"}} > 0',
                     f'liandong_events{{node="{VILLAGE}"}} > 0',
                     f'liandong_link_rtt_seconds{{node="{TOWNSHIP}",peer="{VILLAGE}"}} >= 0',
                     f'liandong_link_unacknowledged_events{{node="{VILLAGE}"}} >= 0',
                     f'time() - liandong_link_last_heard_timestamp_seconds{{node="{TOWNSHIP}",'
                     f'peer="{VILLAGE}"}} < 60',
                     f'liandong_cases_overdue{{node="{TOWNSHIP}"}} >= 0',
                     f'sum(liandong_desk_requests_total{{node="{TOWNSHIP}",route="read",'
                     f'status="2xx"}}) > 0',
                     f'liandong_desk_request_duration_seconds_count{{node="{TOWNSHIP}",'
                     f'route="read"}} > 0'):
            wait_for(expr, SCRAPE_S, lambda e=expr: prom.value(e) is not None)
        say("  存储、磁盘、时延、未确认、最后联系、超期、办事台请求：均可查询")
        took = prom.value(f'liandong_loop_snapshot_duration_seconds{{node="{TOWNSHIP}"}}')
        t1 = time.monotonic()
        status, _, body = fetch(urls[TOWNSHIP])
        say(f"  一次采集：HTTP {(time.monotonic() - t1) * 1000:.1f} ms，{len(body)} 字节；"
            f"循环取链路数据 {took * 1e6:.0f} µs")

        say("5. 告警规则：Prometheus 已加载，promtool 检查通过")
        groups = json.loads(fetch(prom.url + "/api/v1/rules")[2])["data"]["groups"]
        names = sorted(r["name"] for g in groups for r in g["rules"])
        check(len(names) >= 5 and "LiandongChildSilent" in names
              and "LiandongUnacknowledgedOld" in names and "LiandongDiskNearlyFull" in names,
              f"rules loaded: {names}")
        firing = [a for a in prom.query("ALERTS") if a["metric"].get("alertstate") == "firing"]
        check(not firing, f"alerts firing on a healthy pair: {firing}")
        say(f"  已加载 {len(names)} 条：{', '.join(names)}；无告警")
    finally:
        prom.stop()
    for cmd in ([PROMTOOL, "check", "rules", RULES], [PROMTOOL, "check", "config", EXAMPLE],
                [PROMTOOL, "test", "rules", os.path.join(HERE, "rules_test.yml")]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"{' '.join(cmd[1:])}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        say(f"  promtool {' '.join(cmd[1:3])} {os.path.basename(cmd[-1])}: 通过")

    say("6. 端口已被占用：第二个节点拒绝启动，一行说明，退出码 2")
    port = urllib.parse.urlparse(urls[TOWNSHIP]).port
    other = os.path.join(tmp, "other")
    net.cli("init", "--data", other, "--code", OTHER)
    conf = os.path.join(tmp, "other.toml")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(f'[node]\ncode = "{OTHER}"\ndata = "{other}"\n[desk]\nlisten = "off"\n'
                f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
    try:
        r = subprocess.run([net.bin, "run", "--config", conf], capture_output=True, text=True,
                           timeout=20, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Fail("a node whose metrics port is taken is still running after 20 s")
    err = [line for line in r.stderr.splitlines() if line.startswith("错误")]
    check(r.returncode == 2 and len(err) == 1 and f"127.0.0.1:{port}" in err[0]
          and "指标端点" in err[0], f"exit {r.returncode}; stderr: {r.stderr.strip()!r}")
    say(f"  {err[0]}")

    say("7. 停止两节点 (SIGTERM，退出码 0)")
    for code in (VILLAGE, TOWNSHIP):
        net.check_alive()
        net.stop(code)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the liandong binary")
    ap.add_argument("--keep", action="store_true", help="keep stores, configs and logs")
    args = ap.parse_args()
    for tool in (PROMETHEUS, PROMTOOL):
        if not os.access(tool, os.X_OK):
            say(f"{tool} missing: apt install prometheus (deploy/install-deps.sh)")
            return 1
    tmp = tempfile.mkdtemp(prefix="liandong-metrics-")
    net = MetricsNet(os.path.abspath(args.bin), os.path.join(tmp, "net"))
    ok = False
    t0 = time.monotonic()
    try:
        run(net, tmp)
        ok = True
    except Fail as e:
        say(f"\nFAIL: {e}")
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    finally:
        if not ok:
            for code in net.nodes:
                net.tail(code)
        net.kill_all()
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"kept: {tmp}")
    say(f"\n{'PASS' if ok else 'FAIL'} metrics.prometheus in {time.monotonic() - t0:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
