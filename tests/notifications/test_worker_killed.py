"""Kill the worker (SIGKILL) in the middle of an announcement's fan-out to many residents, start it again: every
resident ends with exactly one inbox message, and every push is delivered (at least once: the payload's id lets the
service worker drop a repeat). Real processes: `flask --app app worker` on the test's database, a push service on
127.0.0.1 answering after 50 ms; 1,000 residents in chunks of 5, so that the kill lands while inbox rows are still
being written and the first deliveries are claimed (leased) and in flight."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from notifications import announcements, tasks
from notifications.models import Announcement, Delivery, Notification, NotificationSettings, PushSubscription
from tests.notifications.pushservice import BrowserKeys, PushService

pytestmark = pytest.mark.integration
RESIDENTS = 1000
LEASE_SECONDS, CHUNK = 10, 5
STARTED = "Huey consumer started"
ROOT = Path(__file__).resolve().parents[2]


def start_worker(database_url, instance, vapid_keys, log):
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
           "TASK_QUEUE": "embedded", "SECRET_KEY": "test-secret-key-not-for-production", "DEMO_MODE": "0",
           "VAPID_PRIVATE_KEY": vapid_keys[0], "VAPID_PUBLIC_KEY": vapid_keys[1],
           "PUBLIC_BASE_URL": "https://events.beiyang.test", "NOTIFICATIONS_LEASE_SECONDS": str(LEASE_SECONDS),
           "NOTIFICATIONS_FANOUT_CHUNK": str(CHUNK), "NOTIFICATIONS_BATCH": "10", "NOTIFICATIONS_SEND_CONCURRENCY": "4",
           "NOTIFICATIONS_ALLOW_INSECURE_PUSH_FOR_TESTS": "1"}  # the push service on 127.0.0.1
    env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "2"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def count(query):
    db.session.expire_all()
    value = db.session.scalar(query)
    db.session.rollback()  # no snapshot held while the worker writes
    return value


def wait_for(condition, timeout, what, log_path, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{log_path.read_text()[-4000:]}")


def test_a_killed_worker_loses_no_message_and_doubles_none(app, database_url, organizer, create_resident,
                                                           vapid_keys, tmp_path, monkeypatch):
    from app.accounts.models import User

    now = utcnow()
    users = [User(phone=f"+8613700{i:06d}", name=f"居民{i}", profile_completed_at=now) for i in range(RESIDENTS)]
    db.session.add_all(users)
    db.session.flush()
    keys = {user.id: BrowserKeys() for user in users}
    with PushService(delay=0.05) as push:
        for user in users:
            db.session.add(NotificationSettings(user_id=user.id, quiet_hours_enabled=False))
            db.session.add(PushSubscription(user_id=user.id, endpoint=push.endpoint(f"u{user.id}"),
                                            p256dh=keys[user.id].p256dh, auth=keys[user.id].auth))
        db.session.commit()
        monkeypatch.setattr(tasks, "fan_out_announcement", lambda announcement_id: None)  # the worker does it
        announcement = announcements.create_announcement(organizer, segment={"kind": "all"}, title="小镇公告",
                                                         body="明早 8 点消防演练。", now=utcnow())
        db.session.commit()
        announcement_id = announcement.id
        webpush_done = (sa.select(sa.func.count()).select_from(Delivery).join(Notification)
                        .where(Notification.announcement_id == announcement_id, Delivery.channel == "webpush",
                               Delivery.status == "sent"))

        log_path = tmp_path / "worker.log"
        with log_path.open("ab") as log:
            worker = start_worker(database_url, tmp_path / "instance", vapid_keys, log)
            try:
                written = (sa.select(sa.func.count()).select_from(Notification)
                           .where(Notification.announcement_id == announcement_id))
                claimed = (sa.select(sa.func.count()).select_from(Delivery).join(Notification)
                           .where(Notification.announcement_id == announcement_id, Delivery.attempts > 0))
                wait_for(lambda: count(written) >= 50 and count(claimed) >= 1, 60,
                         "the fan-out under way and the first pushes", log_path, every=0.02)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
            finally:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGKILL)
            rows_at_kill = count(written)
            sent_at_kill = count(webpush_done)
            claimed_at_kill = count(claimed)
            in_flight_at_kill = count(sa.select(sa.func.count()).select_from(Delivery).join(Notification).where(
                Notification.announcement_id == announcement_id, Delivery.attempts > 0, Delivery.status == "pending"))
            cursor_at_kill = count(sa.select(Announcement.cursor).where(Announcement.id == announcement_id))
            # the round in flight: rows written past the cursor, which the next worker writes again (inserting nothing)
            past_cursor_at_kill = count(sa.select(sa.func.count()).select_from(Notification).where(
                Notification.announcement_id == announcement_id, Notification.user_id > cursor_at_kill))
            assert 0 < rows_at_kill < RESIDENTS + 1, "the kill did not land in the middle of the fan-out"
            assert count(sa.select(Announcement.status).where(Announcement.id == announcement_id)) == "sending"
            assert sent_at_kill < rows_at_kill

            restarted = time.monotonic()
            worker = start_worker(database_url, tmp_path / "instance", vapid_keys, log)
            try:
                # the new worker is up when it says so (its start alone takes seconds on a loaded machine)
                wait_for(lambda: log_path.read_text().count(STARTED) == 2, 120, "the new worker", log_path, every=0.05)
                up = time.monotonic()
                wait_for(lambda: count(written) > rows_at_kill, 60, "the fan-out resumed", log_path, every=0.05)
                resume_delay, start_delay = time.monotonic() - up, up - restarted
                wait_for(lambda: count(webpush_done) == RESIDENTS, 120, "every push after the restart", log_path)
            finally:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)

    db.session.expire_all()
    assert db.session.get(Announcement, announcement_id).status == "sent"
    per_person = dict(db.session.execute(
        sa.select(Notification.user_id, sa.func.count()).where(Notification.announcement_id == announcement_id)
        .group_by(Notification.user_id)).all())
    assert per_person == {user_id: 1 for user_id in [organizer.id] + [u.id for u in users]}  # exactly one each
    message_of = dict(db.session.execute(sa.select(Notification.user_id, Notification.id).where(
        Notification.announcement_id == announcement_id)).all())
    for user in users:
        received = push.bodies_for(f"u{user.id}")
        assert received, f"resident {user.id} got no push"
        assert {keys[user.id].decrypt(r["body"])["id"] for r in received} == {message_of[user.id]}
    repeats = len(push.received) - RESIDENTS
    print(f"inbox rows at kill {rows_at_kill} of {RESIDENTS + 1} (cursor {cursor_at_kill}, {past_cursor_at_kill} "
          f"past it), pushes sent at kill {sent_at_kill}, deliveries claimed at kill {claimed_at_kill} "
          f"({in_flight_at_kill} in flight), repeated pushes {repeats}, fan-out resumed {resume_delay:.1f} s "
          f"after the new worker was up ({start_delay:.1f} s after its start)")
    # The fan-out resumes as soon as the new worker is up, not when the dead one's lease (10 s here) would have
    # ended: the lock it held died with it (notifications.announcements.fanout_lock).
    assert resume_delay < LEASE_SECONDS / 2, f"the fan-out resumed only {resume_delay:.1f} s after the worker was up"
    # At most the round in flight is written again (one round: NOTIFICATIONS_FANOUT_PARALLEL chunks on PostgreSQL,
    # one on SQLite), and only the pushes in flight at the kill are sent twice.
    assert past_cursor_at_kill <= CHUNK * 4
    assert repeats <= in_flight_at_kill
