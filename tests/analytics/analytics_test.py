"""Exactly-once export to a real PostgreSQL (`analytics.postgres_export`).

A PostgreSQL cluster of its own (initdb and pg_ctl in a temporary
directory, run as an unprivileged user: the `postgres` system user when
the test runs as root; never the package's service) on a free port; a
county store (大余县 360723) of 10,000 generated cases written by
county_gen (tests/analytics/county_gen.cpp) while, at the same time,
county_gen keeps appending new cases and complaints. Then, round after
round, `liandong export postgres --follow` runs and is killed with SIGKILL
at a random moment, and every other round PostgreSQL is stopped with
`pg_ctl stop -m immediate` (a crash) while the exporter runs, and started
again. After every round: the events table holds each LSN 1..cursor
exactly once. At the end (the appender stopped, one last export):

  - events per node == the store's events, no id twice, every LSN once;
  - cases == the store's cases; ID numbers masked;
  - the views and liandong.report() equal `liandong report --json` for
    several periods and groupings (township, month, village, none);
  - bad input: a DSN libpq cannot parse exits 2, an unreachable server
    exits 1, a database holding another schema version exits 2 and
    nothing is written; each says so in one Chinese line;
  - two exporters of one node at once never interleave or double a row;
  - a store replaced under the node (another store id) restarts the
    cursor and skips the events held already by id;
  - `liandong run` with [export] postgres_dsn exports on its own thread,
    also the events stored while it runs, and never logs the password.

Skipped (exit 77) only where PostgreSQL's server binaries are absent.
Every wait is bounded; every process is started here and stopped by pid.
About 45-70 s on two cores.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77
CASES = 10000
ROUNDS = 24  # exporter SIGKILLs; PostgreSQL crashes every other round


class Fail(Exception):
    pass


def say(msg):
    print(msg, flush=True)


def pg_bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    for name in ("initdb",):
        p = shutil.which(name)
        if p:
            return os.path.dirname(os.path.realpath(p))
    return None


def free_port():
    """A free port below the kernel's ephemeral range: the server restarts
    many times, and a client connection of a test running beside this one
    could otherwise take the port as its own source port in between."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise Fail("no free port in 20000-32000")


class Cluster:
    """A PostgreSQL cluster in `root`, owned and run by `user` (None: us)."""

    def __init__(self, bindir, root, user):
        self.bindir, self.root, self.user = bindir, root, user
        self.data = os.path.join(root, "pgdata")
        self.port = free_port()
        self.sock = root

    def run_as(self, args, check=True, timeout=60):
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise Fail(f"{args[0]} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def init(self):
        self.run_as([os.path.join(self.bindir, "initdb"), "-D", self.data, "-A", "trust",
                     "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])

    def start(self):
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c full_page_writes=off -c max_connections=20")
        self.run_as([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-o", opts,
                     "-l", os.path.join(self.root, "server.log"), "-w", "-t", "60", "start"])
        # Up means answering over TCP, as the exporter connects.
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run(["psql", "-X", "-q", "-At", "-d", self.dsn(), "-c", "SELECT 1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=30)
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise Fail(f"PostgreSQL started but does not answer on port {self.port}: "
                           f"{r.stderr.strip()}")
            time.sleep(0.2)

    def crash(self):
        self.run_as([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                     "-w", "stop"], check=False)
        # Gone for good before it is started again.
        deadline = time.monotonic() + 60
        while os.path.exists(os.path.join(self.data, "postmaster.pid")):
            if time.monotonic() > deadline:
                raise Fail("PostgreSQL did not stop within 60 s of an immediate shutdown")
            time.sleep(0.1)

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.run_as([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast",
                         "-w", "stop"], check=False)

    def dsn(self, db="postgres"):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def sql(self, query, db="postgres"):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.dsn(db), "-c", query],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if r.returncode != 0:
            raise Fail(f"psql: {query[:80]}: {r.stderr.strip()}")
        return [line.split("\t") for line in r.stdout.splitlines() if line != ""]

    def one(self, query, db="postgres"):
        rows = self.sql(query, db)
        return rows[0][0] if rows else None


def run(args, timeout=120):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def report(binary, data, *extra):
    r = run([binary, "report", "--data", data, "--as-of", "2026-12-01", "--json"] + list(extra))
    if r.returncode != 0:
        raise Fail(f"report {extra}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-4


FIGS = [("received", "received"), ("accepted", "accepted"), ("completed", "completed"),
        ("completed_on_time", "on_time"), ("immediate", "immediate"), ("rated", "rated"),
        ("good_ratings", "good_ratings")]
RATES = [("on_time_rate", "on_time_rate"), ("immediate_rate", "immediate_rate"),
         ("good_rating_rate", "good_rating_rate")]
COLS = ("received, accepted, completed, on_time, on_time_rate, immediate, immediate_rate, "
        "rated, good_ratings, good_rating_rate")
NAMES = ["received", "accepted", "completed", "on_time", "on_time_rate", "immediate",
         "immediate_rate", "rated", "good_ratings", "good_rating_rate"]


def compare(label, rep_rows, sql_rows):
    """rep_rows: key -> report JSON figures; sql_rows: key -> dict of NAMES."""
    if set(rep_rows) != set(sql_rows):
        raise Fail(f"{label}: groups differ: report {sorted(rep_rows)[:8]} "
                   f"sql {sorted(sql_rows)[:8]}")
    for key, r in rep_rows.items():
        s = sql_rows[key]
        for rk, sk in FIGS:
            if int(r[rk]) != int(s[sk]):
                raise Fail(f"{label} {key}: {rk} report {r[rk]} sql {s[sk]}")
        for rk, sk in RATES:
            sv = None if s[sk] in ("", None) else s[sk]
            if not close(r[rk], sv):
                raise Fail(f"{label} {key}: {rk} report {r[rk]} sql {sv}")
    return len(rep_rows)


def sql_groups(cl, query, keycol=0):
    out = {}
    for row in cl.sql(query):
        key = row[keycol]
        vals = row[keycol + 1:]
        out[key] = dict(zip(NAMES, vals))
    return out


def rep_groups(j):
    rows = {r["key"]: r for r in j["rows"]}
    for r in rows.values():
        r["good_ratings"] = r["good_ratings"]
    return rows


def check_exactly_once(cl, node):
    if cl.one("SELECT to_regclass('liandong.export_cursor') IS NOT NULL") != "t":
        return 0  # killed before the schema was made: nothing written
    got = cl.sql("SELECT count(*), count(DISTINCT lsn), coalesce(max(lsn), 0), "
                 "coalesce(min(lsn), 0) FROM liandong.events WHERE node_code = '" + node + "'")
    n, distinct, hi, lo = (int(x) for x in got[0])
    cur = cl.sql("SELECT lsn, events FROM liandong.export_cursor WHERE node_code = '" +
                 node + "'")
    cursor = int(cur[0][0]) if cur else 0
    if not (n == distinct == hi == cursor and (n == 0 or lo == 1)):
        raise Fail(f"events not exactly once: rows {n}, distinct LSNs {distinct}, "
                   f"max LSN {hi}, cursor {cursor}")
    if cur and int(cur[0][1]) != n:
        raise Fail(f"cursor counted {cur[0][1]} events, table holds {n}")
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--cases", type=int, default=CASES)
    a = ap.parse_args()
    bindir = pg_bindir()
    if bindir is None:
        say("SKIPPED: PostgreSQL server binaries (initdb, pg_ctl) are not installed here; "
            "install Debian's postgresql (deploy/install-deps.sh)")
        return SKIP
    if shutil.which("psql") is None:
        say("SKIPPED: psql is not installed (Debian's postgresql-client)")
        return SKIP
    user = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                user = name
                break
            except KeyError:
                pass
        if user is None:
            raise Fail("running as root and no unprivileged user to run PostgreSQL as")
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="liandong-analytics-")
    pgroot = os.path.join(tmp, "pg")
    os.mkdir(pgroot, 0o700)
    if user:
        os.chmod(tmp, 0o755)
        pw = pwd.getpwnam(user)
        os.chown(pgroot, pw.pw_uid, pw.pw_gid)
    cl = Cluster(bindir, pgroot, user)
    procs = []
    try:
        cl.init()
        cl.start()
        say(f"PostgreSQL {bindir} on port {cl.port} as {user or 'this user'}")
        data = os.path.join(tmp, "county")
        r = run([a.gen, "create", "--data", data, "--cases", str(a.cases)], timeout=300)
        if r.returncode != 0:
            raise Fail("county_gen create: " + r.stderr.strip())
        say(f"county store: {a.cases} cases, {r.stdout.strip()} events "
            f"({time.monotonic() - t0:.1f} s)")

        # New events keep arriving while the exporter and PostgreSQL crash.
        stop_file = os.path.join(tmp, "stop-append")
        appender = subprocess.Popen([a.gen, "append", "--data", data, "--seconds", "120",
                                     "--stop-file", stop_file, "--seed", "7"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(appender)
        rng = random.Random(20261203)
        dsn = cl.dsn()
        kills = crashes = 0
        for i in range(a.rounds):
            log = open(os.path.join(tmp, f"export-{i}.log"), "w")
            ex = subprocess.Popen([a.bin, "export", "postgres", "--data", data, "--dsn", dsn,
                                   "--follow", "--batch", str(rng.choice([500, 1000, 2000, 5000]))],
                                  stdout=log, stderr=subprocess.STDOUT)
            procs.append(ex)
            time.sleep(rng.uniform(0.05, 0.8))
            if i % 2 == 1:
                cl.crash()
                crashes += 1
                time.sleep(rng.uniform(0.0, 0.3))
                cl.start()
                time.sleep(rng.uniform(0.0, 0.8))
            if ex.poll() is not None:
                log.close()
                raise Fail(f"round {i}: the exporter exited by itself ({ex.returncode}): " +
                           open(os.path.join(tmp, f"export-{i}.log")).read()[-500:])
            ex.send_signal(signal.SIGKILL)
            ex.wait(timeout=10)
            procs.remove(ex)
            log.close()
            kills += 1
            n = check_exactly_once(cl, "360723")
            say(f"round {i + 1}: exporter killed{', PostgreSQL crashed' if i % 2 else ''}; "
                f"{n} events exactly once")
        with open(stop_file, "w"):
            pass
        out, err = appender.communicate(timeout=30)
        procs.remove(appender)
        if appender.returncode != 0:
            raise Fail("county_gen append: " + err.strip())
        # The server saw clients vanish inside a transaction: kills landed mid-batch.
        with open(os.path.join(pgroot, "server.log"), errors="replace") as f:
            torn = f.read().count("unexpected EOF on client connection with an open transaction")
        say(f"{kills} exporter kills ({torn} inside a transaction), {crashes} PostgreSQL "
            f"crashes; {out.strip()} events appended meanwhile")
        if torn == 0:
            raise Fail("no kill landed inside an export transaction")
        if int(out.strip() or 0) == 0:
            raise Fail("no events arrived while the exporter was killed")

        r = run([a.bin, "export", "postgres", "--data", data, "--dsn", dsn])
        if r.returncode != 0:
            raise Fail("final export: " + r.stderr.strip())
        say(r.stdout.strip())
        st = json.loads(run([a.bin, "status", "--data", data, "--json"]).stdout)["totals"]
        n = check_exactly_once(cl, "360723")
        if n != st["events"] or n != st["last_lsn"]:
            raise Fail(f"events: PostgreSQL {n}, store {st['events']} (last LSN {st['last_lsn']})")
        ids = cl.sql("SELECT count(*), count(DISTINCT id) FROM liandong.events")[0]
        if ids[0] != ids[1]:
            raise Fail(f"event ids doubled: {ids}")
        cases = int(cl.one("SELECT count(*) FROM liandong.cases WHERE node_code = '360723'"))
        if cases != st["cases"]:
            raise Fail(f"cases: PostgreSQL {cases}, store {st['cases']}")
        say(f"events {n} and cases {cases} exactly once, as the store holds them")
        bare = cl.one("SELECT count(*) FROM liandong.cases WHERE applicant_id ~ '^[0-9]{17}[0-9X]$'")
        masked = cl.one("SELECT count(*) FROM liandong.cases WHERE applicant_id ~ '^[0-9]{6}[*]{8}'")
        if int(bare) != 0 or int(masked) == 0:
            raise Fail(f"ID numbers not masked: {bare} whole, {masked} masked")
        leaked = cl.one("SELECT count(*) FROM liandong.events WHERE "
                        "body->'applicant'->>'idNumber' ~ '^[0-9]{17}[0-9X]$'")
        if int(leaked) != 0:
            raise Fail(f"{leaked} events carry a whole ID number")
        for t in ("steps", "materials", "ratings", "complaints", "divisions", "catalogs",
                  "catalog_items"):
            if int(cl.one(f"SELECT count(*) FROM liandong.{t}")) == 0:
                raise Fail(f"table {t} is empty")
        # Steps and ratings follow their cases: none of a case not held.
        orphans = cl.one("SELECT count(*) FROM liandong.steps s LEFT JOIN liandong.cases c "
                         "USING (node_code, case_id) WHERE c.case_id IS NULL")
        if int(orphans) != 0:
            raise Fail(f"{orphans} steps of no case")

        # A new calendar changes working days: every case is written again.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        r = run([a.bin, "calendar", "publish", os.path.join(root, "config", "calendar-2027.toml"),
                 "--data", data, "--actor", "周主任", "--role", "director"])
        if r.returncode != 0:
            raise Fail("calendar publish: " + r.stderr.strip())
        r = run([a.bin, "export", "postgres", "--data", data, "--dsn", dsn])
        if r.returncode != 0 or f"写入办件 {cases} 件次" not in r.stdout:
            raise Fail(f"after a new calendar, not every case written again: {r.stdout.strip()} "
                       f"{r.stderr.strip()}")
        n = check_exactly_once(cl, "360723")
        say(f"a new calendar: {cases} cases written again, events still exactly once ({n})")

        # The views equal `liandong report`.
        checked = 0
        j = report(a.bin, data, "--by", "township")
        checked += compare("all, by township", rep_groups(j), sql_groups(
            cl, f"SELECT township, {COLS} FROM liandong.report_township"))
        compare("all, total", {"": j["total"]}, sql_groups(
            cl, f"SELECT '', {COLS} FROM liandong.report_township GROUP BY 1" if False else
            f"SELECT key, {COLS} FROM liandong.report(NULL, NULL, 'none')"))
        j = report(a.bin, data, "--by", "month")
        checked += compare("all, by month", rep_groups(j), sql_groups(
            cl, f"SELECT month, {COLS} FROM liandong.report_month"))
        for month, first, last in (("2026-09", "2026-09-01", "2026-09-30"),
                                   ("2026-10", "2026-10-01", "2026-10-31"),
                                   ("2026-11", "2026-11-01", "2026-11-30")):
            j = report(a.bin, data, "--from", first, "--to", last, "--by", "township")
            checked += compare(f"{month} by township", rep_groups(j), sql_groups(
                cl, f"SELECT township, {COLS} FROM liandong.report_township_month "
                    f"WHERE month = '{month}'"))
        for first, last, by in (("2026-09-15", "2026-10-20", "township"),
                                ("2026-10-08", "2026-10-08", "village"),
                                ("2026-09-01", "2026-11-30", "month"),
                                ("2026-11-02", "2026-11-24", "none")):
            j = report(a.bin, data, "--from", first, "--to", last, "--by", by)
            rep = rep_groups(j) if by != "none" else {"": j["total"]}
            checked += compare(f"{first}..{last} by {by}", rep, sql_groups(
                cl, f"SELECT key, {COLS} FROM liandong.report('{first}', '{last}', '{by}')"))
        city = cl.sql("SELECT sum(received) FROM liandong.city_report_month")[0][0]
        if int(city) != st["cases"]:
            raise Fail(f"city view: {city} received, store {st['cases']} cases")
        say(f"views equal liandong report: {checked} rows over 10 periods and groupings")

        # Bad input: one Chinese line, the right exit status, nothing written.
        r = run([a.bin, "export", "postgres", "--data", data, "--dsn", "host=127.0.0.1 port"])
        if r.returncode != 2 or "连接串" not in r.stderr or len(r.stderr.strip().splitlines()) != 1:
            raise Fail(f"bad DSN: exit {r.returncode}: {r.stderr!r}")
        r = run([a.bin, "export", "postgres", "--data", data, "--dsn",
                 f"host=127.0.0.1 port={free_port()} user=postgres password=s3cret "
                 "connect_timeout=3"])
        if r.returncode != 1 or "无法连接" not in r.stderr or "s3cret" in r.stderr + r.stdout:
            raise Fail(f"unreachable server: exit {r.returncode}: {r.stderr!r}")
        cl.sql("CREATE DATABASE other")
        r = run([a.bin, "export", "postgres", "--data", data, "--dsn", cl.dsn("other"),
                 "--batch", "100"])
        if r.returncode != 0:
            raise Fail("export to a second database: " + r.stderr.strip())
        cl.sql("UPDATE liandong.schema_info SET version = 99; "
               "DELETE FROM liandong.events; UPDATE liandong.export_cursor SET lsn = 0, events = 0",
               db="other")
        r = run([a.bin, "export", "postgres", "--data", data, "--dsn", cl.dsn("other")])
        held = cl.one("SELECT count(*) FROM liandong.events", db="other")
        if r.returncode != 2 or "版" not in r.stderr or int(held) != 0:
            raise Fail(f"schema of another version: exit {r.returncode}, {held} rows: "
                       f"{r.stderr!r}")
        say("bad DSN, unreachable server, other schema version: refused in one line each")

        # The phases below run on a small county store of their own (time).
        small = os.path.join(tmp, "small")
        r = run([a.gen, "create", "--data", small, "--cases", "300"], timeout=120)
        if r.returncode != 0:
            raise Fail("county_gen create (small): " + r.stderr.strip())
        small_n = int(r.stdout.strip())

        # Two exporters of one node at once: never interleaved, never doubled.
        cl.sql("CREATE DATABASE twice")
        both = [subprocess.Popen([a.bin, "export", "postgres", "--data", small, "--dsn",
                                  cl.dsn("twice"), "--batch", "100"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        procs.extend(both)
        for p in both:
            _, err2 = p.communicate(timeout=120)
            procs.remove(p)
            if p.returncode not in (0, 1) or (p.returncode == 1 and "另一导出进程" not in err2):
                raise Fail(f"two exporters at once: exit {p.returncode}: {err2.strip()}")
        r = run([a.bin, "export", "postgres", "--data", small, "--dsn", cl.dsn("twice")])
        got = cl.sql("SELECT count(*), count(DISTINCT lsn), max(lsn) FROM liandong.events",
                     db="twice")[0]
        if r.returncode != 0 or not (got[0] == got[1] == got[2] == str(small_n)):
            raise Fail(f"two exporters at once: {got} for {small_n} events: {r.stderr.strip()}")
        say(f"two exporters at once (exit {[p.returncode for p in both]}): "
            f"{got[0]} events exactly once")

        # A store replaced under the node (another store id): a smaller store
        # of the same origins and sequence numbers, then events of its own.
        before = small_n
        other = os.path.join(tmp, "replaced")
        r = run([a.gen, "create", "--data", other, "--cases", "200"], timeout=120)
        if r.returncode != 0:
            raise Fail("county_gen create (replaced): " + r.stderr.strip())
        r = run([a.gen, "append", "--data", other, "--seconds", "1", "--seed", "5"])
        if r.returncode != 0:
            raise Fail("county_gen append (replaced): " + r.stderr.strip())
        r = run([a.bin, "export", "postgres", "--data", other, "--dsn", cl.dsn("twice")])
        if r.returncode != 0:
            raise Fail("export of the replaced store: " + r.stderr.strip())
        cur = cl.sql("SELECT store_changes, lsn FROM liandong.export_cursor", db="twice")[0]
        counts = cl.sql("SELECT count(*), count(DISTINCT id) FROM liandong.events",
                        db="twice")[0]
        other_st = json.loads(run([a.bin, "status", "--data", other, "--json"]).stdout)["totals"]
        if (cur[0] != "1" or int(cur[1]) != other_st["last_lsn"] or counts[0] != counts[1]
                or int(counts[0]) < before):
            raise Fail(f"replaced store: cursor {cur}, events {counts} (before {before})")
        say(f"a replaced store: cursor restarted once, {int(counts[0]) - before} new events, "
            f"the {before} held ones neither lost nor doubled")

        # `liandong run` with [export]: the daemon exports on its own thread,
        # also what arrives while it runs; the DSN's password never shows.
        cl.sql("CREATE DATABASE viarun")
        os.chmod(small, 0o700)
        conf = os.path.join(tmp, "county.toml")
        with open(conf, "w") as f:
            f.write(f'[node]\ncode = "360723"\ndata = "{small}"\n[desk]\nlisten = "off"\n'
                    f'[export]\npostgres_dsn = "{cl.dsn("viarun")} password=s3cret"\n')
        log = open(os.path.join(tmp, "run.log"), "w")
        daemon = subprocess.Popen([a.bin, "run", "--config", conf, "--log-level", "debug"],
                                  stdout=log, stderr=subprocess.STDOUT)
        procs.append(daemon)

        def cursor_at(db):
            rows = cl.sql("SELECT lsn FROM liandong.export_cursor", db=db) \
                if cl.one("SELECT to_regclass('liandong.export_cursor') IS NOT NULL",
                          db=db) == "t" else []
            return int(rows[0][0]) if rows else 0

        def wait_cursor(db, lsn, limit_s):
            deadline = time.monotonic() + limit_s
            while time.monotonic() < deadline:
                if cursor_at(db) >= lsn:
                    return
                time.sleep(0.2)
            raise Fail(f"the daemon's export stopped at {cursor_at(db)} of {lsn}")

        wait_cursor("viarun", small_n, 60)
        r = run([a.gen, "append", "--data", small, "--seconds", "1.5", "--seed", "11"])
        if r.returncode != 0:
            raise Fail("append under the daemon: " + r.stderr.strip())
        grown = small_n + int(r.stdout.strip())
        wait_cursor("viarun", grown, 30)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        procs.remove(daemon)
        log.close()
        text = open(os.path.join(tmp, "run.log")).read()
        if "s3cret" in text or "postgres export started" not in text:
            raise Fail("the daemon's log: " + text[-800:])
        got = int(cl.one("SELECT count(*) FROM liandong.events", db="viarun"))
        if got != grown:
            raise Fail(f"the daemon exported {got} events of {grown}")
        say(f"liandong run with [export]: {got} events, also those stored while it ran")
        say(f"PASS ({time.monotonic() - t0:.1f} s)")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        try:
            cl.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        say(f"FAIL: {e}")
        sys.exit(1)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        sys.exit(1)
