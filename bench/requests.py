"""What every request costs: our endpoints against bare Flask in the same gunicorn shape, measured in the same run.

    .venv/bin/python bench/requests.py                         # SQLite, then PostgreSQL + Redis
    .venv/bin/python bench/requests.py --database sqlite --seconds 10 --clients 50
    .venv/bin/python bench/requests.py --shape nginx           # nginx in front of two instances (docs/deploy.md)
    .venv/bin/python bench/requests.py --only bearer,scans --profile /tmp/spy   # where the time goes (py-spy)

The load generator is wrk (Debian's package `wrk`: C, one thread, so the generator costs little of the machine's
two cores next to the server it measures), closed loop: `--clients` connections, each sending its next request when
the answer arrives. Each row runs `--seconds`, except the scans and the sign-up rush, which stop after their last
distinct request (2,000 tickets scanned once; 1,000 residents signing up for 300 seats). Each read row, and bare
Flask, is measured after one second of the same load, not counted: what is measured is the server as it runs all day,
not its first requests after a start (app/wsgi.py compiles the templates before the first).

Shapes:
- `single` (default): gunicorn -w 1 --threads 64 (production settings) for the app, and the same for bare Flask.
- `nginx`: nginx (Debian's) in front of two such instances on PostgreSQL and Redis, as docs/deploy.md configures
  it (Socket.IO sticky by address, every other request `least_conn`), against bare Flask on two instances behind
  the same nginx, in the same run.

Rows (each with its share of bare Flask's requests per second, same client count):
/healthz; `GET /api/v1/events/{id}` anonymous and with a bearer token; the event's page and the home page,
anonymous, with 50 clients and with one; check-in scans (POST .../checkins, 50 stewards' tokens); the sign-up rush
(POST .../registrations, each resident once). After the scans and the rush the database is checked: one admission
per ticket; exactly `capacity` confirmed and one registration per resident. `--only` runs some of them (keys:
ROW_KEYS); bare Flask is always measured.

`--profile DIR` samples every instance's worker with py-spy (requirements-dev) during each row and prints, per row,
the functions in the most samples taken while holding the GIL, inclusive (where the CPU goes, by our code and by
library); the raw stacks stay in DIR for a flame graph (e.g. speedscope.app). Sampling costs the server a little:
the figures of a profiled run are not the table's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import checkin_rush, signup_rush  # noqa: E402  (after the path is set)
from bench.harness import BIN, Server, free_port, production_database  # noqa: E402

TICKETS, RESIDENTS, SEATS, STEWARDS = 2000, 1000, 300, 50
ROW_KEYS = ("healthz", "api", "bearer", "event", "home", "scans", "rush")


@dataclass
class Row:
    name: str
    clients: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    baseline: float = 0.0  # bare Flask's requests per second with the same clients
    check: str = ""


# ---- wrk ----------------------------------------------------------------------------------------------------------

def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(name: str, url: str, *, clients: int, seconds: int, headers: dict | None = None,
        script: Path | None = None) -> Row:
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script:
        command += ["-s", str(script)]
    if script:
        out, requests, per_second = _until_the_last_answer([*command, url])
    else:
        out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
        per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _milliseconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _milliseconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Row(name, clients, per_second, p50, p99, errors, requests)


def _until_the_last_answer(command: list[str]) -> tuple[str, int, float]:
    """Run a wrk script that prints BEGIN at its first request and END at its last distinct answer: wrk itself
    would divide by the whole duration asked for. Then stop wrk (SIGINT: it prints its latency summary)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    began = ended = None
    for line in process.stdout:
        if line.strip() == "BEGIN":
            began = time.perf_counter()
        elif line.strip() == "END":
            ended = time.perf_counter()
            process.send_signal(signal.SIGINT)
            break
    out = process.stdout.read()
    process.wait(timeout=30)
    if began is None or ended is None:
        raise SystemExit(f"the run did not finish its requests (wrk exited {process.returncode}):\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return out, requests, requests / (ended - began)


def posts_script(path: Path, items: list[tuple[str, str, str]]) -> Path:
    """A wrk script that POSTs each (path, JSON body, bearer token) once, in order, and stops after the last answer
    (the connections still busy then send a few repeats: a phone's retry, which must count nothing)."""
    rows = ",\n".join("{" + ", ".join(json.dumps(part, ensure_ascii=False) for part in item) + "}" for item in items)
    path.write_text(f"""
local items = {{
{rows}
}}
local sent, answered, total = 0, 0, #items
request = function()
  if sent == 0 then io.write("BEGIN\\n"); io.flush() end
  sent = sent + 1
  local item = items[((sent - 1) % total) + 1]
  return wrk.format("POST", item[1], {{["Authorization"] = "Bearer " .. item[3],
                                      ["Content-Type"] = "application/json"}}, item[2])
end
response = function(status, headers, body)
  answered = answered + 1
  if answered == total then io.write("END\\n"); io.flush(); wrk.thread:stop() end
end
""")
    return path


# ---- the data -----------------------------------------------------------------------------------------------------

def prepare_reads(env: dict) -> tuple[int, str]:
    """Migrate, then an organizer, a resident with an API token and 30 published events (the home page's list).
    Returns one event's id and the token."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = """
from datetime import timedelta
from app import create_app
from app.db_types import utcnow
from app.extensions import db
from app.accounts.services import create_users, issue_api_token
from events.services import create_event

app = create_app()
with app.app_context():
    now = utcnow()
    organizer = create_users(["+8613900000000"], name="王珂", role="organizer", now=now)[0]
    resident = create_users(["+8613800000000"], name="居民", now=now)[0]
    resident.profile_completed_at = now
    token = issue_api_token(resident, name="bench", now=now)
    ids = []
    for n in range(30):
        start = now + timedelta(days=1 + n % 14, hours=n % 5)
        event = create_event(organizer, now=now, status="published", kind=("salon", "roadshow")[n % 2],
                             title=f"周四AI技术沙龙 第{n + 1}期", venue="北杨小镇 A栋 2层", starts_at=start,
                             ends_at=start + timedelta(hours=2), capacity=80,
                             description="大模型应用落地：从原型到产品。" * 8)
        ids.append(event.id)
    db.session.commit()
    print(ids[0])
    print(token)
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), out[1]


# ---- the shapes ---------------------------------------------------------------------------------------------------

class Instances:
    """`count` gunicorn instances of `wsgi` (one worker each), behind nginx when there are two."""

    def __init__(self, env: dict, tmp: Path, label: str, count: int, wsgi: str = "app.wsgi:app"):
        self.servers = [Server(env, 64, tmp / f"{label}-{n}.log", wsgi=wsgi) for n in range(count)]
        self.nginx = None
        self.url = self.servers[0].url
        if count > 1:
            self.nginx, self.url = start_nginx(tmp / f"nginx-{label}", [s.port for s in self.servers])

    def wait_ready(self) -> None:
        for server in self.servers:
            server.wait_ready()

    def wait_idle(self) -> None:
        for server in self.servers:
            server.wait_idle()

    def peak_memory_mb(self) -> float:
        return max(server.peak_memory_mb() for server in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.nginx:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)


def start_nginx(directory: Path, ports: list[int]) -> tuple[subprocess.Popen, str]:
    """nginx in the foreground over `ports`, as docs/deploy.md configures it: Socket.IO sticky by the client's
    address, every other request to the instance with the fewest in flight."""
    if not shutil.which("nginx"):
        raise SystemExit("nginx is needed for --shape nginx: apt-get install nginx-light")
    directory.mkdir(parents=True)
    port = free_port()
    upstream = "\n".join(f"    server 127.0.0.1:{p};" for p in ports)
    (directory / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {directory}/body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  upstream app {{
    least_conn;
{upstream}
    keepalive 64;
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
  upstream socketio {{
    ip_hash;
{upstream}
  }}
  server {{
    listen 127.0.0.1:{port};
    location /socket.io/ {{
      proxy_pass http://socketio;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
    }}
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }}
  }}
}}
""")
    process = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


# ---- the run ------------------------------------------------------------------------------------------------------

def run_database(kind: str, args) -> tuple[list[Row], float]:
    count = 2 if args.shape == "nginx" else 1
    seconds, clients = args.seconds, args.clients
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp_name:
        tmp = Path(tmp_name)
        with production_database(kind, tmp / "reads") as env, \
                production_database(kind, tmp / "scans") as scans_env, \
                production_database(kind, tmp / "rush") as rush_env:
            for path in (tmp / "reads", tmp / "scans", tmp / "rush"):
                path.mkdir(exist_ok=True)
            if count > 1:
                for environment in (env, scans_env, rush_env):
                    environment["PROXY_COUNT"] = "1"
            print(f"[{kind}] preparing …", file=sys.stderr)
            event_id, token = prepare_reads(env)
            events, stewards, tickets = checkin_rush.prepare_data(scans_env, TICKETS, STEWARDS, 1)
            residents, salons = signup_rush.prepare_data(rush_env, RESIDENTS, SEATS, 1)

            bare = Instances(env, tmp, "bare", count, wsgi="bench.bare_flask:app")
            try:  # bare Flask stops whatever happens
                ours = Instances(env, tmp, "ours", count)
                memory = 0.0
                try:
                    bare.wait_ready()
                    ours.wait_ready()
                    wrk("warm-up", bare.url + "/", clients=clients, seconds=1)
                    ceiling = {n: wrk("bare Flask", bare.url + "/", clients=n, seconds=seconds) for n in (clients, 1)}
                    rows += [ceiling[clients], ceiling[1]]
                    reads = [("healthz", "/healthz", "/healthz", {}, (clients,)),
                             ("api", "API event, anonymous", f"/api/v1/events/{event_id}", {}, (clients,)),
                             ("bearer", "API event, bearer", f"/api/v1/events/{event_id}",
                              {"Authorization": f"Bearer {token}"}, (clients,)),
                             ("event", "event page, anonymous", f"/events/{event_id}", {}, (clients, 1)),
                             ("home", "home page, anonymous", "/", {}, (clients, 1))]
                    for key, name, path, headers, client_counts in reads:
                        if key not in args.only:
                            continue
                        wrk("warm-up", ours.url + path, clients=clients, seconds=1, headers=headers)
                        for n in client_counts:
                            ours.wait_idle()
                            with sampled(args.profile, ours.servers, f"{kind}-{key}-{n}", seconds):
                                row = wrk(name, ours.url + path, clients=n, seconds=seconds, headers=headers)
                            row.baseline = ceiling[n].per_second
                            rows.append(row)
                    memory = ours.peak_memory_mb()
                finally:
                    ours.stop()
                if "scans" in args.only:
                    rows.append(_rush(kind, "check-in scans", scans_env, tmp, count, clients, ceiling[clients], _scans(
                        events[0], stewards, tickets[0], tmp), lambda: checkin_rush.check_database(
                            scans_env, events[0], TICKETS, TICKETS), args.profile))
                if "rush" in args.only:
                    rows.append(_rush(kind, "sign-up rush", rush_env, tmp, count, clients, ceiling[clients], _sign_ups(
                        salons[0], residents, tmp), lambda: signup_rush.check_outcome(rush_env, salons[0], RESIDENTS,
                                                                                      SEATS), args.profile))
            finally:
                bare.stop()
    return rows, memory


def _scans(event_id: int, stewards: list[str], tickets: list[str], tmp: Path) -> Path:
    items = [(f"/api/v1/events/{event_id}/checkins",
              json.dumps({"token": ticket, "gate": "ABC"[n % 3], "scan_id": str(uuid.uuid4())}),
              stewards[n % len(stewards)]) for n, ticket in enumerate(tickets)]
    return posts_script(tmp / "scans.lua", items)


def _sign_ups(event_id: int, residents: list[str], tmp: Path) -> Path:
    items = [(f"/api/v1/events/{event_id}/registrations", "{}", token) for token in residents]
    return posts_script(tmp / "sign_ups.lua", items)


def _rush(kind: str, name: str, env: dict, tmp: Path, count: int, clients: int, ceiling: Row, script: Path,
          check, profile: Path | None) -> Row:
    (tmp / name.replace(" ", "-")).mkdir(exist_ok=True)
    servers = Instances(env, tmp / name.replace(" ", "-"), "ours", count)
    try:
        servers.wait_ready()
        servers.wait_idle()  # its start's own work (the embedded worker's first periodic tasks) done, as for reads
        cpu_before = sum(server.cpu_seconds() for server in servers.servers)
        with sampled(profile, servers.servers, f"{kind}-{name.replace(' ', '-')}", 10):
            row = wrk(name, servers.url + "/", clients=clients, seconds=120, script=script)
        cpu = sum(server.cpu_seconds() for server in servers.servers) - cpu_before
    finally:
        servers.stop()
    row.baseline = ceiling.per_second
    # The few repeats sent after the last distinct request answer 200 (a retried scan) or 409/200 (signed up).
    # The server's CPU per request, and how busy that kept it: a rate that leaves the CPU idle waits on something.
    busy = cpu * row.per_second / row.requests if row.requests else 0.0
    row.check = f"{check()}; server CPU {1000 * cpu / max(row.requests, 1):.2f} ms/request, {busy:.0%} of a core"
    return row


# ---- where the time goes (--profile) ---------------------------------------------------------------------------

@contextmanager
def sampled(directory: Path | None, servers: list, label: str, seconds: int):
    """py-spy on each instance's worker while the block runs (at most `seconds`); then the summary is printed."""
    if directory is None:
        yield
        return
    spy = BIN / "py-spy"
    if not spy.exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install -r requirements-dev.txt")
    directory.mkdir(parents=True, exist_ok=True)
    samplers = []
    for n, server in enumerate(servers):
        worker = server._pids()[-1]
        out = directory / f"{label}-{n}.txt"
        samplers.append((out, subprocess.Popen(
            [str(spy), "record", "-p", str(worker), "-d", str(seconds), "-r", "250", "--gil", "--format", "raw",
             "--nonblocking", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    try:
        yield
    finally:
        for out, sampler in samplers:
            sampler.wait(timeout=seconds + 30)
            print(_hottest(out, label), file=sys.stderr)


def _hottest(raw: Path, label: str, top: int = 25) -> str:
    """The functions present in the most samples (inclusive), from py-spy's collapsed stacks; idle threads (waiting
    in the server's accept or poll loop, or on a lock with nothing to do) are left out."""
    if not raw.exists():
        return f"[{label}] no samples ({raw})"
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        idle = any(waiting in frames[-1] for waiting in ("select (selectors", "wait (threading", "accept ("))
        if not count.isdigit() or idle:
            continue
        total += int(count)
        names = set()
        for frame in frames:
            function, _, where = frame.partition(" (")
            where = re.sub(r"^.*/site-packages/|^" + re.escape(str(ROOT)) + "/|:\\d+\\)$", "", where)
            names.add(f"{function} ({where})")
        for name in names:
            inclusive[name] = inclusive.get(name, 0) + int(count)
    lines = [f"[{label}] {total} busy samples; functions by share of them (inclusive):"]
    for name, count in sorted(inclusive.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"  {100 * count / max(total, 1):5.1f}%  {name}")
    return "\n".join(lines)


def print_table(rows_by_kind: dict[str, tuple[list[Row], float]], args) -> None:
    shape = ("nginx (least_conn; Socket.IO sticky) in front of 2 instances, each gunicorn -w 1 --threads 64; "
             "bare Flask the same" if args.shape == "nginx"
             else "gunicorn -w 1 --threads 64, production settings; bare Flask the same")
    print(f"\nper-request cost: {shape}; wrk -t1, {args.seconds} s per row; {os.cpu_count()} CPUs")
    header = (f"{'database':<9} {'request':<24} {'clients':>7} {'req/s':>8} {'of bare':>8} {'p50 ms':>8} "
              f"{'p99 ms':>8} {'errors':>7}  check")
    print(header)
    print("-" * len(header))
    for kind, (rows, memory) in rows_by_kind.items():
        for row in rows:
            share = f"{100 * row.per_second / row.baseline:.0f}%" if row.baseline else "100%"
            print(f"{kind:<9} {row.name:<24} {row.clients:>7} {row.per_second:>8.0f} {share:>8} {row.p50_ms:>8.1f} "
                  f"{row.p99_ms:>8.1f} {row.errors:>7}  {row.check}")
        print(f"{kind:<9} peak memory of one instance during the reads: {memory:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--shape", choices=["single", "nginx"], default="single")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--only", default=",".join(ROW_KEYS), help=f"rows to run, of {', '.join(ROW_KEYS)}")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="sample the servers with py-spy into DIR")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    if args.only - set(ROW_KEYS):
        raise SystemExit(f"--only: unknown rows {', '.join(sorted(args.only - set(ROW_KEYS)))}")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if args.shape == "nginx" and "sqlite" in kinds:
        kinds = ["postgres"]  # two instances share one database server (docs/deploy.md)
    print_table({kind: run_database(kind, args) for kind in kinds}, args)


if __name__ == "__main__":
    main()
