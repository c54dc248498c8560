"""The harness of the desk's browser tests (tests/desk/desk_test.py):
a county, a township and a village point on 127.0.0.1, each its own
`liandong run --config FILE` process with its own store and its own desk,
and headless Chromium browsers driven through chromedriver (Selenium).

Loopback, not network namespaces: the desk is a web page on the local
machine, and the tests need no root. The pieces deploy/ already has are
imported, not copied: free_port (deploy/network.py), resident_id, link_of
and the checked CLI runner (deploy/testbed/testbed.py), the routing and
case-state invariants (deploy/testbed/invariants.py).

Every process is started here and stopped here by its pid: the daemons
(SIGTERM, exit status 0 expected; SIGKILL only as a last resort on
failure), chromedriver and the Chromium processes whose command line names
the fresh profile directory made for that browser. Every wait is bounded
in time (wait_for). Python 3 standard library plus python3-selenium.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "deploy"))
sys.path.insert(0, os.path.join(ROOT, "deploy", "testbed"))
import invariants  # noqa: E402,F401  (re-exported for the scenarios)
import network  # noqa: E402  (deploy/network.py: free_port)
import testbed  # noqa: E402  (deploy/testbed/testbed.py: run, resident_id, link_of)
from testbed import Fail, say  # noqa: E402,F401

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
READY_S = 20.0     # a started daemon answers `status` and serves its desk within this
STOP_S = 15.0      # a SIGTERMed daemon exits within this
POLL_S = 0.15

# Quick links, as deploy/network.py runs them: a link that goes down is
# noticed in 1.5 s, a peer that comes back is redialled within 1 s.
FAST_SYNC = ("\n[sync]\nheartbeat_ms = 200\npeer_timeout_ms = 1500\nack_timeout_ms = 2000\n"
             "redial_min_ms = 100\nredial_max_ms = 1000\n")


def wait_for(what: str, limit_s: float, cond, every: float = POLL_S):
    """Calls cond() every `every` seconds until it returns something truthy
    (returned) or `limit_s` seconds have passed (Fail naming `what` and the
    last value). Bounded in time and so in count."""
    t0 = time.monotonic()
    last = None
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() - t0 > limit_s:
            raise Fail(f"{what}: not so after {limit_s:.0f} s (last: {str(last)[:300]})")
        time.sleep(every)


class Node:
    def __init__(self, net: "Net", code: str, name: str, parent: str | None, listens: bool,
                 extra_upstreams: tuple[str, ...]):
        self.code = code
        self.name = name
        self.parent = parent
        self.extra_upstreams = extra_upstreams   # dialled after the parent (fail-over)
        self.data = os.path.join(net.work, code)
        self.conf = os.path.join(net.work, "conf", code + ".toml")
        self.log = os.path.join(net.work, "logs", code + ".log")
        self.port = network.free_port() if listens else None
        self.keys: dict = {}
        self.proc: subprocess.Popen | None = None
        self.desk = ""            # http://127.0.0.1:PORT (no trailing slash) while running
        self.stopping = False

    @property
    def endpoint(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Net:
    """County, township and village on loopback. add() parent before child,
    then init(), then start()/stop() by code. The desk listens on
    127.0.0.1:0 (the system picks a free port, no race); the address the
    daemon serves is read back from DATA/desk/address after each start."""

    def __init__(self, binary: str, work: str):
        self.bin = os.path.abspath(binary)
        self.work = work
        os.makedirs(os.path.join(work, "conf"), exist_ok=True)
        os.makedirs(os.path.join(work, "logs"), exist_ok=True)
        self.nodes: dict[str, Node] = {}

    def add(self, code: str, name: str, parent: str | None = None, listens: bool = False,
            extra_upstreams: tuple[str, ...] = ()) -> Node:
        n = Node(self, code, name, parent, listens, extra_upstreams)
        self.nodes[code] = n
        return n

    # --- the CLI -------------------------------------------------------------

    def cli(self, *args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        return testbed.run([self.bin, *args], check=check, timeout=timeout)

    def cli_json(self, *args: str, timeout: float = 30):
        r = self.cli(*args, timeout=timeout)
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            raise Fail(f"liandong {' '.join(args[:4])}: not JSON: {r.stdout.strip()[:300]}")

    def case(self, code: str, case_id: str) -> dict | None:
        """`case show ID --json` at the node, or None while it has not the case."""
        r = self.cli("case", "show", case_id, "--data", self.nodes[code].data, "--json",
                     check=False)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def uplink_state(self, code: str, peer: str) -> str:
        st = self.cli_json("status", "--data", self.nodes[code].data, "--json")
        return testbed.link_of(st, peer).get("state", "")

    def invite(self, code: str, name: str) -> str:
        """A one-time code for `name` at `code` (`liandong desk invite --json`)."""
        out = self.cli_json("desk", "invite", name, "--data", self.nodes[code].data, "--json")
        if not out.get("code"):
            raise Fail(f"desk invite {name} at {code}: no code in {out}")
        return out["code"]

    def audit(self, code: str) -> str:
        return self.cli("audit", "--data", self.nodes[code].data).stdout

    # --- set-up --------------------------------------------------------------------

    def init(self) -> None:
        for n in self.nodes.values():
            self.cli("init", "--data", n.data, "--code", n.code)
            n.keys = self.cli_json("keys", "show", "--data", n.data, "--json")
        for n in self.nodes.values():
            self.write_config(n)
            self.cli("config", "check", n.conf)

    def write_config(self, n: Node) -> None:
        def peer(section: str, p: Node, with_endpoint: bool) -> str:
            s = f'\n[[{section}]]\ncode = "{p.code}"\n'
            if with_endpoint:
                s += f'endpoint = "{p.endpoint}"\n'
            return s + f'curve_key = "{p.keys["curve_key"]}"\nsign_key = "{p.keys["sign_key"]}"\n'

        text = (f"# {n.name} ({n.code}), written by tests/desk/desk_net.py\n"
                f'[node]\ncode = "{n.code}"\ndata = "{n.data}"\nlog_level = "info"\n')
        if n.port:
            text += f'\n[listen]\nendpoint = "{n.endpoint}"\n'
        text += '\n[desk]\nlisten = "127.0.0.1:0"\n'
        # Upstreams in order of preference: the parent, then any other.
        if n.parent:
            text += peer("upstream", self.nodes[n.parent], True)
        for up in n.extra_upstreams:
            text += peer("upstream", self.nodes[up], True)
        for c in self.nodes.values():
            if c.parent == n.code or n.code in c.extra_upstreams:
                text += peer("child", c, False)
        text += FAST_SYNC
        with open(n.conf, "w", encoding="utf-8") as f:
            f.write(text)

    # --- daemons -----------------------------------------------------------------------

    def start(self, code: str) -> None:
        """Starts the node's daemon; returns when it answers `status` and its
        desk answers GET /api/people at the address it wrote."""
        n = self.nodes[code]
        if n.running():
            raise Fail(f"{code} is already running")
        address = os.path.join(n.data, "desk", "address")
        if os.path.exists(address):
            os.remove(address)             # the address of an earlier run
        n.stopping = False
        with open(n.log, "ab") as logf:
            logf.write(f"--- desk_net: start at {time.strftime('%H:%M:%S')}\n".encode())
            logf.flush()
            n.proc = subprocess.Popen([self.bin, "run", "--config", n.conf], stdout=logf,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)

        def ready():
            if n.proc.poll() is not None:
                self.tail(code)
                raise Fail(f"{code}: liandong run exited with status {n.proc.returncode} at start")
            r = self.cli("status", "--data", n.data, "--json", check=False, timeout=5)
            if r.returncode != 0 or not json.loads(r.stdout or "{}").get("running"):
                return None
            try:
                with open(address, encoding="utf-8") as f:
                    url = f.read().strip().rstrip("/")
            except FileNotFoundError:
                return None
            status, _ = http(url + "/api/people")
            return url if status == 200 else None

        n.desk = wait_for(f"{code} running with its desk", READY_S, ready, every=0.1)
        say(f"  启动 {code} {n.name} (pid {n.proc.pid})，办事台 {n.desk}/")

    def stop(self, code: str) -> None:
        """SIGTERM by pid; the daemon must exit 0 within STOP_S."""
        n = self.nodes[code]
        if not n.running():
            raise Fail(f"{code} is not running (status {n.proc.returncode if n.proc else '-'})")
        n.stopping = True
        os.kill(n.proc.pid, signal.SIGTERM)
        try:
            rc = n.proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            os.kill(n.proc.pid, signal.SIGKILL)
            n.proc.wait()
            raise Fail(f"{code}: still running {STOP_S:.0f} s after SIGTERM")
        if rc != 0:
            raise Fail(f"{code}: exit status {rc} after SIGTERM (expected 0)")
        n.desk = ""
        say(f"  停止 {code} {n.name} (SIGTERM → 退出码 0)")

    def check_alive(self) -> None:
        for n in self.nodes.values():
            if n.proc is not None and not n.stopping and n.proc.poll() is not None:
                self.tail(n.code)
                raise Fail(f"{n.code}: liandong run exited by itself with status {n.proc.returncode}")

    def kill_all(self) -> None:
        """Last resort: the daemons this harness started and that still run,
        by pid: SIGTERM, then SIGKILL after 5 s."""
        live = [n for n in self.nodes.values() if n.running()]
        for n in live:
            n.stopping = True
            os.kill(n.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for n in live:
            try:
                n.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(n.proc.pid, signal.SIGKILL)
                n.proc.wait()

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


def http(url: str, method: str = "GET", body: dict | None = None,
         headers: dict | None = None) -> tuple[int, dict]:
    """One request from outside any browser: (status, JSON answer or {})."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}
    try:
        return status, json.loads(text) if text else {}
    except json.JSONDecodeError:
        return status, {"text": text[:300]}


# --- browsers ------------------------------------------------------------------------------

_FETCH = """
const [method, path, body, headers, done] = arguments;
const init = {method, headers: Object.assign({'Accept': 'application/json'}, headers),
              credentials: 'same-origin', cache: 'no-store'};
if (body !== null) { init.body = body; init.headers['Content-Type'] = 'application/json'; }
fetch(path, init)
  .then(async (r) => done({status: r.status, text: await r.text()}))
  .catch((e) => done({status: -1, text: String(e)}));
"""


class Browser:
    """One headless Chromium with a fresh profile, as one person's PC.

    Screenshots go to `art` as NAME.png (the 1366x768 window) and, for a page
    longer than the window, NAME-full.png (the whole page, unless full=False);
    printouts as NAME.pdf (A4, through print_page) and NAME.txt
    (pdftotext -layout)."""

    def __init__(self, label: str, tmp: str, art: str):
        self.label = label
        self.art = art
        self.profile = tempfile.mkdtemp(prefix=f"chromium-{label}-", dir=tmp)
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1366,768", "--lang=zh-CN",
                  f"--user-data-dir={self.profile}"):
            o.add_argument(a)
        self.service = Service(CHROMEDRIVER, log_path=os.path.join(tmp, f"chromedriver-{label}.log"))
        self.d = webdriver.Chrome(service=self.service, options=o)
        self.d.set_page_load_timeout(30)
        self.d.set_script_timeout(30)
        self.d.implicitly_wait(0)
        self.fit()

    def fit(self) -> None:
        """Headless Chromium takes --window-size with room for a toolbar it
        does not draw: grows the current window so that the page itself is
        1366x768."""
        outer = self.d.get_window_size()
        inner = self.d.execute_script("return [window.innerWidth, window.innerHeight];")
        self.d.set_window_size(outer["width"] + 1366 - inner[0], outer["height"] + 768 - inner[1])
        inner = self.d.execute_script("return [window.innerWidth, window.innerHeight];")
        if inner != [1366, 768]:
            raise Fail(f"{self.label}: the page is {inner[0]}x{inner[1]}, not 1366x768")

    def new_window(self) -> str:
        """Opens another window (1366x768) and switches to it; its handle."""
        self.d.switch_to.new_window("window")
        self.fit()
        return self.d.current_window_handle

    def quit(self) -> None:
        try:
            self.d.quit()
        except WebDriverException:
            pass
        # What is left of this browser, by pid: chromedriver, then every
        # process whose command line names this browser's own profile.
        p = getattr(self.service, "process", None)
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        for pid in _pids_with_arg(f"--user-data-dir={self.profile}"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # --- pages ---------------------------------------------------------------------

    def go(self, url: str) -> None:
        self.d.get(url)

    def el(self, css: str):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def els(self, css: str) -> list:
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str):
        """The element if present and displayed, else None (also when the
        page redrew it while looking)."""
        try:
            found = self.els(css)
            return found[0] if found and found[0].is_displayed() else None
        except StaleElementReferenceException:
            return None

    def wait_el(self, what: str, css: str, limit_s: float = 15, text: str | None = None):
        """Waits for a displayed element (whose text contains `text`, if given)."""
        def ok():
            e = self.visible(css)
            if e is None:
                return None
            return e if text is None or text in e.text else None
        return wait_for(f"{self.label}: {what} ({css})", limit_s, ok, every=0.1)

    def attrs(self, css: str, name: str) -> list:
        """The attribute `name` of every element matching `css`, read in one
        script call: the pages redraw their lists when the store changes,
        and an element looked up first and read after may be gone."""
        return self.d.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), (e) => e.getAttribute(arguments[1]));",
            css, name)

    def text(self, css: str) -> str:
        for _ in range(5):
            try:
                found = self.els(css)
                return found[0].text if found else ""
            except StaleElementReferenceException:
                time.sleep(0.05)
        return ""

    def click(self, css: str) -> None:
        """Clicks the element; the pages redraw their lists when the store
        changes (every 3 s), so a redrawn element is looked up again (at
        most 5 times)."""
        for attempt in range(5):
            try:
                e = self.el(css)
                self.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", e)
                e.click()
                return
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.1)

    def type(self, css: str, value: str) -> None:
        e = self.el(css)
        e.clear()
        e.send_keys(value)

    def path(self) -> str:
        return self.d.execute_script("return location.pathname;")

    def fetch(self, method: str, path: str, body: dict | None = None,
              headers: dict | None = None) -> tuple[int, dict]:
        """A request made by the page itself (its cookie, its origin)."""
        r = self.d.execute_async_script(_FETCH, method, path,
                                        None if body is None else json.dumps(body), headers or {})
        try:
            return r["status"], json.loads(r["text"]) if r["text"] else {}
        except json.JSONDecodeError:
            return r["status"], {"text": r["text"][:300]}

    def api(self, path: str) -> dict:
        status, j = self.fetch("GET", path)
        if status != 200:
            raise Fail(f"{self.label}: GET {path} → {status} {j}")
        return j

    # --- artifacts -----------------------------------------------------------------

    def shot(self, name: str, full: bool = True) -> None:
        self.d.execute_script("window.scrollTo(0, 0);")
        time.sleep(0.2)     # let a smooth scroll and the last repaint settle
        self.d.save_screenshot(os.path.join(self.art, name + ".png"))
        if not full:
            return
        m = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = m.get("cssContentSize") or m.get("contentSize")
        if size and size["height"] > self.d.execute_script("return window.innerHeight;") + 4:
            shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                         "scale": 1}})
            with open(os.path.join(self.art, name + "-full.png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))

    def pdf(self, name: str) -> str:
        """Prints the page to an A4 PDF; returns its text (pdftotext -layout)."""
        po = PrintOptions()
        po.page_width = 21.0
        po.page_height = 29.7
        po.background = True
        data = base64.b64decode(self.d.print_page(po))
        path = os.path.join(self.art, name + ".pdf")
        with open(path, "wb") as f:
            f.write(data)
        r = testbed.run(["pdftotext", "-layout", path, "-"], timeout=30)
        with open(os.path.join(self.art, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(r.stdout)
        return r.stdout


def _pids_with_arg(arg: str) -> list[int]:
    """Pids of processes with `arg` in their command line (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if arg.encode() in argv:
            out.append(int(d))
    return out


def cleanup_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
