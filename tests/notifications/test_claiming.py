"""Several workers claim due deliveries at the same moment (real threads, each with its own connection, on SQLite
and, with TEST_DATABASE=postgres, PostgreSQL): every delivery is claimed by exactly one of them."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from notifications import services
from notifications.models import Delivery, Notification

WORKERS, DELIVERIES = 6, 600


def test_parallel_workers_never_claim_the_same_delivery(app, create_resident):
    person = create_resident()
    now = utcnow()
    for i in range(DELIVERIES):
        notification = Notification(user_id=person.id, category="announcements", kind="announcement", title="t",
                                    dedupe_key=f"k{i}", created_at=now)
        db.session.add(notification)
        db.session.flush()
        db.session.add(Delivery(notification_id=notification.id, channel="webpush", next_attempt_at=now))
    db.session.commit()

    barrier = threading.Barrier(WORKERS)
    claimed: list[list[int]] = [[] for _ in range(WORKERS)]

    def worker(index: int):
        with app.app_context():
            barrier.wait(timeout=30)
            while True:
                for _attempt in range(20):
                    try:
                        _token, rows = services.claim_due_deliveries(now=utcnow(), limit=25, lease_seconds=60)
                        ids = [row.id for row in rows]
                        db.session.commit()
                        break
                    except sa.exc.OperationalError:  # SQLite: "database is locked" past the busy timeout
                        db.session.rollback()
                else:
                    raise AssertionError("could not claim")
                if not ids:
                    break
                claimed[index].extend(ids)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = [i for ids in claimed for i in ids]
    assert len(every) == DELIVERIES and len(set(every)) == DELIVERIES  # all claimed, none twice
    assert sum(1 for ids in claimed if ids) >= 2  # the work was really shared
    db.session.expire_all()
    leased = db.session.scalars(sa.select(Delivery.next_attempt_at)).all()
    assert all(at > utcnow() + timedelta(seconds=30) for at in leased)  # each under a lease
    assert set(db.session.scalars(sa.select(Delivery.attempts))) == {1}
