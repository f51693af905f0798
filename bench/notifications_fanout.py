"""An announcement to the whole town, measured the way production runs it: residents' inbox rows written by the
fan-out job, Web Push deliveries sent by separate worker processes to a push endpoint that answers after 50 ms.

    .venv/bin/python bench/notifications_fanout.py                       # PostgreSQL + Redis, 100,000 residents,
                                                                         # 10,000 push subscriptions
    .venv/bin/python bench/notifications_fanout.py --database sqlite --residents 20000 --subscriptions 2000

On a fresh, migrated database with N residents (the first S with a push subscription, quiet hours off), in one run:

1. baseline (the database's ceiling): one INSERT ... SELECT of an inbox row per resident, no rules at all;
2. one worker process (`flask --app app worker`, 4 threads), started and idle (its consumer's start-up line seen):
   an organizer's announcement to every resident, written as the API writes it (the fan-out job is queued after the
   commit): time until every inbox row exists (the fan-out marks the announcement sent), and until every one of the
   S pushes is accepted by the endpoint and recorded as sent; pushes per second from the first to the last push the
   endpoint received;
3. the same with four worker processes (a second announcement);
4. push baseline: S bare POSTs to the same endpoint from one asyncio client, as many in flight as the workers keep
   (32 per sending thread), no encryption, no database.

The endpoint runs in its own process (aiohttp), so it is not the bottleneck. Each worker's resident set (VmRSS) is
sampled every 0.5 s: before the announcement, at its peak and at the end, so a leak would show. The result is
checked in the database: exactly one inbox row per resident, every push delivery sent, every subscription pushed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    BIN,
    REDIS_URL,
    ROOT,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    production_env,
)

PUSH_DELAY = 0.05


# ---- the push endpoint (its own process) -----------------------------------------------------------------------

def serve_push_endpoint(port: int, delay: float) -> None:
    """POST /push/<id>: wait `delay`, answer 201 (as a push service does); GET /stats: how many, which, when."""
    from aiohttp import web

    stats = {"count": 0, "paths": set(), "first": None, "last": None}

    async def push(request):
        await request.read()
        await asyncio.sleep(delay)
        now = time.time()
        stats["count"] += 1
        stats["paths"].add(request.path)
        stats["first"] = stats["first"] or now
        stats["last"] = now
        return web.Response(status=201)

    async def report(request):
        return web.json_response({"count": stats["count"], "distinct": len(stats["paths"]), "first": stats["first"],
                                  "last": stats["last"]})

    async def reset(request):
        stats.update(count=0, paths=set(), first=None, last=None)
        return web.json_response({})

    app = web.Application(client_max_size=64 * 1024)
    app.add_routes([web.post("/push/{name}", push), web.get("/stats", report), web.post("/reset", reset)])
    web.run_app(app, host="127.0.0.1", port=port, backlog=4096, print=None, access_log=None)


class PushEndpoint:
    def __init__(self, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, __file__, "--serve-push", str(self.port)], cwd=ROOT,
                                        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"push endpoint did not start:\n{log.read_text()}")

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.base + "/stats", timeout=5) as answer:  # noqa: S310 (local http)
            return json.loads(answer.read())

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.base + "/reset", method="POST"), timeout=5).read()  # noqa: S310

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# ---- workers and their memory ----------------------------------------------------------------------------------

class Workers:
    """`count` worker processes (`flask --app app worker --workers 4`), their resident set sampled every 0.5 s."""

    def __init__(self, env: dict, count: int, log_dir: Path):
        self.processes = []
        self.logs = [log_dir / f"worker{count}-{i}.log" for i in range(count)]
        for path in self.logs:
            log = path.open("wb")
            self.processes.append(subprocess.Popen(
                [str(BIN / "flask"), "--app", "app", "worker", "--workers", "4"], cwd=ROOT, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True))
        self.samples: dict[int, list[float]] = {p.pid: [] for p in self.processes}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def wait_ready(self, timeout: float = 120) -> None:
        """Until every process's consumer runs (its start-up line in its log): importing the app takes seconds, more
        when four start at once on a busy machine, and the time until the rows exist must not include that."""
        deadline = time.monotonic() + timeout
        pending = list(self.logs)
        while pending and time.monotonic() < deadline:
            pending = [log for log in pending if "Huey consumer started" not in log.read_text(errors="replace")]
            time.sleep(0.2)
        if pending:
            raise SystemExit(f"worker did not start:\n{pending[0].read_text(errors='replace')[-3000:]}")

    def start_sampling(self) -> None:
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for process in self.processes:
                try:
                    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.samples[process.pid].append(int(line.split()[1]) / 1024)
                except OSError:
                    pass
            self._stop.wait(0.5)

    def memory(self) -> tuple[float, float, float]:
        """(at the start, peak, at the end) in MB, the largest over the processes."""
        series = [s for s in self.samples.values() if s]
        if not series:
            return float("nan"), float("nan"), float("nan")
        return max(s[0] for s in series), max(max(s) for s in series), max(s[-1] for s in series)

    def stop(self) -> None:
        self._stop.set()
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)


# ---- the data ----------------------------------------------------------------------------------------------------

def prepare(residents: int, subscriptions: int, push_base: str) -> int:
    """Residents (bulk INSERTs), the first `subscriptions` of them with a push subscription and quiet hours off; an
    organizer. Returns the organizer's id."""
    import sqlalchemy as sa

    from app.accounts.models import User
    from app.accounts.services import grant_role
    from app.db_types import utcnow
    from app.extensions import db
    from notifications.models import NotificationSettings, PushSubscription
    from tests.notifications.pushservice import BrowserKeys

    now = utcnow()
    organizer = User(phone="+8613900000000", name="王珂", profile_completed_at=now)
    db.session.add(organizer)
    grant_role(organizer, "organizer")
    db.session.commit()
    for start in range(0, residents, 10_000):
        db.session.execute(sa.insert(User), [
            {"phone": f"+86138{i:08d}", "name": f"居民{i}", "company": "北杨测试公司", "persona": "founder",
             "interests": [], "profile_completed_at": now, "created_at": now}
            for i in range(start, min(residents, start + 10_000))])
        db.session.commit()
    keys = BrowserKeys()  # one browser's keys for all: the endpoint does not decrypt, each push is encrypted anew
    user_ids = list(db.session.scalars(sa.select(User.id).where(User.id != organizer.id).order_by(User.id)
                                       .limit(subscriptions)))
    for start in range(0, len(user_ids), 10_000):
        chunk = user_ids[start:start + 10_000]
        db.session.execute(sa.insert(PushSubscription), [
            {"user_id": uid, "endpoint": f"{push_base}/push/u{uid}", "p256dh": keys.p256dh, "auth": keys.auth,
             "user_agent": "bench", "created_at": now} for uid in chunk])
        db.session.execute(sa.insert(NotificationSettings), [
            {"user_id": uid, "quiet_hours_enabled": False, "quiet_start_minute": 1320, "quiet_end_minute": 480,
             "timezone": "Asia/Shanghai", "updated_at": now} for uid in chunk])
        db.session.commit()
    return organizer.id


def baseline_insert(residents: int) -> float:
    """The database's ceiling: every inbox row in one INSERT ... SELECT (no preferences, no deliveries)."""
    import sqlalchemy as sa

    from app.extensions import db

    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO notifications (user_id, category, kind, transactional, urgent, title, body, link, locale, "
            "dedupe_key, created_at) SELECT id, 'announcements', 'baseline', false, false, '基线', '基线', '', "
            "'zh_Hans_CN', 'baseline', CURRENT_TIMESTAMP FROM users"))
    seconds = time.perf_counter() - started
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM notifications WHERE dedupe_key = 'baseline'"))
    return seconds


@dataclass
class Run:
    name: str
    rows_seconds: float = float("nan")
    push_done_seconds: float = float("nan")
    push_rate: float = float("nan")
    memory: tuple = (float("nan"),) * 3
    check: str = ""
    extra: dict = field(default_factory=dict)


def announce_and_wait(env: dict, workers: int, organizer_id: int, residents: int, subscriptions: int,
                      endpoint: PushEndpoint, log_dir: Path, timeout: float) -> Run:
    import sqlalchemy as sa

    from app.accounts.models import User
    from app.db_types import utcnow
    from app.extensions import db
    from notifications import announcements
    from notifications.models import Announcement, Delivery, Notification

    run = Run(f"{workers} worker{'s' if workers > 1 else ''}")
    endpoint.reset()
    pool = Workers(env, workers, log_dir)
    try:
        pool.wait_ready()
        time.sleep(2)  # started, their start-up sweeps done, idle: their first memory sample is the baseline
        pool.start_sampling()
        time.sleep(1)
        organizer = db.session.get(User, organizer_id)
        announcement = announcements.create_announcement(
            organizer, segment={"kind": "all"}, title=f"小镇公告（{run.name}）", body="明早 8 点消防演练，请配合。",
            title_en="Town notice", body_en="Fire drill at 8 tomorrow.", now=utcnow())
        announcement_id = announcement.id
        db.session.commit()  # the fan-out job is queued after this commit (Redis / the task database)
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = db.session.scalar(sa.select(Announcement.status).where(Announcement.id == announcement_id))
            db.session.rollback()
            if status == "sent":
                run.rows_seconds = time.perf_counter() - started
                break
            time.sleep(0.1)
        pushes_sent = (sa.select(sa.func.count()).select_from(Delivery).join(Notification).where(
            Notification.announcement_id == announcement_id, Delivery.channel == "webpush", Delivery.status == "sent"))
        while time.monotonic() < deadline:  # done: every push accepted by the endpoint and recorded as sent
            done = endpoint.stats()["distinct"] >= subscriptions and db.session.scalar(pushes_sent) >= subscriptions
            db.session.rollback()
            if done:
                run.push_done_seconds = time.perf_counter() - started
                break
            time.sleep(0.2)
        stats = endpoint.stats()
        if stats["first"] and stats["last"] and stats["last"] > stats["first"]:
            run.push_rate = stats["count"] / (stats["last"] - stats["first"])
        time.sleep(1)
        run.memory = pool.memory()
    finally:
        pool.stop()
    per_person = db.session.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(Notification.user_id)))
                                    .where(Notification.announcement_id == announcement_id)).one()
    sent = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).join(Notification).where(
        Notification.announcement_id == announcement_id, Delivery.channel == "webpush", Delivery.status == "sent"))
    db.session.rollback()
    stats = endpoint.stats()
    ok = (per_person[0] == per_person[1] == residents + 1 and sent == subscriptions
          and stats["distinct"] == subscriptions)
    run.check = (("ok" if ok else "WRONG") + f": {per_person[0]} rows for {per_person[1]} people, {sent} pushes "
                 f"sent, {stats['distinct']} subscriptions reached, {stats['count'] - stats['distinct']} repeats")
    return run


async def bare_posts(base: str, count: int, in_flight: int) -> float:
    """Pushes per second with no encryption and no database: the endpoint's ceiling at this concurrency."""
    import aiohttp

    limit = asyncio.Semaphore(in_flight)
    body = os.urandom(200)

    async def one(session, i):
        async with limit, session.post(f"{base}/push/bare{i}", data=body) as answer:
            await answer.read()

    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(session, i) for i in range(count)))
        return count / (time.perf_counter() - started)


def run_database(kind: str, args) -> tuple[float, list[Run], dict]:
    from notifications.channels.webpush import generate_vapid_keys

    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        tmp_path = Path(tmp)
        postgres_name = None
        if kind == "postgres":
            postgres_name, url = create_postgres_database()
            env = production_env(url, REDIS_URL, tmp_path / "instance")
        else:
            env = production_env(f"sqlite:///{tmp_path / 'bench.sqlite3'}", None, tmp_path / "instance")
        private, public = generate_vapid_keys()
        env.update({"VAPID_PRIVATE_KEY": private, "VAPID_PUBLIC_KEY": public, "START_EMBEDDED_WORKER": "0",
                    "PUBLIC_BASE_URL": "https://events.beiyang.test", "DEMO_MODE": "0"})
        endpoint = PushEndpoint(tmp_path / "endpoint.log")
        try:
            subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                           capture_output=True)
            os.environ.update(env)
            from app import create_app
            from app.extensions import db

            app = create_app()
            with app.app_context():
                print(f"[{kind}] {args.residents} residents, {args.subscriptions} push subscriptions …",
                      file=sys.stderr)
                organizer_id = prepare(args.residents, args.subscriptions, endpoint.base)
                baseline = baseline_insert(args.residents)
                runs = []
                for workers in args.workers:
                    print(f"[{kind}] announcement with {workers} worker process(es) …", file=sys.stderr)
                    runs.append(announce_and_wait(env, workers, organizer_id, args.residents, args.subscriptions,
                                                  endpoint, tmp_path, args.timeout))
                bare = {n: asyncio.run(bare_posts(endpoint.base, args.subscriptions, 32 * n))
                        for n in sorted({4 * w for w in args.workers})}
                db.session.remove()
                db.engine.dispose()
        finally:
            endpoint.stop()
            if postgres_name:
                drop_postgres_database(postgres_name)
    return baseline, runs, bare


def print_table(kind: str, baseline: float, runs: list[Run], bare: dict, args) -> None:
    print(f"\nannouncement to {args.residents} residents on {kind}, {args.subscriptions} Web Push subscriptions at a "
          f"local endpoint answering after {int(PUSH_DELAY * 1000)} ms; {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}")
    header = (f"{'what':<34} {'all rows s':>10} {'rows/s':>8} {'pushes done s':>13} {'pushes/s':>9} "
              f"{'RSS MB start/peak/end':>22}  result")
    print(header)
    print("-" * len(header))
    print(f"{'baseline: one INSERT ... SELECT':<34} {baseline:>10.2f} {args.residents / baseline:>8.0f} {'':>13} "
          f"{'':>9} {'':>22}  the database's ceiling, no rules")
    for run in runs:
        memory = "/".join(f"{m:.0f}" for m in run.memory)
        print(f"{'fan-out + push, ' + run.name:<34} {run.rows_seconds:>10.2f} "
              f"{(args.residents + 1) / run.rows_seconds:>8.0f} {run.push_done_seconds:>13.2f} {run.push_rate:>9.0f} "
              f"{memory:>22}  {run.check}")
    for threads, rate in bare.items():
        print(f"{f'baseline: bare POSTs, {32 * threads} in flight':<34} {'':>10} {'':>8} {'':>13} "
              f"{rate:>9.0f} {'':>22}  the endpoint's ceiling (no encryption, no database)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4], help="worker processes, one run each")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--serve-push", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_push:
        serve_push_endpoint(args.serve_push, PUSH_DELAY)
        return
    baseline, runs, bare = run_database(args.database, args)
    print_table(args.database, baseline, runs, bare, args)


if __name__ == "__main__":
    main()
