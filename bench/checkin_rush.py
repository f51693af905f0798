"""The 9 a.m. rush at the doors: S scanners at G gates redeem T tickets over real HTTP, served the way production
serves it.

    .venv/bin/python bench/checkin_rush.py                     # SQLite, then PostgreSQL + Redis
    .venv/bin/python bench/checkin_rush.py --database sqlite --tickets 2000 --scanners 50 --gates 3 --rounds 3

For each database it migrates a fresh database, creates R + 1 events whose doors are open, each with T confirmed
registrations and their signed tickets, and S stewards (each with a bearer token, as a scanner phone has), starts
gunicorn (one worker, threads, APP_ENV=production), and then, in the same run:

1. for scale, an authorised read of the door API (GET .../checkin/settings: bearer token, event, door role,
   settings; no write): what an ordinary API call costs, each checking its own token;
2. R rounds of: the bare ceiling, S clients each sending GET `/ping` (no database) one after the other, T requests
   in all; then the rush on this round's event: S scanners, spread over G gates, each POSTing
   `/api/v1/events/{id}/checkins` for its share of the tickets, one scan after the other (a scanner waits for the
   green screen before the next person). A share of the tickets (--doubles) is also scanned at the same moment by a
   scanner at another gate: two doors racing on one ticket, which the database must settle as one admission. Each
   ping waits until the server is idle, each rush is compared with the ping just before it, and the median round
   is the figure (on a shared machine one round can be off by a fifth either way);
3. retries: a sample of the last rush's scans sent again with the same scan id (a phone that lost the answer),
   which must be answered as the first time and count nothing;
4. the door's pace: the same scanners on the last event, each scanning one person every --pace seconds (a person
   needs about that long to show a phone and walk through): the latency one scan has when the server is not
   saturated. (In 1-3 every scanner sends its next request the moment the answer arrives, so latency there is
   mostly the queue: with S scanners back to back, p50 is about S / throughput, for ping as for a scan.)

It prints scans per second, latency p50/p99 (request to answer), errors, the server's peak memory (VmHWM of the
gunicorn master plus worker), and checks the result in the database: exactly one admission per ticket, exactly T
"admitted" answers, every double scan answered "already_admitted", one log row per scan id.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BIN, Server, production_database, worker_flags  # noqa: E402  (after the path is set)
from bench.signup_rush import Result  # noqa: E402


def prepare_data(env: dict, tickets: int, scanners: int, events: int) -> tuple[list[int], list[str], list[list[str]]]:
    """Migrate, then create `events` events (doors open), each with the same T people's confirmed registrations and
    their signed tickets, and the S stewards of all of them (each with a bearer token, as a scanner phone has).
    Returns the events' ids, the stewards' bearer tokens and each event's ticket tokens."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = f"""
from datetime import timedelta
from app import create_app
from app.db_types import utcnow
from app.extensions import db
from app.accounts.services import create_users, grant_role, issue_api_token
from checkin.services import issue_token
from events.models import Registration
from events.services import create_event

app = create_app()
with app.app_context():
    now = utcnow()
    organizer = create_users(["+8613900000000"], name="王珂", role="organizer", now=now)[0]
    start = now + timedelta(minutes=30)
    people = create_users([f"+86138{{i:08d}}" for i in range({tickets})], now=now)
    for i, person in enumerate(people):
        person.name, person.profile_completed_at = f"来宾{{i}}", now
    stewards = create_users([f"+86137{{i:08d}}" for i in range({scanners})], now=now)
    bearer = []
    for i, steward in enumerate(stewards):
        steward.name, steward.profile_completed_at = f"志愿者{{i}}", now
        bearer.append(issue_api_token(steward, name="scanner", now=now))
    for n in range({events}):
        title = f"模速路演日：签到压测 {{n + 1}}"
        event = create_event(organizer, now=now, status="published", kind="roadshow", title=title, venue="模速空间",
                             starts_at=start, ends_at=start + timedelta(hours=4), capacity=None)
        for steward in stewards:
            grant_role(steward, "steward", f"event:{{event.id}}")
        # Registrations are written directly (the sign-up path has its own bench): the rush is about the door.
        registrations = [Registration(event_id=event.id, user_id=p.id, status="confirmed", waitlist_seq=i + 1,
                                      answers={{}}, created_at=now, confirmed_at=now) for i, p in enumerate(people)]
        db.session.add_all(registrations)
        db.session.flush()
        print(event.id)
        print("\\n".join(issue_token(r, now=now) for r in registrations))
        print("--")
    db.session.commit()
    print("\\n".join(bearer))
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.strip().split("\n")
    ids, tokens, start = [], [], 0
    for _ in range(events):
        end = out.index("--", start)
        ids.append(int(out[start]))
        tokens.append(out[start + 1:end])
        start = end + 1
    return ids, out[start:], tokens


def plan_scans(tokens: list[str], scanners: int, gates: str, doubles: float, seed: int) -> list[list[dict]]:
    """Each scanner's queue of scans. Every ticket is scanned once by one scanner; a share of them is also scanned
    by a scanner at another gate, at the same position in its queue (so the two arrive together)."""
    rng = random.Random(seed)
    queues: list[list[dict]] = [[] for _ in range(scanners)]
    for index, token in enumerate(tokens):
        queues[index % scanners].append({"token": token, "gate": gates[(index % scanners) % len(gates)],
                                         "scan_id": str(uuid.uuid4()), "double": False})
    for scanner, queue in enumerate(queues):
        for position, scan in enumerate(list(queue)):
            if rng.random() < doubles:
                other = (scanner + 1 + rng.randrange(scanners - 1)) % scanners
                while gates[other % len(gates)] == scan["gate"] and len(gates) > 1:
                    other = (other + 1) % scanners
                twin = {"token": scan["token"], "gate": gates[other % len(gates)], "scan_id": str(uuid.uuid4()),
                        "double": True}
                queues[other].insert(min(position, len(queues[other])), twin)
    return queues


async def run_scanners(name: str, base: str, queues: list[list[dict]], bearer: list[str], *,
                       path: str | None, pace: float = 0.0) -> tuple[Result, list[tuple[dict, int, dict | None]]]:
    """Each scanner sends its queue one request after the other (at most one every `pace` seconds); all scanners
    start together (paced ones spread over the first `pace` seconds, as people do not arrive in step)."""
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answers: list[tuple[dict, int, dict | None]] = []
    errors = 0
    start = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)

    async def scanner(session, queue: list[dict], token: str) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token}"}
        await start.wait()
        if pace:
            await asyncio.sleep(random.random() * pace)
        for scan in queue:
            began = time.perf_counter()
            try:
                if path is None or scan.get("get"):
                    async with session.get(f"{base}{scan.get('get', '/ping')}", headers=headers) as answer:
                        await answer.read()
                        status, body = answer.status, None
                else:
                    payload = {k: scan[k] for k in ("token", "gate", "scan_id")}
                    async with session.post(f"{base}{path}", json=payload, headers=headers) as answer:
                        body = await answer.json(content_type=None)
                        status = answer.status
            except Exception as error:  # a refused connection or a timeout is an error of the run, not a crash
                status, body = 0, {"exception": repr(error)}
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200:
                errors += 1
            answers.append((scan, status, body))
            if pace:
                await asyncio.sleep(max(0.0, pace - (time.perf_counter() - began)))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(scanner(session, queue, token)) for queue, token in zip(queues, bearer,
                                                                                             strict=True)]
        await asyncio.sleep(0.2)
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - began
    return Result(name, sum(len(q) for q in queues), seconds, latencies, errors, statuses), answers


def check_answers(answers: list[tuple[dict, int, dict | None]], tickets: int, retries: list | None = None) -> str:
    """What the scanners were told: each ticket admitted exactly once; the others already admitted."""
    admitted: dict[str, int] = {}
    wrong = 0
    for scan, status, body in answers:
        if status != 200 or not body:
            continue
        if body["result"] == "admitted":
            admitted[scan["token"]] = admitted.get(scan["token"], 0) + 1
        elif body["result"] != "already_admitted":
            wrong += 1
    once = sum(1 for n in admitted.values() if n == 1)
    ok = once == tickets and len(admitted) == tickets and wrong == 0
    return ("ok" if ok else "WRONG") + f": {once} admitted once, {wrong} other answers"


def check_database(env: dict, event_id: int, tickets: int, scans: int) -> str:
    script = f"""
import sqlalchemy as sa
from app import create_app
from app.extensions import db
from checkin.models import Admission, Scan
from events.models import Registration
app = create_app()
with app.app_context():
    admissions = db.session.scalar(sa.select(sa.func.count()).select_from(Admission)
                                   .where(Admission.event_id == {event_id}))
    people = db.session.scalar(sa.select(sa.func.count(sa.distinct(Admission.registration_id)))
                               .where(Admission.event_id == {event_id}))
    results = dict(db.session.execute(sa.select(Scan.result, sa.func.count()).where(Scan.event_id == {event_id})
                                      .group_by(Scan.result)).all())
    logged = sum(results.values())
    checked_in = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.event_id == {event_id}, Registration.checked_in_at.is_not(None)))
    ok = (admissions == people == checked_in == {tickets} and results.get("admitted") == {tickets}
          and logged == {scans})
    print(("ok" if ok else "WRONG") + f": {{admissions}} admissions, {{logged}} scans logged "
          f"({{results.get('admitted', 0)}} admitted, {{results.get('already_admitted', 0)}} already)")
"""
    return subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def run_database(kind: str, args) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        with production_database(kind, tmp_path) as env:
            print(f"[{kind}] preparing {args.rounds + 1} events of {args.tickets} tickets and {args.scanners} "
                  f"scanners …", file=sys.stderr)
            events, bearer, tickets = prepare_data(env, args.tickets, args.scanners, args.rounds + 1)
            server = Server(env, args.threads, tmp_path / "gunicorn.log", args.worker)
            try:
                server.wait_ready()
                rows += run_rounds(kind, server, events, bearer, tickets, args)
                memory = server.peak_memory_mb()
            finally:
                server.stop()
            rows = [(database, result, memory, check(env) if callable(check) else check)
                    for database, result, check in rows]
    return rows


def run_rounds(kind: str, server: Server, events: list[int], bearer: list[str], tickets: list[list[str]], args
               ) -> list[tuple]:
    """The authorised read, R rounds of ping-then-rush (each rush on an event of its own), the retries of the last
    rush, and the paced load on the last event. Each row's check is a string, or a function of the environment
    that checks the database once the server has stopped."""
    rows = []
    ping_queues = [[{}] * len(q) for q in plan_scans(tickets[0], args.scanners, args.gates, args.doubles, args.seed)]
    read_path = f"/api/v1/events/{events[0]}/checkin/settings"
    read, _ = asyncio.run(run_scanners("read", server.url, [[{"get": read_path}] * len(q) for q in ping_queues],
                                       bearer, path=None))
    rows.append((kind, read, "an authorised read of the door API, for scale (no write)"))
    shares = []
    for round_, event_id in enumerate(events[:-1], start=1):
        queues = plan_scans(tickets[round_ - 1], args.scanners, args.gates, args.doubles, args.seed + round_)
        server.wait_idle()
        ping, _ = asyncio.run(run_scanners(f"ping {round_}", server.url, ping_queues, bearer, path=None))
        rush, answers = asyncio.run(run_scanners(f"rush {round_}", server.url, queues, bearer,
                                                 path=f"/api/v1/events/{event_id}/checkins"))
        shares.append(rush.per_second / ping.per_second)
        scans = sum(len(q) for q in queues)
        told = check_answers(answers, args.tickets)
        rows += [(kind, ping, ""), (kind, rush, lambda env, e=event_id, n=scans, t=told: t + "; db "
                                    + check_database(env, e, args.tickets, n))]
    print(f"[{kind}] rush / ping per round: {', '.join(f'{x:.0%}' for x in shares)}; "
          f"median {sorted(shares)[len(shares) // 2]:.0%}", file=sys.stderr)
    rng = random.Random(args.seed + 1)
    retry_queues = [rng.sample(q, max(1, len(q) // 10)) for q in queues]
    retry, replies = asyncio.run(run_scanners("retry", server.url, retry_queues, bearer,
                                              path=f"/api/v1/events/{event_id}/checkins"))
    first = {scan["scan_id"]: body for scan, _, body in answers}
    same = sum(1 for scan, status, body in replies
               if status == 200 and body["replayed"] and body["result"] == first[scan["scan_id"]]["result"])
    rows.append((kind, retry, ("ok" if same == len(replies) else "WRONG") + f": {same}/{len(replies)} same answer"))
    if args.pace:
        paced_queues = plan_scans(tickets[-1], args.scanners, args.gates, 0.0, args.seed)
        paced, paced_answers = asyncio.run(run_scanners("paced", server.url, paced_queues, bearer,
                                                        path=f"/api/v1/events/{events[-1]}/checkins",
                                                        pace=args.pace))
        told = check_answers(paced_answers, args.tickets)
        rows.append((kind, paced, lambda env, t=told: t + "; db " + check_database(env, events[-1], args.tickets,
                                                                                   args.tickets)))
    return rows


def print_table(rows: list[tuple], args) -> None:
    print(f"\ncheck-in rush: {args.tickets} tickets, {args.scanners} scanners at {len(args.gates)} gates, "
          f"{args.doubles:.0%} also scanned at another gate at once; {args.rounds} rounds; paced: one scan per "
          f"scanner every {args.pace:g} s; gunicorn -w 1 {' '.join(worker_flags(args.worker, args.threads))}; "
          f"{os.cpu_count()} CPUs")
    header = f"{'database':<9} {'load':<7} {'requests':>8} {'req/s':>7} {'% of ping':>9} {'p50 ms':>7} " \
             f"{'p99 ms':>7} {'errors':>6} {'peak MB':>8}  result"
    print(header)
    print("-" * len(header))
    ping: dict[str, float] = {}
    for kind, result, _, _ in rows:
        if result.name.startswith("ping"):
            ping.setdefault(kind, result.per_second)  # the read is compared with the first round's ping
    shares: dict[str, list[float]] = {}
    for kind, result, memory, check in rows:
        if result.name.startswith("ping"):
            ping[kind] = result.per_second  # each rush with the ping just before it
        share = result.per_second / ping[kind]
        if result.name.startswith("rush"):
            shares.setdefault(kind, []).append(share)
        print(f"{kind:<9} {result.name:<7} {result.requests:>8} {result.per_second:>7.0f} {100 * share:>8.0f}% "
              f"{result.percentile(50):>7.1f} {result.percentile(99):>7.1f} {result.errors:>6} {memory:>8.0f}  {check}")
    for kind, values in shares.items():
        print(f"{kind:<9} {'median rush':<16} {'':>7} {100 * sorted(values)[len(values) // 2]:>8.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--scanners", type=int, default=50)
    parser.add_argument("--gates", default="ABC", help="one letter per gate")
    parser.add_argument("--doubles", type=float, default=0.05, help="share of tickets scanned at two gates at once")
    parser.add_argument("--threads", type=int, default=64, help="gunicorn threads")
    parser.add_argument("--worker", choices=["threads", "gevent"], default="threads",
                        help="gunicorn worker (gevent: PostgreSQL only, see docs/deploy.md)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="ping-then-rush rounds, each on an event of its own")
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between scans of one scanner in the paced "
                                                                "load (0: skip it)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = []
    for kind in kinds:
        rows += run_database(kind, args)
    print_table(rows, args)


if __name__ == "__main__":
    main()
