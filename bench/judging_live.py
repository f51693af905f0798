"""The live final's big screens: C Socket.IO clients watch a round's leaderboard while 7 judges score each team,
served the way production serves it.

    .venv/bin/python bench/judging_live.py                          # one instance, then two sharing Redis
    .venv/bin/python bench/judging_live.py --clients 500 --teams 10 --shape two
    .venv/bin/python bench/judging_live.py --worker threads         # gunicorn's threaded worker instead of gevent

For each shape it migrates a fresh PostgreSQL database, creates a competition whose live final is open with a live
leaderboard, T teams, 7 judges and C residents (each with a bearer token), starts gunicorn (APP_ENV=production,
one gevent worker per instance, as docs/deploy.md serves live screens; "one": a single instance; "two": two
instances sharing Redis as the Socket.IO message queue, clients split between them, judges' requests alternating),
connects the C clients over websockets and joins them to the leaderboard room (round:<id>:leaderboard), and then,
in the same run:

1. baseline: a process outside the servers publishes a tiny message to the same room through Redis
   (`SocketIO(message_queue=...)`, as a worker would) B times; from publish to arrival at each client. This is the
   floor of any broadcast: Redis, the instance(s), the websockets and the clients' own event loop;
2. the final: for each team, the organizer puts it on stage (HTTP), then its 7 judges submit their scores at the
   same moment (HTTP POST /api/v1/rounds/{id}/scores, each with its submission id); the next team comes on when every
   client has seen the 7 scores of this one. Judges submit once the screens have shown the team on stage (in the
   hall the pitch comes between; submitting at once would let the stage's board and the scores' share a read). The
   first team's scores are the first a fresh server process handles
   (it opens database connections, compiles the statements): reported on rows of their own ("first team"), then T
   teams in two halves, the 7 judges at the same moment, or each at a random moment within the spread.

Score-to-screen latency of a submission at a client: from the moment the judge's phone sent it to the arrival of
the first leaderboard message that certainly counts it: one whose read began (its `updated_at`, the server's clock;
clients and servers share this machine's clock) after the judge's phone had the answer, hence after the commit, or
one that counts as many of the team's judges as there were submissions for the team sent before it arrived (it
cannot count a score not sent yet, so it counts them all). On PostgreSQL a team's judges commit side by side, so
"the k-th commit" cannot be told from the database; this rule may only overstate a latency, never understate it.
(Until 2026-11-30 the second case needed all seven judges counted, which overstated the latencies of scores that
arrived while a board was being read: in the spread half, up to the next judge's score.) It prints
p50/p99 over every (submission, client) pair, the judges' HTTP latency, the baseline, updates a client should have
had and did not, and the servers' peak memory (VmHWM, master plus worker).
Clients run in one asyncio process on the same machine, so their own decoding is part of every number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402  (after the path is set)
    BIN,
    REDIS_URL,
    Server,
    create_postgres_database,
    drop_postgres_database,
    percentile,
    production_env,
    socketio_open_and_join,
)

JUDGES = 7


# ---- the data --------------------------------------------------------------------------------------------------

def prepare_data(env: dict, clients: int, teams: int) -> dict:
    """Migrate, then set the competition up through the services: a live final, open, leaderboard live."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = f"""
import json
from app import create_app
from app.db_types import utcnow
from app.extensions import db
from app.accounts.models import User
from app.accounts.services import create_users, issue_api_token
from judging import services

CRITERIA = [
    {{"key": "innovation", "label": "创新性", "weight": 30, "min": 0, "max": 10, "step": 0.5}},
    {{"key": "market", "label": "市场", "weight": 25, "min": 0, "max": 10, "step": 0.5}},
    {{"key": "team", "label": "团队", "weight": 25, "min": 0, "max": 10, "step": 0.5}},
    {{"key": "feasibility", "label": "可行性", "weight": 20, "min": 0, "max": 10, "step": 0.5}},
]
app = create_app()
with app.app_context():
    now = utcnow()
    organizer = create_users(["+8613900000000"], name="王珂", role="organizer", now=now)[0]
    judges = [{{"phone": f"+8613700000{{i:03d}}", "name": f"评委{{i}}"}} for i in range(1, {JUDGES} + 1)]
    setup = {{"name": "港科大百万元奖金创业大赛", "rounds": [{{"kind": "final", "name": "决赛", "mode": "live",
             "leaderboard_mode": "live", "criteria": CRITERIA, "judges": judges}}],
             "teams": [{{"team_name": f"队伍{{i + 1}}", "project_name": f"项目{{i + 1}}"}} for i in range({teams})]}}
    competition, _ = services.create_setup(setup, organizer, now=now)
    final = competition.rounds[0]
    services.open_round(final.id, organizer, now=now)
    audience = create_users([f"+86138{{i:08d}}" for i in range({clients})], now=now)
    db.session.flush()
    judge_users = [db.session.get(User, j.user_id) for j in services.judges_of(final.id)]
    out = {{"round_id": final.id, "teams": [t.id for t in services.teams_of(final.id)],
           "organizer": issue_api_token(organizer, name="bench", now=now),
           "judges": [issue_api_token(u, name="bench", now=now) for u in judge_users],
           "audience": [issue_api_token(u, name="bench", now=now) for u in audience]}}
    db.session.commit()
    print(json.dumps(out))
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---- the clients -----------------------------------------------------------------------------------------------

@dataclass
class Watcher:
    """One big screen: a Socket.IO client in the leaderboard room that records what arrived and when.

    It speaks the Socket.IO protocol (v5 over Engine.IO v4, websocket transport) directly on aiohttp's websocket, as
    a browser's socket.io-client does: CONNECT with the bearer token, an acknowledged join, pong to every ping, and
    one json.loads per event. python-socketio's AsyncClient costs about 0.4 ms of CPU per message here; 500 of them
    in one process on a 2-core machine made the measuring client, not the server, the slowest part of a broadcast
    (the baseline's p99 was ~240 ms from that alone)."""

    url: str
    token: str
    round_id: int
    # (arrival: monotonic, arrival: wall clock, read at: server's wall clock, judges counted per team)
    boards: list[tuple[float, float, float, dict[int, int]]] = field(default_factory=list)
    pings: dict[int, float] = field(default_factory=dict)  # baseline message number -> arrival
    counts: dict[int, int] = field(default_factory=dict)
    shown_at: datetime | None = None  # when the server read the board shown

    async def connect(self, session) -> None:
        self.ws = await socketio_open_and_join(session, self.url, self.token, "join_round_leaderboard",
                                               {"round_id": self.round_id})
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        import aiohttp

        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            arrived = time.monotonic(), time.time()
            packet = message.data
            if packet == "2":
                await self.ws.send_str("3")
            elif packet.startswith("42["):
                name, payload = json.loads(packet[2:])
                if name == "leaderboard":
                    self.on_board(arrived, payload)
                elif name == "bench_ping":
                    self.pings[payload["n"]] = arrived[0]

    def on_board(self, arrived: tuple[float, float], board: dict) -> None:
        read_at = datetime.fromisoformat(board["updated_at"])
        if self.shown_at and read_at < self.shown_at:  # as the big screen does: an older read arriving later
            return
        self.shown_at = read_at
        counts = {row["id"]: row["judges_counted"] for row in board["rows"]}
        self.boards.append((*arrived, read_at.timestamp(), counts))
        self.counts = counts

    async def close(self) -> None:
        await self.ws.close()
        await self.reader


async def connect_all(watchers: list[Watcher], session, at_once: int = 50) -> float:
    started = time.monotonic()
    for i in range(0, len(watchers), at_once):
        await asyncio.gather(*(w.connect(session) for w in watchers[i:i + at_once]))
    return time.monotonic() - started


async def wait_until(watchers: list[Watcher], done, timeout: float) -> bool:
    """Poll (cheaply: only the clients still waiting) until every client is done; arrival times are recorded by the
    readers, so the polling interval is not part of any latency."""
    deadline = time.monotonic() + timeout
    waiting = list(watchers)
    while time.monotonic() < deadline:
        waiting = [w for w in waiting if not done(w)]
        if not waiting:
            return True
        await asyncio.sleep(0.01)
    return False


# ---- the load --------------------------------------------------------------------------------------------------

async def baseline(env: dict, watchers: list[Watcher], room: str, messages: int) -> list[float]:
    """Publish tiny messages to the room from outside the servers, through Redis; latency to every client."""
    from flask_socketio import SocketIO

    emitter = SocketIO(message_queue=env["REDIS_URL"], channel=env["SOCKETIO_CHANNEL"])
    latencies = []
    for n in range(messages):
        sent = time.monotonic()
        await asyncio.to_thread(emitter.emit, "bench_ping", {"n": n}, to=room)
        await wait_until(watchers, lambda w, n=n: n in w.pings, 10)
        latencies += [(w.pings[n] - sent) * 1000 for w in watchers if n in w.pings]
        await asyncio.sleep(0.05)
    return latencies


async def run_final(servers: list[Server], data: dict, watchers: list[Watcher], team_ids: list[int],
                    spread: float) -> tuple[dict, list[float], int]:
    """Each team on stage, then its 7 judges at once (spread 0) or each at a random moment within `spread`
    seconds. Returns each submission (id -> Sent), the judges' HTTP latencies and the number of failed
    submissions."""
    import random

    import aiohttp

    round_id = data["round_id"]
    sent: dict[str, Sent] = {}
    http_ms: list[float] = []
    failures = 0
    values = {"innovation": 8, "market": 7.5, "team": 9, "feasibility": 6.5}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for index, team_id in enumerate(team_ids):
            boards_before = {id(w): len(w.boards) for w in watchers}
            stage = await session.post(f"{servers[0].url}/api/v1/rounds/{round_id}/stage",
                                       json={"round_team_id": team_id, "phase": "scoring"},
                                       headers={"Authorization": f"Bearer {data['organizer']}"})
            if stage.status != 200:
                raise SystemExit(f"stage: {stage.status} {await stage.text()}")
            # as in the hall, where the pitch comes between: the team's arrival on stage reached the screens first
            await wait_until(watchers, lambda w, before=boards_before: len(w.boards) > before[id(w)], 5)

            async def submit(j: int, token: str, team_id=team_id, index=index):
                nonlocal failures
                await asyncio.sleep(random.uniform(0, spread) if spread else 0)
                submission_id = str(uuid.uuid4())
                body = {"round_team_id": team_id, "submission_id": submission_id, "base_revision": 0,
                        "scores": {k: max(0, v - (j + index) % 3 * 0.5) for k, v in values.items()}}
                server = servers[j % len(servers)]
                record = sent[submission_id] = Sent(team_id, time.monotonic(), time.time())
                async with session.post(f"{server.url}/api/v1/rounds/{round_id}/scores", json=body,
                                        headers={"Authorization": f"Bearer {token}"}) as answer:
                    await answer.read()
                    record.answered_wall = time.time()
                    http_ms.append((time.monotonic() - record.sent_at) * 1000)
                    if answer.status != 201:
                        failures += 1

            await asyncio.gather(*(submit(j, token) for j, token in enumerate(data["judges"])))
            await wait_until(watchers, lambda w, t=team_id: w.counts.get(t, 0) >= JUDGES, 15)
            await asyncio.sleep(0.1)
    return sent, http_ms, failures


@dataclass
class Sent:
    team_id: int
    sent_at: float  # monotonic, when the judge's phone sent it
    sent_wall: float  # time.time() of the same moment
    answered_wall: float = float("inf")  # time.time() when the phone had the answer (the commit came before)


def score_to_screen(sent: dict[str, Sent], watchers: list[Watcher]) -> tuple[list[float], int]:
    """Per (submission, client): time from the judge's send to the first board that certainly counts it; and the
    misses. A board certainly counts a submission when its read began after the phone had the answer (hence after the
    commit), or when it counts as many of the team's judges as there were submissions for the team sent before the
    board arrived, this one among them (no board can count a score not sent yet, so it counts them all)."""
    sent_by_team: dict[int, list[float]] = {}
    for record in sent.values():
        sent_by_team.setdefault(record.team_id, []).append(record.sent_wall)

    def counts_it(record: Sent, arrived_wall: float, read_at: float, counts: dict[int, int]) -> bool:
        if read_at >= record.answered_wall:
            return True
        if record.sent_wall > arrived_wall:
            return False
        sent_before = sum(1 for at in sent_by_team[record.team_id] if at <= arrived_wall)
        return counts.get(record.team_id, 0) >= sent_before

    latencies, missed = [], 0
    for record in sent.values():
        for watcher in watchers:
            arrival = next((at for at, arrived_wall, read_at, counts in watcher.boards
                            if counts_it(record, arrived_wall, read_at, counts)), None)
            if arrival is None:
                missed += 1
            else:
                latencies.append((arrival - record.sent_at) * 1000)
    return latencies, missed


@dataclass
class Row:
    shape: str
    what: str
    samples: int
    p50: float
    p99: float
    worst: float
    missed: int
    memory_mb: float
    note: str = ""


def run_shape(shape: str, args) -> list[Row]:
    instances = 2 if shape == "two" else 1
    with tempfile.TemporaryDirectory(prefix="bench-judging-") as tmp:
        tmp_path = Path(tmp)
        name, url = create_postgres_database()
        env = production_env(url, REDIS_URL, tmp_path / "instance")
        servers: list[Server] = []
        try:
            print(f"[{shape}] preparing a live final: {args.teams} teams, {JUDGES} judges, {args.clients} "
                  f"screens …", file=sys.stderr)
            data = prepare_data(env, args.clients, args.teams + 1)  # the first: a fresh process's first scores
            threads = args.clients // instances + 64
            servers = [Server(env, threads, tmp_path / f"gunicorn-{i}.log", args.worker) for i in range(instances)]
            for server in servers:
                server.wait_ready()
            load_before = os.getloadavg()[0]
            cpu_before = time.process_time()
            rows = asyncio.run(measure(shape, env, servers, data, args))
            print(f"[{shape}] the clients' own process used {time.process_time() - cpu_before:.1f} s of CPU",
                  file=sys.stderr)
            memory = sum(s.peak_memory_mb() for s in servers)
            for row in rows:
                row.memory_mb = memory
            print(f"[{shape}] 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
                  f"(other work on this machine counts)", file=sys.stderr)
        finally:
            for server in servers:
                server.stop()
            drop_postgres_database(name)
    return rows


async def measure(shape: str, env: dict, servers: list[Server], data: dict, args) -> list[Row]:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        return await measure_with(shape, env, servers, data, args, session)


async def measure_with(shape: str, env: dict, servers: list[Server], data: dict, args, session) -> list[Row]:
    round_id = data["round_id"]
    watchers = [Watcher(servers[i % len(servers)].url, token, round_id) for i, token in enumerate(data["audience"])]
    seconds = await connect_all(watchers, session)
    print(f"[{shape}] {len(watchers)} screens connected and joined in {seconds:.1f} s", file=sys.stderr)
    await asyncio.sleep(1.0)  # every instance has subscribed to the message queue
    room = f"round:{round_id}:leaderboard"
    base = await baseline(env, watchers, room, args.baseline)
    base_missed = sum(1 for w in watchers for n in range(args.baseline) if n not in w.pings)
    for watcher in watchers:
        watcher.boards.clear()
    first, teams = data["teams"][:1], data["teams"][1:]
    half = len(teams) // 2
    loads = [("first team, 7 at once", first, 0.0), ("7 at once", teams[:half], 0.0),
             (f"spread {args.spread:g} s", teams[half:], args.spread)]
    results = []
    for label, team_ids, spread in loads:
        results.append((label, team_ids, *await run_final(servers, data, watchers, team_ids, spread)))
    await asyncio.sleep(0.5)
    rows = [Row(shape, "baseline: Redis publish -> screens", len(base), percentile(base, 50), percentile(base, 99),
                max(base, default=float("nan")), base_missed, 0)]
    for label, team_ids, sent, http_ms, failures in results:
        latencies, missed = score_to_screen(sent, watchers)
        final_ok = sum(1 for w in watchers if all(w.counts.get(t, 0) == JUDGES for t in team_ids))
        rows.append(Row(shape, f"judge POST /scores, {label}", len(http_ms), percentile(http_ms, 50),
                        percentile(http_ms, 99), max(http_ms, default=float("nan")), failures, 0,
                        f"{len(sent)} submissions"))
        rows.append(Row(shape, f"score -> screen, {label}", len(latencies), percentile(latencies, 50),
                        percentile(latencies, 99), max(latencies, default=float("nan")), missed, 0,
                        f"{final_ok}/{len(watchers)} screens show all {len(team_ids) * JUDGES} scores"))
    await asyncio.gather(*(w.close() for w in watchers), return_exceptions=True)
    return rows


def print_table(rows: list[Row], args) -> None:
    print(f"\njudging live: {args.clients} leaderboard screens (Socket.IO, websocket), {JUDGES} judges submitting "
          f"at once for each of {args.teams} teams; PostgreSQL + Redis; gunicorn -w 1 ({args.worker}) per instance; "
          f"{os.cpu_count()} CPUs; clients in one asyncio process on the same machine")
    header = f"{'shape':<6} {'measure':<44} {'samples':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} " \
             f"{'missed':>6} {'peak MB':>8}  note"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.shape:<6} {r.what:<44} {r.samples:>8} {r.p50:>8.1f} {r.p99:>8.1f} {r.worst:>8.1f} "
              f"{r.missed:>6} {r.memory_mb:>8.0f}  {r.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", choices=["one", "two", "both"], default="both")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--worker", choices=["gevent", "threads"], default="gevent",
                        help="gunicorn worker (docs/deploy.md: gevent for the instances serving live screens)")
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--baseline", type=int, default=20, help="baseline messages")
    parser.add_argument("--spread", type=float, default=1.5,
                        help="second half of the teams: each judge submits at a random moment within this many s")
    args = parser.parse_args()
    shapes = ["one", "two"] if args.shape == "both" else [args.shape]
    rows = []
    for shape in shapes:
        rows += run_shape(shape, args)
    print_table(rows, args)


if __name__ == "__main__":
    main()
