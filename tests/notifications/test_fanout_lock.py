"""One worker fans an announcement out at a time, and a dead one is taken over at once (issue 16): the fan-out is held
by a lock that dies with its process (an advisory lock on PostgreSQL, a file lock on SQLite), not by a lease that
would make the next worker wait for it to run out. The dead holder here is a real process, killed with SIGKILL
while it holds the lock."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from notifications import announcements, tasks
from notifications.locks import fanout_lock
from notifications.models import Announcement, Notification

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2030, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
HOLDER = """
import sys, time
from app import create_app
from notifications.locks import fanout_lock
from tests.conftest import make_config

app = create_app(make_config(sys.argv[1]))
with app.app_context(), fanout_lock(int(sys.argv[2])) as held:
    print("held" if held else "busy", flush=True)
    time.sleep(300)
"""


def announcement_to_all(organizer, monkeypatch, now):
    fan_out_later = tasks.fan_out_announcement
    monkeypatch.setattr(tasks, "fan_out_announcement", lambda announcement_id: None)
    announcement = announcements.create_announcement(organizer, segment={"kind": "all"}, title="停水通知",
                                                     body="周六 9 点至 12 点停水。", now=now)
    db.session.commit()
    monkeypatch.setattr(tasks, "fan_out_announcement", fan_out_later)
    return announcement.id


def inbox_rows(announcement_id):
    db.session.expire_all()
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.announcement_id == announcement_id))
    db.session.rollback()
    return rows


def test_a_live_holder_keeps_the_fan_out_to_itself(app, organizer, create_resident, monkeypatch):
    for i in range(3):
        create_resident(name=f"居民{i}")
    announcement_id = announcement_to_all(organizer, monkeypatch, NOW)
    with fanout_lock(announcement_id) as held:  # another worker (its own connection or open file)
        assert held
        assert announcements.fan_out(announcement_id) == 0
        assert inbox_rows(announcement_id) == 0
    assert announcements.fan_out(announcement_id) == 4  # released: the next run takes it
    assert db.session.get(Announcement, announcement_id).status == "sent"


def test_a_killed_holder_is_taken_over_at_once(app, database_url, organizer, create_resident, monkeypatch):
    for i in range(3):
        create_resident(name=f"居民{i}")
    announcement_id = announcement_to_all(organizer, monkeypatch, NOW)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url, str(announcement_id)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert tasks.resume_announcements().get() == 1  # the sweep tries: the holder is alive, so it leaves it alone
        assert inbox_rows(announcement_id) == 0
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        holder.stdout.close()

    started = time.monotonic()
    assert tasks.resume_announcements().get() == 1  # a starting worker's first job (and the every-minute sweep)
    took = time.monotonic() - started
    print(f"fan-out taken over {took:.2f} s after the holder was killed")
    assert inbox_rows(announcement_id) == 4
    db.session.expire_all()
    assert db.session.get(Announcement, announcement_id).status == "sent"
    assert took < 5  # nothing waited for a lease to run out
