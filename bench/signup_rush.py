"""A sign-up rush: N residents hit one salon of C seats at the same moment, served the way production serves it.

    .venv/bin/python bench/signup_rush.py                  # SQLite, then PostgreSQL + Redis
    .venv/bin/python bench/signup_rush.py --database sqlite --residents 1000 --capacity 300 --rounds 3

For each database it migrates a fresh database, creates the residents (profiles complete) with API tokens and
R + 1 published salons, starts gunicorn (one worker, threads, APP_ENV=production) and then, in the same run:

1. the residents open the first salon (`GET /api/v1/events/{id}` with their token, all at once), as the app does
   before anyone can tap "sign up" (it also records each token's use, which is then not written again for 5
   minutes);
2. R rounds of: the bare ceiling, N requests to `/ping` (the cheapest endpoint: no database) all released at once;
   then the rush, each resident POSTing `/api/v1/events/{id}/registrations` once to this round's salon, all
   released at once. Each ping waits until the server is idle (what a rush leaves behind, such as its live
   notices, would slow it); each rush is compared with the ping just before it, and the median round is the figure:
   on a shared machine one round can be off by a fifth either way;
3. a paced rush: `/ping`, then the same number of sign-ups to the last salon, with at most K requests in flight
   (what a proxy's connection pool in front of the app does). With N released at once, latency is the queue: the
   last of 1,000 waits for the 999 before it, so its p99 is about N / throughput whatever a sign-up costs; the paced
   rush shows the latency of one sign-up at a sustained load, and ping's at the same load for scale.

It prints requests per second, latency p50/p99 (from the common start signal to the response, so queueing counts;
paced: from sending to the response),
errors, the server's peak memory (VmHWM of the gunicorn worker plus the master) and checks every salon in the
database: exactly C confirmed, the rest waitlisted, one registration per person, arrival numbers without gaps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BIN, Server, percentile, production_database, worker_flags  # noqa: E402  (after the path is set)


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


# ---- the deployment -------------------------------------------------------------------------------------------

def prepare_data(env: dict, residents: int, capacity: int, salons: int) -> tuple[list[str], list[int]]:
    """Migrate, then create residents with tokens and `salons` published salons, through the services."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = f"""
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
    phones = [f"+86138{{i:08d}}" for i in range({residents})]
    users = create_users(phones, now=now)
    for i, user in enumerate(users):
        user.name, user.company, user.persona = f"居民{{i}}", "北杨测试公司", "founder"
        user.profile_completed_at = now
    tokens = [issue_api_token(user, name="bench", now=now) for user in users]
    ids = []
    for title in [f"技术沙龙：抢座 {{n + 1}}" for n in range({salons})]:
        start = now + timedelta(days=3)
        event = create_event(organizer, now=now, status="published", kind="salon", title=title, venue="北杨小镇",
                             starts_at=start, ends_at=start + timedelta(hours=2), capacity={capacity})
        ids.append(event.id)
    db.session.commit()
    print(" ".join(map(str, ids)))
    print("\\n".join(tokens))
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.split("\n")
    return [line for line in out[1:] if line.startswith("bye_")], [int(x) for x in out[0].split()]


# ---- the load -------------------------------------------------------------------------------------------------

async def fire(name: str, method: str, urls: list[str], tokens: list[str], in_flight: int | None) -> Result:
    """Send one request per (url, token), all released by one signal; at most `in_flight` at once if given."""
    import aiohttp

    gate = asyncio.Event()
    limit = asyncio.Semaphore(in_flight) if in_flight else None
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    connector = aiohttp.TCPConnector(limit=in_flight or 0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)

    async def one(session, url: str, token: str) -> None:
        nonlocal errors
        await gate.wait()
        sent = started
        if limit:
            await limit.acquire()
            sent = time.perf_counter()  # paced: the latency of the request itself, not its wait for a free slot
        try:
            async with session.request(method, url, headers={"Authorization": f"Bearer {token}"},
                                       json={} if method == "POST" else None) as answer:
                await answer.read()
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                if answer.status >= 400:
                    errors += 1
        except Exception:
            errors += 1
        finally:
            latencies.append((time.perf_counter() - sent) * 1000)
            if limit:
                limit.release()

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(one(session, url, token)) for url, token in zip(urls, tokens, strict=True)]
        await asyncio.sleep(0.2)  # every task is waiting at the gate
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    return Result(name, len(urls), seconds, latencies, errors, statuses)


def check_outcome(env: dict, event_id: int, residents: int, capacity: int) -> str:
    script = f"""
import sqlalchemy as sa
from app import create_app
from app.extensions import db
from events.models import Event, Registration
app = create_app()
with app.app_context():
    rows = db.session.execute(sa.select(Registration.status, Registration.waitlist_seq, Registration.user_id)
                              .where(Registration.event_id == {event_id})).all()
    event = db.session.get(Event, {event_id})
    confirmed = sum(1 for r in rows if r.status == "confirmed")
    waitlisted = sorted(r.waitlist_seq for r in rows if r.status == "waitlisted")
    first_waiting = min(waitlisted) if waitlisted else None
    last_confirmed = max((r.waitlist_seq for r in rows if r.status == "confirmed"), default=None)
    ok = (confirmed == {capacity} and len(rows) == {residents} and len({{r.user_id for r in rows}}) == len(rows)
          and sorted(r.waitlist_seq for r in rows) == list(range(1, len(rows) + 1))
          and event.seats_taken == {capacity} and (first_waiting is None or last_confirmed < first_waiting))
    print(("ok" if ok else "WRONG") + f": {{confirmed}} confirmed, {{len(waitlisted)}} waitlisted, "
          f"{{len(rows)}} registrations, seats_taken={{event.seats_taken}}")
"""
    return subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def run_database(kind: str, args) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        with production_database(kind, tmp_path) as env:
            print(f"[{kind}] preparing {args.residents} residents and {args.rounds + 1} salons of {args.capacity} "
                  "seats …", file=sys.stderr)
            tokens, salons = prepare_data(env, args.residents, args.capacity, args.rounds + 1)
            server = Server(env, args.threads, tmp_path / "gunicorn.log", args.worker)
            pings = [server.url + "/ping"] * len(tokens)

            def sign_ups(event_id: int) -> list[str]:
                return [f"{server.url}/api/v1/events/{event_id}/registrations"] * len(tokens)

            try:
                server.wait_ready()
                opened = asyncio.run(fire("open", "GET", [f"{server.url}/api/v1/events/{salons[0]}"] * len(tokens),
                                          tokens, None))
                rounds = []
                for number, event_id in enumerate(salons[:-1], start=1):
                    server.wait_idle()
                    ping = asyncio.run(fire(f"ping {number}", "GET", pings, tokens, None))
                    rush = asyncio.run(fire(f"rush {number}", "POST", sign_ups(event_id), tokens, None))
                    rounds.append((ping, rush, event_id))
                server.wait_idle()
                paced_ping = asyncio.run(fire("ping, paced", "GET", pings, tokens, args.in_flight))
                paced = asyncio.run(fire("paced", "POST", sign_ups(salons[-1]), tokens, args.in_flight))
                memory = server.peak_memory_mb()
            finally:
                server.stop()
            rows.append((kind, opened, rounds[0][0], memory, ""))
            for ping, rush, event_id in rounds:
                rows.append((kind, ping, ping, memory, ""))
                rows.append((kind, rush, ping, memory, check_outcome(env, event_id, args.residents, args.capacity)))
            rows.append((kind, paced_ping, paced_ping, memory, ""))
            rows.append((kind, paced, paced_ping, memory,
                         check_outcome(env, salons[-1], args.residents, args.capacity)))
            shares = sorted(rush.per_second / ping.per_second for ping, rush, _ in rounds)
            print(f"[{kind}] rush / ping per round: {', '.join(f'{share:.0%}' for share in shares)}; "
                  f"median {shares[len(shares) // 2]:.0%}", file=sys.stderr)
            rows.append((kind, "median", shares[len(shares) // 2], memory, ""))
    return rows


def print_table(rows: list[tuple], args) -> None:
    print(f"\nsign-up rush: {args.residents} residents, {args.capacity} seats, gunicorn -w 1 "
          f"{' '.join(worker_flags(args.worker, args.threads))}, {args.rounds} rounds, paced = at most "
          f"{args.in_flight} in flight; {os.cpu_count()} CPUs")
    header = f"{'database':<9} {'load':<12} {'req/s':>8} {'% of ping':>9} {'p50 ms':>8} {'p99 ms':>8} " \
             f"{'errors':>6} {'peak MB':>8}  result"
    print(header)
    print("-" * len(header))
    for kind, result, ping, memory, check in rows:
        if result == "median":
            print(f"{kind:<9} {'median rush':<12} {'':>8} {100 * ping:>8.0f}%")
            continue
        share = 100 * result.per_second / ping.per_second
        print(f"{kind:<9} {result.name:<12} {result.per_second:>8.0f} {share:>8.0f}% {result.percentile(50):>8.0f} "
              f"{result.percentile(99):>8.0f} {result.errors:>6} {memory:>8.0f}  {check}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--threads", type=int, default=64, help="gunicorn threads")
    parser.add_argument("--worker", choices=["threads", "gevent"], default="threads",
                        help="gunicorn worker (gevent: PostgreSQL only, see docs/deploy.md)")
    parser.add_argument("--rounds", type=int, default=3, help="ping-then-rush rounds, each on a salon of its own")
    parser.add_argument("--in-flight", type=int, default=32, help="requests in flight in the paced rush")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = []
    for kind in kinds:
        rows += run_database(kind, args)
    print_table(rows, args)


if __name__ == "__main__":
    main()
