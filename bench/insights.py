"""Insights at the town's scale: every insights endpoint beside the event's plain JSON read, in the same run.

    .venv/bin/python bench/insights.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/insights.py --database sqlite --requests 100

The data (through the services where they hold a rule, bulk rows where they are only history): 500 events over the
last twelve months (salons, roadshow days, competitions), the big one with 10,000 registrations (confirmed,
waitlisted, cancelled, over three weeks) and 50,000 scans at four gates (8,000 first admissions, the rest repeated
and refused scans), 10,000 more registrations spread over the other events (three in four checked in), 2,000
announcement messages with their deliveries, and a competition round of 30 teams scored by 7 judges. 40 weekly series
hold 240 of the events (the big one is in the first); people belong to 300 companies (one in seven gave none); a
mentoring cycle has 600 founders matched to 100 mentors, with office hours and feedback.

Against one gunicorn worker (production settings, 8 threads), each endpoint is read `--requests` times, one at a
time, interleaved with the others so that all see the same machine: the event's plain JSON read
(/api/v1/events/<id>), its sign-ups (with companies) and arrivals, its series, the round's judges, the town, an
announcement's reach over time, a mentoring cycle. It prints p50 / p99 per endpoint; the exit status is 1 when an
insights endpoint's p99 is 300 ms or more.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import BIN, Server, percentile, production_database  # noqa: E402

LIMIT_MS = 300.0

SEED = r"""
import json, random, uuid
from datetime import timedelta
import sqlalchemy as sa
from app import create_app
from app.db_types import utcnow
from app.extensions import db
from app.accounts.services import create_users, issue_api_token
from checkin.models import Admission, Scan
from events.models import Event, EventSeries, Registration
from mentoring.models import Booking, Feedback, MentoringCycle, MentorMatch, MentorProfile, OfficeHourSlot
from notifications.models import Announcement, Delivery, Notification

PEOPLE, EVENTS, BIG, SCANS, ADMITTED = {people}, {events}, {big}, {scans}, {admitted}
SERIES, MENTORS, FOUNDERS = 40, 100, 600
rng = random.Random(21)
app = create_app()
with app.app_context():
    now = utcnow()
    admin = create_users(["+8613900000000"], name="镇管理员", role="admin", now=now)[0]
    users = create_users([f"+86138{{i:08d}}" for i in range(PEOPLE)], name="居民", now=now)
    db.session.flush()
    for i, user in enumerate(users):
        user.persona = ("founder", "investor", "engineer", "other")[i % 4]
        user.company = "" if i % 7 == 0 else f"公司{{rng.randint(1, 300):03d}}"
    db.session.commit()
    ids = [u.id for u in users]

    def add_events(rows):
        return list(db.session.scalars(sa.insert(Event).returning(Event.id), rows))

    series = list(db.session.scalars(sa.insert(EventSeries).returning(EventSeries.id), [
        dict(title=f"周四技术沙龙 {{n}}", rrule="FREQ=WEEKLY;BYDAY=TH", created_at=now) for n in range(SERIES)]))
    start = now + timedelta(minutes=30)
    big = add_events([dict(kind="salon", status="published", title="模速路演日：年度大会", starts_at=start,
                           ends_at=start + timedelta(hours=4), capacity=9000, seats_taken=9000,
                           series_id=series[0])])[0]
    others = []
    for n in range(EVENTS - 1):
        at = now - timedelta(days=rng.uniform(1, 360))
        others.append(dict(kind=rng.choice(("salon", "salon", "roadshow", "competition", "other")),
                           status="published", title=f"技术沙龙 {{n}}", starts_at=at, ends_at=at + timedelta(hours=2),
                           capacity=None, series_id=series[n % SERIES] if n < SERIES * 6 else None))
    other_ids = add_events(others)
    starts = {{e: row["starts_at"] for e, row in zip(other_ids, others)}}

    rows = []
    for seq, user_id in enumerate(ids[:BIG], start=1):
        created = now - timedelta(days=21) + timedelta(seconds=rng.uniform(0, 20 * 86400))
        status = "confirmed" if seq <= 9000 else rng.choice(("waitlisted", "cancelled"))
        rows.append(dict(event_id=big, user_id=user_id, status=status, waitlist_seq=seq, answers={{}},
                         created_at=created, confirmed_at=created if status == "confirmed" else None,
                         cancelled_at=created + timedelta(days=1) if status == "cancelled" else None))
    db.session.execute(sa.insert(Registration), rows)
    big_regs = db.session.execute(sa.select(Registration.id).where(Registration.event_id == big,
                                  Registration.status == "confirmed").order_by(Registration.id)).scalars().all()
    rows = []
    per_event = max(1, BIG // max(1, EVENTS - 1))
    for event_id in other_ids:
        for seq, user_id in enumerate(rng.sample(ids, per_event), start=1):
            rows.append(dict(event_id=event_id, user_id=user_id, status="confirmed", waitlist_seq=seq, answers={{}},
                             created_at=starts[event_id] - timedelta(days=rng.choice((0.5, 2, 5, 10, 20))),
                             confirmed_at=starts[event_id] - timedelta(days=3),
                             checked_in_at=starts[event_id] if rng.random() < 0.75 else None))
    db.session.execute(sa.insert(Registration), rows)

    gates = ("A", "B", "C", "D")
    doors = start - timedelta(hours=2)
    scans, admissions = [], []
    for n in range(SCANS):
        registration_id = big_regs[n % len(big_regs)]
        first = n < ADMITTED
        at = doors + timedelta(seconds=rng.uniform(0, 7200 if first else 9000))
        scans.append(dict(event_id=big, scan_id=uuid.uuid4().hex, registration_id=registration_id,
                          gate=rng.choice(gates), result="admitted" if first else "already_admitted",
                          scanned_at=at, received_at=at))
        if first:
            admissions.append(dict(registration_id=registration_id, event_id=big, first_admitted_at=at,
                                   gate=rng.choice(gates), last_moved_at=at))
    db.session.execute(sa.insert(Scan), scans)
    db.session.execute(sa.insert(Admission), admissions)
    db.session.execute(sa.update(Registration).where(Registration.id.in_([a["registration_id"] for a in admissions]))
                       .values(checked_in_at=doors))

    # An announcement of two days ago: written over its first hour, read and delivered over the next day and a half.
    written = now - timedelta(days=2)
    announcement = Announcement(title="小镇通知", status="done", created_at=written, segment={{"kind": "all"}})
    db.session.add(announcement)
    db.session.flush()
    note_rows = [dict(user_id=user_id, category="announcement", kind="announcement", title="小镇通知",
                      dedupe_key=f"announcement:{{announcement.id}}", announcement_id=announcement.id,
                      created_at=written + timedelta(seconds=rng.uniform(0, 3600)))
                 for user_id in ids[:2000]]
    for row in note_rows:
        row["read_at"] = row["created_at"] + timedelta(hours=rng.uniform(0, 36)) if rng.random() < 0.4 else None
    notes = list(db.session.scalars(sa.insert(Notification).returning(Notification.id), note_rows))
    deliveries = []
    for note, row in zip(notes, note_rows):
        for channel in ("webpush", "sms"):
            status = rng.choice(("sent", "sent", "failed", "skipped"))
            settled = row["created_at"] + timedelta(minutes=rng.uniform(1, 600))
            deliveries.append(dict(notification_id=note, channel=channel, status=status, created_at=row["created_at"],
                                   sent_at=settled if status == "sent" else None, next_attempt_at=settled))
    db.session.execute(sa.insert(Delivery), deliveries)
    token = issue_api_token(admin, name="bench", now=now)
    db.session.commit()

    from judging import services as judging
    payload = {{"name": "港科大百万元奖金创业大赛", "prize_pool_yuan": 1000000,
               "tracks": [{{"key": "ai", "label": "AI+制造"}}],
               "rounds": [{{"kind": "preliminary", "name": "初赛", "mode": "online",
                           "criteria": [{{"key": k, "label": k, "weight": w, "min": 0, "max": 10, "step": 0.5}}
                                        for k, w in (("a", 40), ("b", 30), ("c", 30))],
                           "judges": [{{"phone": f"+8613700000{{j:03d}}", "name": f"评委{{j}}"}}
                                      for j in range(1, 8)]}}],
               "teams": [{{"team_name": f"队伍{{i}}", "track": "ai", "project_name": f"项目{{i}}",
                          "members": [{{"name": f"队长{{i}}", "phone": f"+86136000{{i:05d}}"}}]}} for i in range(30)]}}
    competition, _ = judging.create_setup(payload, admin, now=now)
    db.session.commit()
    round_ = competition.rounds[0]
    judging.open_round(round_.id, admin, now=now)
    db.session.commit()
    from app.accounts.models import User
    for judge in judging.judges_of(round_.id):
        user = db.session.get(User, judge.user_id)
        for team in judging.teams_of(round_.id):
            judging.submit_score(round_.id, user, round_team_id=team.id, submission_id=uuid.uuid4().hex,
                                 base_revision=0, scores={{k: rng.choice([x / 2 for x in range(21)]) for k in "abc"}},
                                 now=now)
        db.session.commit()

    # A mentoring cycle: 100 mentors (capacity 3 to 8), 600 founders, a match each (a tenth declined), office hours
    # for the live ones, feedback from both sides.
    cycle = MentoringCycle(name="2026 冬季导师匹配", status="published", created_at=now, updated_at=now)
    db.session.add(cycle)
    db.session.flush()
    mentor_ids, founder_ids = ids[-MENTORS:], ids[-MENTORS - FOUNDERS:-MENTORS]
    db.session.execute(sa.insert(MentorProfile), [dict(user_id=m, capacity=rng.randint(3, 8), expertise=[],
                                                       industries=[], stages=[], languages=["zh"]) for m in mentor_ids])
    match_rows = [dict(cycle_id=cycle.id, founder_id=f, mentor_id=rng.choice(mentor_ids), score=rng.randint(0, 60),
                       status="declined" if rng.random() < 0.1 else rng.choice(("offered", "accepted", "accepted")),
                       reasons={{}}, created_at=now) for f in founder_ids]
    match_ids = list(db.session.scalars(sa.insert(MentorMatch).returning(MentorMatch.id), match_rows))
    slots, bookings = [], []
    for n, (match_id, row) in enumerate(zip(match_ids, match_rows)):
        if row["status"] == "declined":
            continue
        at = now - timedelta(days=30) + timedelta(minutes=30 * n)
        slots.append(dict(mentor_id=row["mentor_id"], starts_at=at, ends_at=at + timedelta(minutes=30),
                          booked_by_id=row["founder_id"]))
        bookings.append(dict(match_id=match_id, founder_id=row["founder_id"], mentor_id=row["mentor_id"],
                             status="booked" if rng.random() < 0.9 else "cancelled", topic="", created_at=at,
                             updated_at=at))
    slot_ids = list(db.session.scalars(sa.insert(OfficeHourSlot).returning(OfficeHourSlot.id), slots))
    for booking, slot_id in zip(bookings, slot_ids):
        booking["slot_id"] = slot_id
    booking_ids = list(db.session.scalars(sa.insert(Booking).returning(Booking.id), bookings))
    db.session.execute(sa.insert(Feedback), [
        dict(booking_id=b, author_id=who, rating=rng.randint(1, 5), comment="", shared=False, created_at=now)
        for b, row in zip(booking_ids, bookings) for who in (row["founder_id"], row["mentor_id"])
        if rng.random() < 0.7])
    db.session.commit()
    print(json.dumps({{"event": big, "round": round_.id, "token": token, "announcement": announcement.id,
                      "cycle": cycle.id}}))
"""


def prepare(env: dict, args) -> dict:
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = SEED.format(people=args.people, events=args.events, big=args.registrations, scans=args.scans,
                         admitted=args.admitted)
    out = subprocess.run([str(BIN / "python"), "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"preparing the data failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_get(url: str, token: str) -> float:
    request = urllib.request.Request(url, headers={  # noqa: S310 (http on localhost)
        "Authorization": f"Bearer {token}", "Accept": "application/json", "Accept-Encoding": "identity"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (http on localhost)
            answer.read()
    except urllib.error.HTTPError as refused:
        raise SystemExit(f"{url}: {refused.code} {refused.read()[:500]!r}") from None
    return (time.perf_counter() - started) * 1000


def run_database(kind: str, args) -> list[tuple]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        with production_database(kind, tmp_path) as env:
            print(f"[{kind}] preparing {args.events} events, {args.registrations} + {args.registrations} "
                  f"registrations, {args.scans} scans …", file=sys.stderr)
            started = time.monotonic()
            ids = prepare(env, args)
            print(f"[{kind}] prepared in {time.monotonic() - started:.0f} s", file=sys.stderr)
            server = Server(env, 8, tmp_path / "gunicorn.log")
            try:
                server.wait_ready()
                endpoints = {
                    "event (plain JSON)": f"/api/v1/events/{ids['event']}",
                    "sign-ups": f"/api/v1/events/{ids['event']}/insights/signups",
                    "arrivals": f"/api/v1/events/{ids['event']}/insights/arrivals",
                    "judges": f"/api/v1/rounds/{ids['round']}/insights/judges",
                    "town": "/api/v1/insights/town",
                    "series": f"/api/v1/events/{ids['event']}/insights/series",
                    "reach": f"/api/v1/announcements/{ids['announcement']}/insights/reach",
                    "mentoring cycle": f"/api/v1/mentoring/cycles/{ids['cycle']}/insights",
                }
                for path in endpoints.values():  # warm: connections, caches, the first compile of each query
                    for _ in range(3):
                        timed_get(server.url + path, ids["token"])
                times = {name: [] for name in endpoints}
                for _ in range(args.requests):
                    for name, path in endpoints.items():
                        times[name].append(timed_get(server.url + path, ids["token"]))
            finally:
                server.stop()
    return [(kind, name, percentile(values, 50), percentile(values, 99)) for name, values in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--registrations", type=int, default=10_000, help="of the big event (as many elsewhere)")
    parser.add_argument("--scans", type=int, default=50_000)
    parser.add_argument("--admitted", type=int, default=8_000, help="first admissions among the scans")
    parser.add_argument("--requests", type=int, default=200, help="reads of each endpoint")
    args = parser.parse_args()
    rows = []
    for kind in (["sqlite", "postgres"] if args.database == "both" else [args.database]):
        rows += run_database(kind, args)
    print(f"\ninsights: {args.events} events, {args.registrations} registrations and {args.scans} scans at the big "
          f"event, {args.requests} reads each, one at a time; gunicorn -w 1 --threads 8; {os.cpu_count()} CPUs")
    header = f"{'database':<9} {'endpoint':<20} {'p50 ms':>8} {'p99 ms':>8}  {'x plain p99':>11}"
    print(header)
    print("-" * len(header))
    failed = False
    plain = {kind: p99 for kind, name, _, p99 in rows if name == "event (plain JSON)"}
    for kind, name, p50, p99 in rows:
        over = name != "event (plain JSON)" and p99 >= LIMIT_MS
        failed |= over
        print(f"{kind:<9} {name:<20} {p50:>8.1f} {p99:>8.1f}  {p99 / plain[kind]:>10.1f}x"
              f"{'  over ' + str(int(LIMIT_MS)) + ' ms' if over else ''}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
