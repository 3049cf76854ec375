#!/usr/bin/env python3
"""Multi-host fault tests: PostgreSQL on one host, two FactorLab workers on two others, and the network between them.

The hosts are network namespaces made here (`ip netns`, veth pairs on a bridge, addresses 10.77.0.0/24 of these
namespaces only): the database in `fl-db`, the workers in `fl-w1` and `fl-w2`. Two scenarios:

1. A link cut mid-task. Worker 1's link goes down while it evaluates a task (the process stays alive); its lease
   lapses by the database's clock; worker 2 takes the task over and the job ends SUCCESS with one copy of every
   result. When the link returns, worker 1 finds its lease gone and writes nothing: the store's export is the
   same bytes before and after.
2. A worker killed on every attempt of one task (SIGKILL, as by the OOM killer), restarted each time as a
   supervisor would: that task ends FAILED with "worker lost 3 times" after max_attempts, the rest of the job
   SUCCESS.

Where namespaces cannot be made (no root, no iproute2), the test says so and runs the same scenarios over loopback,
the link cut by stopping worker 1 (SIGSTOP/SIGCONT).

Usage: multihost/faults.py [--factorlab PATH] [--data DIR]. Exits 0 when every check passed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBNET = "10.77.0"
PORT = 55433
HOSTS = {"fl-db": 1, "fl-w1": 2, "fl-w2": 3}
BRIDGE = "flbr0"
LEASE_SECONDS = "3"

failures: list[str] = []
started: list[subprocess.Popen] = []  # every worker this run started, killed at the end if still alive


def check(what: str, ok: bool, detail: str = "") -> None:
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else f" -- {detail}"), flush=True)
    if not ok:
        failures.append(what)


def run(*args: str, check_rc: bool = True, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if check_rc and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def wait_for(condition, seconds: float, what: str, interval: float = 0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")


class Network:
    """The test's hosts: network namespaces on a bridge, or loopback where namespaces cannot be made."""

    def __init__(self) -> None:
        self.namespaces = False
        self.reason = ""

    def setup(self, loopback: bool = False) -> None:
        if loopback:
            self.reason = "--loopback asked for"
        elif os.geteuid() != 0:
            self.reason = "not root"
        elif shutil.which("ip") is None:
            self.reason = "iproute2's ip is not installed"
        else:
            probe = run("ip", "netns", "add", "fl-probe", check_rc=False)
            if probe.returncode != 0:
                self.reason = probe.stderr.strip()
            else:
                run("ip", "netns", "del", "fl-probe", check_rc=False)
                self.namespaces = True
        if not self.namespaces:
            print(f"NOTE network namespaces cannot be created here ({self.reason}): running the same scenarios over loopback, "
                  "the link cut by SIGSTOP/SIGCONT of the worker", flush=True)
            return
        self.teardown()
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "addr", "add", f"{SUBNET}.254/24", "dev", BRIDGE)
        run("ip", "link", "set", BRIDGE, "up")
        for ns, host in HOSTS.items():
            run("ip", "netns", "add", ns)
            run("ip", "link", "add", f"{ns}-br", "type", "veth", "peer", "name", f"{ns}-if")
            run("ip", "link", "set", f"{ns}-if", "netns", ns)
            run("ip", "link", "set", f"{ns}-br", "master", BRIDGE)
            run("ip", "link", "set", f"{ns}-br", "up")
            run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{SUBNET}.{host}/24", "dev", f"{ns}-if")
            run("ip", "netns", "exec", ns, "ip", "link", "set", f"{ns}-if", "up")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        print(f"network: {BRIDGE} {SUBNET}.254 with namespaces " + ", ".join(f"{ns} {SUBNET}.{h}" for ns, h in HOSTS.items()), flush=True)

    def teardown(self) -> None:
        if not self.namespaces:
            return
        for ns in HOSTS:
            run("ip", "netns", "del", ns, check_rc=False)
            run("ip", "link", "del", f"{ns}-br", check_rc=False)
        run("ip", "link", "del", BRIDGE, check_rc=False)

    def address(self, ns: str) -> str:
        return f"{SUBNET}.{HOSTS[ns]}" if self.namespaces else "127.0.0.1"

    def prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns] if self.namespaces else []

    def cut(self, ns: str, process: subprocess.Popen) -> None:
        if self.namespaces:
            run("ip", "link", "set", f"{ns}-br", "down")
        else:
            process.send_signal(signal.SIGSTOP)

    def restore(self, ns: str, process: subprocess.Popen) -> None:
        if self.namespaces:
            run("ip", "link", "set", f"{ns}-br", "up")
        else:
            process.send_signal(signal.SIGCONT)


class Database:
    """A scratch PostgreSQL server on the database host."""

    def __init__(self, network: Network, work: str) -> None:
        self.network = network
        self.data = os.path.join(work, "pgdata")
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
        if not bins:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
        self.bin = bins[-1]
        self.host = network.address("fl-db")
        self.url = f"postgres://postgres@{self.host}:{PORT}/factorlab"

    def _as_postgres(self, command: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)]
        return command

    def start(self) -> None:
        os.makedirs(self.data)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            os.chmod(os.path.dirname(self.data), 0o755)
        run(*self._as_postgres([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                "--locale=C.UTF-8"]))
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")
        options = f"'-c listen_addresses={self.host} -p {PORT} -k /tmp -c fsync=off'"
        run(*self.network.prefix("fl-db"), *self._as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-l", f"{self.data}/server.log",
                                                                "-o", options, "-w", "start"]))
        self.psql("postgres", "CREATE DATABASE factorlab")

    def stop(self) -> None:
        if os.path.isdir(self.data):
            run(*self._as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"]), check_rc=False)

    def psql(self, database: str, sql: str) -> str:
        return run("psql", "-h", self.host, "-p", str(PORT), "-U", "postgres", "-d", database, "-Atq", "-c", sql).stdout.strip()

    def query(self, sql: str) -> list[list[str]]:
        text = self.psql("factorlab", sql)
        return [line.split("|") for line in text.splitlines()] if text else []


class Platform:
    def __init__(self, factorlab: str, network: Network, db: Database, work: str, data: str, universe: str) -> None:
        self.factorlab, self.network, self.db, self.work = factorlab, network, db, work
        self.data, self.universe = data, universe
        self.env = {**os.environ, "FACTOR_CACHE_DIR": os.path.join(work, "cache"), "FACTOR_PLATFORM_DB": db.url,
                    "FACTOR_THREADS": "1", "FACTOR_LOG_LEVEL": "info"}

    def cli(self, *args: str) -> str:
        return run(self.factorlab, *args, env=self.env).stdout

    def submit(self, key: str) -> str:
        out = self.cli("submit-job", "--category", "momentum", "--include-drafts", "--instruments", self.universe,
                       "--start", "2019-01-02", "--end", "2020-12-31", "--horizons", "1,5", "--batch-size", "8",
                       "--max-attempts", "3", "--data", self.data, "--idempotency-key", key, "--json")
        return json.loads(out)["jobId"]

    def worker(self, ns: str, name: str, *extra: str) -> subprocess.Popen:
        log = open(os.path.join(self.work, f"{name}-{time.time():.3f}.log"), "w")
        out = open(os.path.join(self.work, f"{name}-{time.time():.3f}.json"), "w+")
        process = subprocess.Popen([*self.network.prefix(ns), self.factorlab, "worker", "--name", name, "--lease-seconds", LEASE_SECONDS,
                                    "--poll", "0.2", "--json", *extra], stdout=out, stderr=log, env=self.env)
        process.outfile, process.logfile = out, log  # type: ignore[attr-defined]
        started.append(process)
        return process

    def tasks(self, job: str) -> list[dict]:
        rows = self.db.query(f"SELECT id, status, attempts, COALESCE(lease_owner, ''), COALESCE(error, '') FROM tasks WHERE job_id = '{job}' ORDER BY id")
        return [{"id": r[0], "status": r[1], "attempts": int(r[2]), "owner": r[3], "error": "|".join(r[4:])} for r in rows]

    def job_status(self, job: str) -> str:
        rows = self.db.query(f"SELECT status FROM jobs WHERE id = '{job}'")
        return rows[0][0] if rows else ""


def outcomes(process: subprocess.Popen) -> list[dict]:
    process.outfile.seek(0)  # type: ignore[attr-defined]
    text = process.outfile.read()  # type: ignore[attr-defined]
    try:
        return json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        return []


def log_of(process: subprocess.Popen) -> str:
    process.logfile.flush()  # type: ignore[attr-defined]
    with open(process.logfile.name) as f:  # type: ignore[attr-defined]
        return f.read()[-2000:]


def scenario_link_cut(p: Platform) -> None:
    print("\n## a worker's link is cut mid-task", flush=True)
    job = p.submit("link-cut")
    tasks = p.tasks(job)
    w1 = p.worker("fl-w1", "w1", "--until-empty")
    held = wait_for(lambda: next((t for t in p.tasks(job) if t["status"] == "RUNNING" and t["owner"] == "w1"), None), 120,
                    "worker 1 to hold a task")
    cut_at = time.time()
    p.network.cut("fl-w1", w1)
    print(f"cut worker 1's link while it runs {held['id']} (attempt {held['attempts']})", flush=True)
    w2 = p.worker("fl-w2", "w2", "--until-empty")
    wait_for(lambda: any(t["id"] == held["id"] and t["owner"] == "w2" for t in p.tasks(job)), 300, "worker 2 to take the task over")
    lapse = time.time() - cut_at
    lease = float(LEASE_SECONDS)
    check(f"the lease lapsed by the database's clock: taken over {lapse:.1f} s after the cut (lease {lease:.0f} s)",
          lease * 0.8 <= lapse <= lease + 20, f"{lapse:.1f} s")
    wait_for(lambda: p.job_status(job) in ("SUCCESS", "FAILED", "CANCELLED"), 300, "the job to end", interval=0.25)
    check("the job ends SUCCESS with worker 1 cut off", p.job_status(job) == "SUCCESS", str(p.tasks(job)))
    taken = next(t for t in p.tasks(job) if t["id"] == held["id"])
    check("worker 2 finished the cut-off worker's task on a second attempt", taken["status"] == "SUCCESS" and taken["attempts"] == 2, str(taken))
    check("worker 1 is alive while cut off", w1.poll() is None)
    w2.wait(60)
    check("worker 2 exits 0", w2.returncode == 0, log_of(w2))
    mine = [o for o in outcomes(w2) if o["taskId"] == held["id"]]
    check("worker 2 reports the taken-over task SUCCESS", len(mine) == 1 and mine[0]["status"] == "SUCCESS", str(mine))
    before = p.cli("export-store")
    run_id = p.db.query(f"SELECT run_id FROM jobs WHERE id = '{job}'")[0][0]
    counts = p.db.query("SELECT COUNT(*), COUNT(DISTINCT (factor_code, factor_version, universe, frequency, start, \"end\", horizon, settings_hash)) "
                        f"FROM results WHERE run_id = '{run_id}'")[0]
    expected = p.db.query(f"SELECT COUNT(*) FROM tasks WHERE job_id = '{job}'")[0][0]
    check("exactly one copy of every result", int(counts[0]) == int(counts[1]) and int(counts[0]) > 0, f"{counts} for {expected} tasks")
    p.network.restore("fl-w1", w1)
    print("restored worker 1's link", flush=True)
    try:
        w1.wait(180)
    except subprocess.TimeoutExpired:
        w1.kill()
        check("worker 1 exits once its link is back", False, log_of(w1))
        return
    check("worker 1 exits 0 once its link is back", w1.returncode == 0, log_of(w1))
    lost = [o for o in outcomes(w1) if o["taskId"] == held["id"]]
    check("worker 1 finds its lease gone (LOST_LEASE)", len(lost) == 1 and lost[0]["status"] == "LOST_LEASE", f"{lost} {log_of(w1)}")
    check("worker 1 wrote nothing: the store's export is the same bytes", p.cli("export-store") == before)
    check("every task ran to SUCCESS", all(t["status"] == "SUCCESS" for t in p.tasks(job)) and len(tasks) == len(p.tasks(job)))


def scenario_killed_on_every_attempt(p: Platform) -> None:
    print("\n## a worker is SIGKILLed on every attempt of one task", flush=True)
    job = p.submit("killed")
    target = p.tasks(job)[0]["id"]
    workers = {"w1": p.worker("fl-w1", "w1"), "w2": p.worker("fl-w2", "w2")}
    hosts = {"w1": "fl-w1", "w2": "fl-w2"}
    kills = 0
    killed_attempt = 0
    deadline = time.time() + 400
    while time.time() < deadline and p.job_status(job) not in ("SUCCESS", "FAILED", "CANCELLED"):
        task = next(t for t in p.tasks(job) if t["id"] == target)
        if task["status"] == "RUNNING" and task["attempts"] > killed_attempt and task["owner"] in workers:
            victim = task["owner"]
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(30)
            kills += 1
            killed_attempt = task["attempts"]
            print(f"killed {victim} on attempt {task['attempts']} of {target}; restarting it", flush=True)
            workers[victim] = p.worker(hosts[victim], victim)
        time.sleep(0.05)
    final = {t["id"]: t for t in p.tasks(job)}
    check("the job ends FAILED", p.job_status(job) == "FAILED", p.job_status(job))
    check("the worker was killed on each of the 3 attempts", kills == 3, str(kills))
    lost = final[target]
    check("the task ends FAILED with 'worker lost 3 times'", lost["status"] == "FAILED" and lost["error"].startswith("worker lost 3 times"), str(lost))
    others = [t for t in final.values() if t["id"] != target]
    check("every other task SUCCESS", others and all(t["status"] == "SUCCESS" for t in others), str(others))
    error = p.db.query(f"SELECT error FROM jobs WHERE id = '{job}'")[0][0]
    check("the job says how many tasks failed", error == f"1 of {len(final)} tasks failed", error)
    for name, process in workers.items():
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        check(f"{name} stops cleanly on SIGTERM", process.returncode == 0, log_of(process))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factorlab", default=os.path.join(REPO, ".build/debug/factorlab"))
    parser.add_argument("--loopback", action="store_true", help="run over loopback even where namespaces can be made")
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "cn_csi300_daily"))
    args = parser.parse_args()
    factorlab = os.path.abspath(args.factorlab)
    if not os.access(factorlab, os.X_OK):
        print(f"no factorlab executable at {factorlab} (swift build first)", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="factorlab-multihost-")
    os.chmod(work, 0o755)
    network = Network()
    db: Database | None = None
    try:
        network.setup(loopback=args.loopback)
        db = Database(network, work)
        db.start()
        if os.path.isdir(args.data):
            data, universe = os.path.abspath(args.data), "csi300"
        else:
            data, universe = os.path.join(work, "synthetic"), "all"
            run(factorlab, "demo", "--dir", data)
            print(f"NOTE {args.data} is absent: the synthetic demo market plays the real data", flush=True)
        platform = Platform(factorlab, network, db, work, data, universe)
        platform.cli("init-db", "--seed", os.path.join(REPO, "configs", "factors.json"), "--data", data)
        print(f"database {db.url} · data {data} ({universe}) · lease {LEASE_SECONDS} s", flush=True)
        scenario_link_cut(platform)
        scenario_killed_on_every_attempt(platform)
    except Exception as error:  # a broken setup or a timeout is a failure with its reason, not a traceback alone
        failures.append(f"{type(error).__name__}: {error}")
        print(f"FAIL {type(error).__name__}: {error}", flush=True)
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        if db:
            db.stop()
        network.teardown()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nmulti-host fault tests ({'network namespaces' if network.namespaces else 'loopback: ' + network.reason}): "
          + ("all passed" if not failures else f"{len(failures)} failed: " + "; ".join(failures)), flush=True)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
