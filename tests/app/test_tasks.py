"""Background work: jobs start only after their transaction commits, and run on the configured queue."""

import uuid

import pytest
import sqlalchemy as sa

from app import tasks
from app.accounts.models import DevSmsMessage
from app.accounts.tasks import send_sms
from app.after_commit import run_after_commit
from app.extensions import db
from tests import services


def test_side_effects_run_after_commit(app):
    seen = []
    run_after_commit(lambda: seen.append("sent"))
    assert seen == []
    db.session.commit()
    assert seen == ["sent"]


def test_side_effects_are_dropped_on_rollback(app):
    seen = []
    run_after_commit(lambda: seen.append("sent"))
    db.session.rollback()
    db.session.commit()
    assert seen == []


def test_a_failing_side_effect_does_not_stop_the_others(app):
    seen = []
    run_after_commit(lambda: 1 / 0)
    run_after_commit(lambda: seen.append("still sent"))
    db.session.commit()
    assert seen == ["still sent"]


@pytest.fixture
def restore_queue():
    yield
    tasks.huey.immediate = False
    tasks.huey.immediate = True


def run_queued_tasks() -> int:
    count = 0
    while (task := tasks.huey.dequeue()) is not None:
        tasks.huey.execute(task)
        count += 1
    return count


def test_the_embedded_queue_keeps_jobs_in_sqlite_until_a_worker_runs_them(app, app_config, tmp_path,
                                                                         restore_queue):
    app.config.update(TASK_QUEUE="embedded")
    app.instance_path = str(tmp_path)
    tasks.init_app(app)
    tasks.enqueue_after_commit(send_sms, "+8613812345678", "你好")
    db.session.commit()
    assert (tmp_path / "tasks.sqlite3").exists()
    assert tasks.huey.pending_count() == 1
    assert run_queued_tasks() == 1
    assert db.session.scalars(sa.select(DevSmsMessage.body)).all() == ["你好"]


@pytest.mark.redis
def test_the_redis_queue_carries_jobs_to_a_separate_worker(app, restore_queue):
    problem = services.redis_available()
    if problem:
        services.service_missing("Redis", problem)
    app.config.update(TASK_QUEUE="redis", REDIS_URL=services.REDIS_URL,
                      TASK_QUEUE_NAME=f"beiyang-test-{uuid.uuid4().hex}")
    tasks.init_app(app)
    try:
        tasks.enqueue_after_commit(send_sms, "+8613812345678", "来自 Redis")
        db.session.commit()
        assert tasks.huey.pending_count() == 1
        assert run_queued_tasks() == 1
        assert db.session.scalars(sa.select(DevSmsMessage.body)).all() == ["来自 Redis"]
    finally:
        tasks.huey.storage.flush_all()
