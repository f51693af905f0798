"""The live room under a poll: C attendees' phones (Socket.IO, websocket) in an event's live room while every one of
them answers a poll within a few seconds, served the way production serves it.

    .venv/bin/python bench/live_room.py                              # one instance, then two sharing Redis
    .venv/bin/python bench/live_room.py --clients 2000 --within 10 --shape one
    .venv/bin/python bench/live_room.py --clients 500 --vote choice                # the people's choice

For each shape it migrates a fresh PostgreSQL database, creates an event with C confirmed attendees (each with a
bearer token) and its organizer, and an open poll whose results are shown (so every phone and the screen get the
counts); starts gunicorn (APP_ENV=production, one gevent worker per instance, as docs/deploy.md serves live
screens; "two": two instances sharing Redis as the Socket.IO message queue, clients split between them); connects
the C phones and one big screen (the organizer) over websockets and joins them to event:<id>:live; then every phone
answers (POST /api/v1/polls/<id>/answers) at a random moment within `--within` seconds. With `--vote choice`, the
event also holds a competition's live final whose four teams have pitched, every attendee was admitted at the door,
and every phone votes for the people's choice instead (POST /api/v1/rounds/<id>/audience-votes; the count is the
`audience_vote` message's votes_cast).

Vote-to-screen latency of an answer at a client: from the moment the phone sent it to the arrival of the first
`poll` message whose `answers` count reaches the number of answers that had been acknowledged when this one was
(rank of its acknowledgement). Announcements are read after COMMIT and throttled per poll (to the screen
LIVE_ANNOUNCE_MS, `--announce-ms`, 50 ms; to the phones LIVE_PHONES_ANNOUNCE_MS, `--phones-ms`, 250 ms: at once,
then once more with the last count), so a phone sees a few messages a second, not one per vote. The screen joins
with {"screen": true}.
The rule may overstate a latency by the span between a commit and its acknowledgement, never understate it. It
prints p50/p99 for the screen and for every phone, the phones' HTTP latency and errors, whether the database holds
exactly C ballots, and the servers' peak memory (VmHWM, master plus worker). Clients run in one asyncio process
on the same machine, so their own decoding is part of every number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402  (after the path is set)
    BIN,
    REDIS_URL,
    ROOT,
    Server,
    create_postgres_database,
    drop_postgres_database,
    percentile,
    production_env,
    socketio_open_and_join,
)


def prepare_data(env: dict, clients: int) -> dict:
    """Migrate, then an event with `clients` confirmed attendees and an open poll with its results shown."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = f"""
import json
from datetime import timedelta
from app import create_app
from app.db_types import utcnow
from app.extensions import db
from app.accounts.services import create_users, issue_api_token
from events.models import Event, Registration
import sqlalchemy as sa
from checkin.models import Admission
from judging import services as judging
from live.services import peoples_choice, polls

app = create_app()
with app.app_context():
    now = utcnow()
    organizer = create_users(["+8613900000000"], name="王珂", role="organizer", now=now)[0]
    event = Event(kind="salon", status="published", title="技术沙龙：大模型落地", starts_at=now,
                  ends_at=now + timedelta(hours=2), capacity=None, venue="北杨小镇")
    db.session.add(event)
    audience = create_users([f"+86138{{i:08d}}" for i in range({clients})], now=now)
    db.session.flush()
    db.session.add_all(Registration(event_id=event.id, user_id=u.id, status="confirmed", waitlist_seq=i + 1,
                                    confirmed_at=now) for i, u in enumerate(audience))
    poll = polls.create_poll(event.id, organizer, question="下期沙龙的主题？", options=["RAG", "智能体", "端侧模型"],
                             multiple=False, now=now)
    polls.open_poll(poll.id, organizer, now=now)
    polls.show_results(poll.id, organizer, shown=True)
    options = [o.id for o in polls.get_poll(poll.id, organizer).options]
    # The people's choice: a live final held at the event, four teams that all pitched, its audience vote open, and
    # every attendee admitted at the door.
    setup = {{"name": "港科大百万元奖金创业大赛", "rounds": [{{"kind": "final", "name": "决赛", "mode": "live",
             "criteria": [{{"key": "overall", "label": "综合", "weight": 100, "min": 0, "max": 10, "step": 1}}],
             "judges": [{{"phone": "+8613700000001", "name": "评委1"}}]}}],
             "teams": [{{"team_name": f"队伍{{i + 1}}", "project_name": f"项目{{i + 1}}"}} for i in range(4)]}}
    competition, _ = judging.create_setup(setup, organizer, now=now)
    final = competition.rounds[0]
    final.event_id = event.id
    judging.open_round(final.id, organizer, now=now)
    teams = [t.id for t in judging.teams_of(final.id)]
    for team in teams:
        judging.set_stage(final.id, organizer, round_team_id=team, phase="pitch", now=now)
    peoples_choice.open_vote(final.id, organizer, now=now)
    registrations = db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)).all()
    db.session.add_all(Admission(registration_id=r.id, event_id=event.id, first_admitted_at=now, gate="A",
                                 inside=True, entries=1, last_moved_at=now) for r in registrations)
    out = {{"event_id": event.id, "poll_id": poll.id, "options": options, "round_id": final.id, "teams": teams,
           "organizer": issue_api_token(organizer, name="bench", now=now),
           "audience": [issue_api_token(u, name="bench", now=now) for u in audience]}}
    db.session.commit()
    print(json.dumps(out))
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ballots_in_database(env: dict, data: dict, vote: str) -> int:
    """The poll's ballots (-1 when they and its choices differ), or the round's people's-choice votes."""
    script = f"""
import sqlalchemy as sa
from app import create_app
from app.extensions import db
from live.models import AudienceVote, PollBallot, PollChoice
app = create_app()
with app.app_context():
    if {vote!r} == "choice":
        print(db.session.scalar(sa.select(sa.func.count()).select_from(AudienceVote)
                                .where(AudienceVote.round_id == {data["round_id"]})))
    else:
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                                .where(model.poll_id == {data["poll_id"]}))
        ballots, choices = count(PollBallot), count(PollChoice)
        print(ballots if ballots == choices else -1)
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout
    return int(out.strip().splitlines()[-1])


COUNTS = {"poll": "answers", "audience_vote": "votes_cast"}  # what counts the votes in each message


@dataclass
class Phone:
    """One phone (or the big screen): a Socket.IO client in the live room recording each poll message's count and
    arrival. It speaks the protocol directly on aiohttp's websocket (as bench/judging_live.py explains: python-
    socketio's client costs more CPU per message than the server)."""

    url: str
    token: str
    event_id: int
    message: str = "poll"  # the message that carries the count: "poll" (answers) or "audience_vote" (votes_cast)
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (monotonic arrival, answers counted)

    screen: bool = False  # the big screen joins the screen's room (a quicker cadence than the phones')

    async def connect(self, session) -> None:
        join = {"event_id": self.event_id, "screen": True} if self.screen else {"event_id": self.event_id}
        self.ws = await socketio_open_and_join(session, self.url, self.token, "join_live", join)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        import aiohttp

        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            arrived, packet = time.monotonic(), message.data
            if packet == "2":
                await self.ws.send_str("3")
            elif packet.startswith("42["):
                name, payload = json.loads(packet[2:])
                count = payload.get(COUNTS[name]) if name == self.message else None
                if count is not None:
                    self.arrivals.append((arrived, count))

    def seen(self) -> int:
        return max((n for _, n in self.arrivals), default=0)

    async def close(self) -> None:
        await self.ws.close()
        await self.reader


@dataclass
class Vote:
    sent_at: float
    answered_at: float = float("inf")
    status: int = 0


async def vote(session, url: str, token: str, body: dict, delay: float, record: Vote) -> None:
    await asyncio.sleep(delay)
    record.sent_at = time.monotonic()
    try:
        async with session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
            await response.read()
            record.status = 200 if response.status in (200, 201) else response.status
    except Exception:  # a refused connection, a reset: an error of the run
        record.status = -1
    record.answered_at = time.monotonic()


def latencies_at(votes: list[Vote], phones: list[Phone]) -> tuple[list[float], int]:
    """Per (vote, phone): from the vote's send to the first message counting at least its acknowledgement rank."""
    ranked = sorted((v for v in votes if v.status == 200), key=lambda v: v.answered_at)
    result, missed = [], 0
    for rank, record in enumerate(ranked, start=1):
        for phone in phones:
            arrival = next((at for at, counted in phone.arrivals if counted >= rank and at >= record.sent_at), None)
            if arrival is None:
                missed += 1
            else:
                result.append((arrival - record.sent_at) * 1000)
    return result, missed


def screen_apart(url: str, token: str, event_id: int, message: str, pipe) -> None:
    """The big screen in a process of its own, as it is a device of its own: in the phones' process its messages
    wait behind the decoding of every phone's. It says "joined", records until told to stop, then sends back its
    arrivals (time.monotonic() is the system's clock on Linux: the same in both processes)."""

    async def listen() -> None:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            screen = Phone(url, token, event_id, message, screen=True)
            await screen.connect(session)
            pipe.send("joined")
            while not pipe.poll():
                await asyncio.sleep(0.02)
            pipe.recv()
            await screen.close()
            pipe.send(screen.arrivals)

    asyncio.run(listen())


async def measure(servers: list[Server], data: dict, args) -> dict:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        message = "audience_vote" if args.vote == "choice" else "poll"
        phones = [Phone(servers[i % len(servers)].url, token, data["event_id"], message)
                  for i, token in enumerate(data["audience"])]
        screen = Phone(servers[0].url, data["organizer"], data["event_id"], message, screen=True)
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        if args.screen_apart:
            context = multiprocessing.get_context("spawn")
            pipe, child_end = context.Pipe()
            apart = context.Process(target=screen_apart, args=(screen.url, screen.token, screen.event_id, message,
                                                               child_end), daemon=True)
            apart.start()
            await loop.run_in_executor(None, pipe.recv)  # "joined"
        else:
            await screen.connect(session)
        for i in range(0, len(phones), 50):
            await asyncio.gather(*(p.connect(session) for p in phones[i:i + 50]))
        print(f"{len(phones)} phones and the screen joined in {time.monotonic() - started:.1f} s", file=sys.stderr)
        await asyncio.sleep(1.0)
        votes = [Vote(0.0) for _ in phones]
        rng = random.Random(19)
        if args.vote == "choice":
            path = f"/api/v1/rounds/{data['round_id']}/audience-votes"
            bodies = [{"round_team_id": rng.choice(data["teams"])} for _ in phones]
        else:
            path = f"/api/v1/polls/{data['poll_id']}/answers"
            bodies = [{"option_ids": [rng.choice(data["options"])]} for _ in phones]
        urls = [f"{servers[i % len(servers)].url}{path}" for i in range(len(phones))]
        await asyncio.gather(*(vote(session, urls[i], phone.token, bodies[i], rng.uniform(0, args.within),
                                    votes[i]) for i, phone in enumerate(phones)))
        total = len(phones)
        deadline = time.monotonic() + 15
        listening = phones if args.screen_apart else [screen, *phones]
        while time.monotonic() < deadline and min(p.seen() for p in listening) < total:
            await asyncio.sleep(0.05)
        await asyncio.gather(*(p.close() for p in listening), return_exceptions=True)
        if args.screen_apart:
            await asyncio.sleep(0.5)  # its last tally: the screen's cadence is LIVE_ANNOUNCE_MS
            pipe.send("stop")
            screen.arrivals = await loop.run_in_executor(None, pipe.recv)
            apart.join(timeout=10)
    http = [(v.answered_at - v.sent_at) * 1000 for v in votes if v.status == 200]
    to_screen, screen_missed = latencies_at(votes, [screen])
    to_phones, phones_missed = latencies_at(votes, phones)
    return {"http": http, "errors": sum(1 for v in votes if v.status != 200), "to_screen": to_screen,
            "screen_missed": screen_missed, "to_phones": to_phones, "phones_missed": phones_missed,
            "messages_per_phone": sum(len(p.arrivals) for p in phones) / max(1, len(phones)),
            "final_on_every_phone": sum(1 for p in phones if p.seen() == total)}


def run_shape(shape: str, args) -> dict:
    instances = 2 if shape == "two" else 1
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        tmp_path = Path(tmp)
        name, url = create_postgres_database()
        env = production_env(url, REDIS_URL if instances > 1 or args.redis else None, tmp_path / "instance")
        env["LIVE_ANNOUNCE_MS"], env["LIVE_PHONES_ANNOUNCE_MS"] = str(args.announce_ms), str(args.phones_ms)
        servers: list[Server] = []
        try:
            print(f"[{shape}] preparing an event with {args.clients} attendees and an open poll …", file=sys.stderr)
            data = prepare_data(env, args.clients)
            servers = [Server(env, args.clients // instances + args.http_connections, tmp_path / f"gunicorn-{i}.log",
                              "gevent")
                       for i in range(instances)]
            for server in servers:
                server.wait_ready()
            result = asyncio.run(measure(servers, data, args))
            result["memory"] = [s.peak_memory_mb() for s in servers]
            result["ballots"] = ballots_in_database(env, data, args.vote)
        finally:
            for server in servers:
                server.stop()
            drop_postgres_database(name)
    result["shape"] = shape
    return result


def print_table(results: list[dict], args) -> None:
    what = "votes for the people's choice" if args.vote == "choice" else "answers one poll"
    print(f"\nlive room: {args.clients} phones (Socket.IO, websocket) + 1 big screen in the live room; every phone "
          f"{what} within {args.within:g} s; tally announced at most every {args.announce_ms} ms to the screen, "
          f"{args.phones_ms} ms to the phones (across instances, through Redis); PostgreSQL (+ Redis for two); "
          f"gunicorn -w 1 (gevent, {args.http_connections} connections beyond the phones') per instance; "
          f"{os.cpu_count()} CPUs; clients in one asyncio process on the same "
          f"machine (the big screen {'in a process of its own' if args.screen_apart else 'in the same process'}); "
          f"load average before the run {args.load_before}")
    header = f"{'shape':<6} {'measure':<28} {'samples':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'missed':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        post = "phone POST /audience-votes" if args.vote == "choice" else "phone POST /answers"
        for label, values, missed in ((post, r["http"], r["errors"]),
                                      ("vote -> big screen", r["to_screen"], r["screen_missed"]),
                                      ("vote -> every phone", r["to_phones"], r["phones_missed"])):
            print(f"{r['shape']:<6} {label:<28} {len(values):>8} {percentile(values, 50):>8.1f} "
                  f"{percentile(values, 99):>8.1f} {max(values, default=float('nan')):>8.1f} {missed:>7}")
        rows = "votes" if args.vote == "choice" else "ballots"
        print(f"{r['shape']:<6} {rows} in the database: {r['ballots']} of {args.clients} "
              f"({'exactly once' if r['ballots'] == args.clients else 'WRONG'}); errors {r['errors']}; "
              f"{r['final_on_every_phone']}/{args.clients} phones show the final count; "
              f"{r['messages_per_phone']:.1f} tally messages per phone; peak memory per instance "
              + ", ".join(f"{m:.0f} MB" for m in r["memory"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", choices=["one", "two", "both"], default="both")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--within", type=float, default=10.0, help="every phone answers within this many seconds")
    parser.add_argument("--redis", action="store_true", help="one instance also uses Redis (as production does)")
    parser.add_argument("--vote", choices=["poll", "choice"], default="poll",
                        help="what the phones do: answer a poll, or vote for the people's choice")
    parser.add_argument("--http-connections", type=int, default=1000,
                        help="connections each instance accepts beyond its phones' websockets (gevent's "
                             "--worker-connections, docs/deploy.md): once the phones' requests need more at once, the "
                             "others wait in the backlog while idle keep-alive connections hold the slots (2 s each)")
    parser.add_argument("--screen-with-phones", dest="screen_apart", action="store_false",
                        help="the big screen's client in the phones' process (before: its messages then wait behind "
                             "every phone's decoding); by default it listens in a process of its own")
    parser.add_argument("--announce-ms", type=int, default=50,
                        help="LIVE_ANNOUNCE_MS of the servers: the tally reaches the screen at most this often")
    parser.add_argument("--phones-ms", type=int, default=250,
                        help="LIVE_PHONES_ANNOUNCE_MS of the servers: the tally reaches the phones at most this often")
    args = parser.parse_args()
    args.load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    shapes = ["one", "two"] if args.shape == "both" else [args.shape]
    print_table([run_shape(shape, args) for shape in shapes], args)


if __name__ == "__main__":
    main()
