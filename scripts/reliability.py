#!/usr/bin/env python3
"""Reliability probes against a release `crux serve` and `crux mock`, loopback only, every loop bounded.

    python3 scripts/reliability.py soak      --minutes 10 [--concurrency 8]
    python3 scripts/reliability.py flood     --count 40   [--mb 30]
    python3 scripts/reliability.py kill      --seconds 20
    python3 scripts/reliability.py slowloris --conns 3000 --seconds 30
    python3 scripts/reliability.py pg-outage --outage 30 --outage 120

Each prints a JSON report on stdout (and a line per measurement on stderr). `scripts/reliability.sh` builds the
release binary and runs them all, short or long. Results and commands: docs/reliability.md.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
CRUX = os.environ.get("CRUX_BIN", os.path.join(TARGET, "release", "crux"))
HOST = "127.0.0.1"
MASTER = "probe-master-key-0123456789"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Proc:
    """A child process (mock or gateway) with /proc sampling."""

    def __init__(self, args, env, logfile):
        self.log = open(logfile, "wb")
        self.p = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def rss_mb(self):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.p.pid}/fd"))
        except OSError:
            return 0

    def tasks(self):
        try:
            return len(os.listdir(f"/proc/{self.p.pid}/task"))
        except OSError:
            return 0

    def stop(self, sig=signal.SIGTERM, wait=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(wait)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode


def wait_health(port, proc, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        if proc.p.poll() is not None:
            raise SystemExit(f"process exited early; see its log")
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no /health on port {port}")


def wait_port(port, proc, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        if proc.p.poll() is not None:
            raise SystemExit("process exited early; see its log")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


class Stack:
    """A mock and a gateway in a temp dir (SQLite store unless `db_url`)."""

    def __init__(self, db_url=None, master=None, config=""):
        if not os.path.exists(CRUX):
            raise SystemExit(f"no release binary at {CRUX}: cargo build --release -p crux-cli --locked")
        self.dir = tempfile.mkdtemp(prefix="crux-probe-")
        self.mock_port, self.port = free_port(), free_port()
        self.db_path = os.path.join(self.dir, "crux.db")
        self.db_url = db_url or f"sqlite://{self.db_path}"
        cfg = os.path.join(self.dir, "crux.toml")
        with open(cfg, "w") as f:
            f.write('[routes.fb]\ntargets = ["openai/gpt-4o-mini", "gemini/gemini-2.0-flash"]\n' + config)
        mock = f"http://{HOST}:{self.mock_port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.dir,
            "XDG_DATA_HOME": os.path.join(self.dir, "data"), "XDG_CONFIG_HOME": os.path.join(self.dir, "cfg"),
            "CRUX_CONFIG": cfg, "CRUX_LISTEN": f"{HOST}:{self.port}", "CRUX_DATABASE_URL": self.db_url,
            "CRUX_LOG": "warn", "CRUX_LOG_FORMAT": "text",
            "OPENAI_BASE_URL": f"{mock}/v1", "ANTHROPIC_BASE_URL": mock, "GEMINI_BASE_URL": mock,
            "OPENAI_API_KEY": "probe-openai-key", "ANTHROPIC_API_KEY": "probe-anthropic-key",
            "GEMINI_API_KEY": "probe-gemini-key",
        }
        if master:
            self.env["CRUX_MASTER_KEY"] = master
        self.mock = Proc([CRUX, "mock", "--listen", f"{HOST}:{self.mock_port}"], self.env,
                         os.path.join(self.dir, "mock.log"))
        wait_port(self.mock_port, self.mock)
        self.gw = None
        self.start_gateway()

    def start_gateway(self):
        self.gw = Proc([CRUX, "serve"], self.env, os.path.join(self.dir, "serve.log"))
        wait_health(self.port, self.gw)

    def rows(self):
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            return con.execute("SELECT count(*) FROM chat_logs").fetchone()[0]
        finally:
            con.close()

    def close(self, keep=False):
        if self.gw:
            self.gw.stop()
        self.mock.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- traffic -----------------------------------------------------------------------------------------------------

FAULTS = ["status=500", "status=503", "status=429", "cut_after=1", "invalid_json", "mid_error"]


def one_request(port, rng, key=None, fault_rate=0.1, conn=None, tag=""):
    """Send one mixed request; returns (conn, status, faulted, in_band_error, internal)."""
    faulted = rng.random() < fault_rate
    directive = f" [[mock {rng.choice(FAULTS)}]]" if faulted else ""
    kind = rng.randrange(6)
    stream = kind % 2 == 1
    text = f"probe {tag} {rng.random():.6f}{directive}"
    msgs = [{"role": "user", "content": text}]
    if kind < 2:
        path, body = "/v1/chat/completions", {"model": rng.choice(["openai/gpt-4o-mini", "fb"]),
                                               "messages": msgs, "stream": stream}
    elif kind < 4:
        path, body = "/v1/messages", {"model": "anthropic/claude-3-5-haiku-latest", "max_tokens": 64,
                                      "messages": msgs, "stream": stream}
    else:
        path = "/api/chat/stream" if stream else "/api/chat"
        body = {"provider": "openai", "model": "gpt-4o-mini", "messages": msgs}
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    for attempt in range(2):
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
            conn.request("POST", path, json.dumps(body), headers)
            resp = conn.getresponse()
            data = resp.read()
            break
        except (OSError, http.client.HTTPException):
            if conn:
                conn.close()
            conn = None
            if attempt == 1:
                return None, None, faulted, False, False
    text = data.decode("utf-8", "replace")
    # An error event in the caller's dialect: OpenAI `data: {"error"`, Anthropic `event: error`, native type error.
    in_band = resp.status == 200 and stream and (
        'data: {"error"' in text or "event: error" in text or '"type":"error"' in text)
    internal = resp.status == 500 or '"code":"internal"' in text
    if resp.getheader("connection", "").lower() == "close":
        conn.close()
        conn = None
    return conn, resp.status, faulted, in_band, internal


class Load:
    """`n` client threads sending mixed requests until stopped (or `until`)."""

    def __init__(self, port, n, key=None, fault_rate=0.1, until=None, rps=None):
        self.port, self.key, self.rate, self.until = port, key, fault_rate, until
        self.pause = n / rps if rps else 0.0
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.stats = {"sent": 0, "answered": 0, "failed": 0, "by_status": {}, "gateway_5xx": 0,
                      "unfaulted_in_band": 0, "internal": 0}
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, i):
        rng, conn = random.Random(i), None
        while not self.stop_flag.is_set() and (self.until is None or time.time() < self.until):
            with self.lock:
                self.stats["sent"] += 1
            started = time.time()
            conn, status, faulted, in_band, internal = one_request(self.port, rng, self.key, self.rate, conn, f"t{i}")
            if self.pause:
                time.sleep(max(0.0, self.pause - (time.time() - started)))
            with self.lock:
                s = self.stats
                if status is None:
                    s["failed"] += 1
                    continue
                s["answered"] += 1
                s["by_status"][str(status)] = s["by_status"].get(str(status), 0) + 1
                if status >= 500 and not faulted:
                    s["gateway_5xx"] += 1
                if in_band and not faulted:
                    s["unfaulted_in_band"] += 1
                if internal:
                    s["internal"] += 1

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(90)
        return self.stats


def health_prober(port, stop, out, interval=0.02):
    """Measure GET /health latency (fresh connection each time) until `stop`."""
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=10)
            c.request("GET", "/health")
            ok = c.getresponse().status == 200
            c.close()
        except OSError:
            ok = False
        out.append(((time.perf_counter() - t0) * 1000, ok))
        time.sleep(interval)


class ProberProcess:
    """`health_prober` in its own process, so the load this script makes (and its GIL) cannot delay the probes."""

    def __init__(self, port, interval=0.02):
        ctx = multiprocessing.get_context("fork")  # forked before any sender thread starts
        self.stop = ctx.Event()
        self.rx, tx = ctx.Pipe(duplex=False)
        self.p = ctx.Process(target=self._run, args=(port, self.stop, tx, interval), daemon=True)
        self.p.start()

    @staticmethod
    def _run(port, stop, tx, interval):
        out = []
        health_prober(port, stop, out, interval)
        tx.send(out)

    def finish(self):
        self.stop.set()
        out = self.rx.recv() if self.rx.poll(30) else []
        self.p.join(10)
        return out


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * p / 100))], 2)


# --- probes ------------------------------------------------------------------------------------------------------


def soak(a):
    """Mixed traffic with `--fault-rate` injected faults for `--minutes`; resources sampled every 10 s."""
    extra = ""
    if a.breaker_failures:
        extra = f"[resilience]\nbreaker = {{ failures = {a.breaker_failures}, open_ms = 30000 }}\n"
    st = Stack(config=extra)
    try:
        t_end = time.time() + a.minutes * 60
        t0 = time.time()
        load = Load(st.port, a.concurrency, fault_rate=a.fault_rate, until=t_end)
        samples = []
        while time.time() < t_end:
            samples.append({"t_s": round(time.time() - t0), "rss_mb": round(st.gw.rss_mb(), 1),
                            "fds": st.gw.fds(), "tasks": st.gw.tasks()})
            log("soak", samples[-1], load.stats["answered"])
            time.sleep(min(10, max(0.1, t_end - time.time())))
        stats = load.stop()
        samples.append({"t_s": round(time.time() - t0), "rss_mb": round(st.gw.rss_mb(), 1),
                        "fds": st.gw.fds(), "tasks": st.gw.tasks()})
        rc = st.gw.stop()
        st.gw = None
        rows = st.rows()
        late = [s for s in samples if s["t_s"] >= min(120, a.minutes * 60 / 5)]
        flat = {k: {"from": late[0][k], "to": late[-1][k], "min": min(s[k] for s in late),
                    "max": max(s[k] for s in late)} for k in ("rss_mb", "fds", "tasks")}
        return {"probe": "soak", "minutes": a.minutes, "breaker": f"failures={a.breaker_failures}" if a.breaker_failures else "default", "concurrency": a.concurrency, "fault_rate": a.fault_rate,
                "requests": stats, "chat_log_rows": rows, "rows_match": rows == stats["answered"],
                "window_from_s": late[0]["t_s"], "flat": flat, "exit_status": rc}
    finally:
        st.close()


def flood(a):
    """`--count` prompts of `--mb` MB from `--senders` clients while another measures /health; peak RSS sampled."""
    st = Stack()
    try:
        prompt = "lorem ipsum dolor sit amet " * (a.mb * 1024 * 1024 // 27)
        # Encoded once: http.client would encode a str body on every send while holding the GIL.
        body = json.dumps({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}).encode()
        del prompt
        statuses, lock, left = {}, threading.Lock(), [a.count]
        stop, peak = threading.Event(), [0.0]

        def sender():
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                try:
                    c = http.client.HTTPConnection(HOST, st.port, timeout=120)
                    c.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
                    status = c.getresponse().status
                    c.close()
                except OSError as e:
                    status = f"error:{type(e).__name__}"
                with lock:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1

        def sampler():
            while not stop.is_set():
                peak[0] = max(peak[0], st.gw.rss_mb())
                time.sleep(0.05)

        base_rss = st.gw.rss_mb()
        prober = ProberProcess(st.port)
        helpers = [threading.Thread(target=sampler)]
        for h in helpers:
            h.start()
        senders = [threading.Thread(target=sender) for _ in range(a.senders)]
        for s in senders:
            s.start()
        for s in senders:
            s.join(1800)
        stop.set()
        for h in helpers:
            h.join()
        lat = prober.finish()
        ms = [m for m, ok in lat]
        return {"probe": "flood", "count": a.count, "senders": a.senders, "prompt_mb": round(len(body) / 1e6, 1), "statuses": statuses,
                "health": {"n": len(lat), "failed": sum(1 for _, ok in lat if not ok), "p50_ms": pct(ms, 50),
                           "p99_ms": pct(ms, 99), "max_ms": pct(ms, 100)},
                "rss_mb": {"baseline": round(base_rss, 1), "peak": round(peak[0], 1)}}
    finally:
        st.close()


def kill(a):
    """Under load, SIGTERM (graceful: no row may be lost) and `kill -9` (at most one queue batch lost)."""
    out = {"probe": "kill", "seconds": a.seconds}
    for name, sig in (("sigterm", signal.SIGTERM), ("sigkill", signal.SIGKILL)):
        st = Stack()
        try:
            load = Load(st.port, a.concurrency, fault_rate=0.0)
            time.sleep(a.seconds)
            rc = st.gw.stop(sig)
            st.gw = None
            stats = load.stop()
            rows = st.rows()
            out[name] = {"answered": stats["answered"], "failed_after_signal": stats["failed"],
                         "rows": rows, "rows_lost": max(0, stats["answered"] - rows), "exit_status": rc}
            log(name, out[name])
        finally:
            st.close()
    out["batch_rows"] = 500
    return out


def slowloris(a):
    """`--conns` connections that never finish their request head, while /health is measured; then fds settle."""
    raise_nofile()
    st = Stack(config="[server]\nmax_connections = 8192\n")
    try:
        time.sleep(1)
        base_fds = st.gw.fds()
        prober = ProberProcess(st.port, 0.05)
        socks, opened = [], 0
        for i in range(a.conns):
            try:
                s = socket.create_connection((HOST, st.port), timeout=5)
                s.setblocking(False)
                s.send(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
                opened += 1
            except OSError:
                break
        peak_fds = st.gw.fds()
        t_end, closed_by_server = time.time() + a.seconds, 0
        while time.time() < t_end and socks:
            alive = []
            for s in socks:
                try:
                    s.send(b"X")
                    alive.append(s)
                except OSError:
                    closed_by_server += 1
                    s.close()
            socks = alive
            peak_fds = max(peak_fds, st.gw.fds())
            time.sleep(1)
        for s in socks:
            s.close()
        settle = time.time() + 30
        while time.time() < settle and st.gw.fds() > base_fds + 2:
            time.sleep(0.5)
        lat = prober.finish()
        ms = [m for m, ok in lat]
        return {"probe": "slowloris", "conns_opened": opened, "held_s": a.seconds,
                "closed_by_gateway": closed_by_server,
                "health": {"n": len(lat), "failed": sum(1 for _, ok in lat if not ok), "p50_ms": pct(ms, 50),
                           "p99_ms": pct(ms, 99), "max_ms": pct(ms, 100)},
                "fds": {"baseline": base_fds, "peak": peak_fds, "after": st.gw.fds()}}
    finally:
        st.close()


def pg(cluster, *args):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], cwd="/tmp", capture_output=True, text=True,
                          timeout=120)


def pg_outage(a):
    """A throwaway PostgreSQL cluster on its own port, stopped for each `--outage` seconds under steady traffic."""
    bins = sorted(d for d in os.listdir("/usr/lib/postgresql"))
    bindir = f"/usr/lib/postgresql/{bins[-1]}/bin"
    base = tempfile.mkdtemp(prefix="crux-pg-")
    os.chmod(base, 0o755)
    data, sock = os.path.join(base, "data"), os.path.join(base, "sock")
    os.makedirs(sock)
    shutil.chown(base, "postgres")
    shutil.chown(sock, "postgres")
    port = free_port()
    r = pg(None, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    if r.returncode:
        raise SystemExit(r.stderr)
    ctl = [f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(base, "pg.log"),
           "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1"]

    def psql(sql, db="postgres"):
        r = subprocess.run(["psql", "-h", HOST, "-p", str(port), "-U", "postgres", "-d", db, "-At", "-c", sql],
                           capture_output=True, text=True, timeout=60)
        return r.stdout.strip()

    out = {"probe": "pg-outage", "port": port, "runs": []}
    try:
        pg(None, *ctl, "-w", "start")
        for secs in a.outage:
            db = f"probe_{secs}_{int(time.time())}"
            psql(f"CREATE DATABASE {db}")
            st = Stack(db_url=f"postgres://postgres@{HOST}:{port}/{db}", master=MASTER)
            try:
                c = http.client.HTTPConnection(HOST, st.port, timeout=30)
                c.request("POST", "/api/virtual-keys", json.dumps({"name": "probe"}),
                          {"authorization": f"Bearer {MASTER}", "content-type": "application/json"})
                created = json.loads(c.getresponse().read())
                vk, vk_id = created["key"], created["virtual_key"]["id"]
                load = Load(st.port, a.concurrency, key=vk, fault_rate=0.0, rps=a.rps)
                time.sleep(a.before)
                pg(None, *ctl, "-m", "immediate", "stop")
                log("postgres stopped for", secs, "s")
                time.sleep(secs)
                pg(None, *ctl, "-w", "start")
                log("postgres started")
                time.sleep(a.after)
                stats = load.stop()
                deadline, rows = time.time() + 120, -1
                while time.time() < deadline:
                    rows = int(psql("SELECT count(*) FROM chat_logs", db) or -1)
                    if rows >= stats["answered"]:
                        break
                    time.sleep(1)
                rc = st.gw.stop()
                st.gw = None
                rows = int(psql("SELECT count(*) FROM chat_logs", db) or -1)
                spend = float(psql(f"SELECT spend_usd FROM virtual_keys WHERE id = '{vk_id}'", db) or "nan")
                cost = float(psql(f"SELECT COALESCE(sum(cost_usd), 0) FROM chat_logs "
                                  f"WHERE virtual_key_id = '{vk_id}'", db) or "nan")
                run = {"outage_s": secs, "sent": stats["sent"], "answered": stats["answered"],
                       "failed": stats["failed"], "non_200": {k: v for k, v in stats["by_status"].items()
                                                              if k != "200"},
                       "rows": rows, "rows_lost": stats["answered"] - rows, "spend_usd": spend,
                       "sum_cost_usd": cost, "spend_exact": abs(spend - cost) < 1e-9, "exit_status": rc}
                log(run)
                out["runs"].append(run)
            finally:
                st.close()
    finally:
        pg(None, *ctl, "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="probe", required=True)
    p = sub.add_parser("soak")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--fault-rate", type=float, default=0.1)
    p.add_argument("--breaker-failures", type=int, default=0, help="[resilience] breaker failures (0: the default breaker)")
    p = sub.add_parser("flood")
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--mb", type=int, default=30)
    p.add_argument("--senders", type=int, default=4)
    p = sub.add_parser("kill")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--concurrency", type=int, default=8)
    p = sub.add_parser("slowloris")
    p.add_argument("--conns", type=int, default=3000)
    p.add_argument("--seconds", type=float, default=30)
    p = sub.add_parser("pg-outage")
    p.add_argument("--outage", type=int, action="append")
    p.add_argument("--before", type=float, default=10)
    p.add_argument("--after", type=float, default=20)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--rps", type=float, default=200, help="total request rate (the queue holds 110k rows)")
    a = ap.parse_args()
    if a.probe == "pg-outage" and not a.outage:
        a.outage = [30, 120]
    fn = {"soak": soak, "flood": flood, "kill": kill, "slowloris": slowloris, "pg-outage": pg_outage}[a.probe]
    print(json.dumps(fn(a), indent=1))


if __name__ == "__main__":
    main()
