"""app.group_commit on its own: requests of one key queue, the first leads, the batch is decided and committed
together, the next batch is handed to the first one still waiting; a batch is at most `max_batch` long; when
deciding or committing fails, nothing of the batch is kept and each item forgets its outcome (to be decided alone),
and the queue goes on. The sign-up and scan batches are tested through their own rules elsewhere."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.group_commit import GroupCommit, Waiting

WAIT = 10  # seconds: generous, only ever reached when the code under test hangs


@dataclass(eq=False, kw_only=True)
class Probe(Waiting):
    value: int
    outcome: str | None = None
    forgotten: bool = False

    def forget(self) -> None:
        self.outcome = None
        self.forgotten = True


@pytest.fixture
def probe_table(app):
    with db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE group_commit_probe (value INTEGER NOT NULL)"))
    yield
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE group_commit_probe"))


def stored_values() -> list[int]:
    with db.engine.connect() as conn:
        return sorted(conn.scalars(sa.text("SELECT value FROM group_commit_probe")))


class Recorder:
    """A decide function that writes each item's value, records the batches it saw, can be held at its start
    (to let others queue behind a leader) and made to fail for a given value."""

    def __init__(self, *, fail_on: int | None = None, fail_commit: bool = False, hold_only: str | None = None):
        self.batches: list[list[int]] = []
        self.hold_only = hold_only  # hold only the batches of this key (None: of every key)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail_on = fail_on
        self.fail_commit = fail_commit

    def __call__(self, key, batch: list[Probe]) -> bool:
        self.batches.append([item.value for item in batch])
        self.entered.set()
        if self.hold_only in (None, key):
            assert self.release.wait(WAIT)
        for item in batch:
            db.session.execute(sa.text("INSERT INTO group_commit_probe (value) VALUES (:v)"), {"v": item.value})
            if item.value == self.fail_on:
                raise RuntimeError("this member's decision fails")
            item.outcome = f"stored {item.value}"
        if self.fail_commit:
            db.session.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))  # fails: the commit never happens
        return True


def join_in_thread(app, group: GroupCommit, key, item: Probe, results: dict) -> threading.Thread:
    def run():
        with app.app_context():
            results[item.value] = group.join(key, item)
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def queue_behind_a_held_leader(app, group, recorder, values, *, key="event-1"):
    """Start a leader that is held inside decide, queue `values` behind it in order, then release it."""
    results: dict[int, bool] = {}
    recorder.release.clear()
    threads = [join_in_thread(app, group, key, Probe(value=0), results)]
    assert recorder.entered.wait(WAIT)
    items = []
    for value in values:
        item = Probe(value=value)
        items.append(item)
        threads.append(join_in_thread(app, group, key, item, results))
        wait_until(lambda n=len(items): queued(group, key) == n)
    recorder.release.set()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive(), "a request never came back from the queue"
    return items, results


def queued(group: GroupCommit, key) -> int:
    queue = group._queue_of(key)
    with queue.lock:
        return len(queue.waiting)


def wait_until(condition) -> None:
    done = threading.Event()
    for _ in range(WAIT * 100):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("condition not reached")


def test_a_lone_request_is_a_batch_of_one_and_leads_it(app, probe_table):
    recorder = Recorder()
    group = GroupCommit(recorder, name="probes", max_batch=10)
    item = Probe(value=7)
    assert group.join("event-1", item) is True
    assert recorder.batches == [[7]]
    assert item.outcome == "stored 7" and stored_values() == [7]


def test_those_who_arrive_while_a_batch_is_decided_are_decided_next_together_led_by_the_first(app, probe_table):
    recorder = Recorder()
    group = GroupCommit(recorder, name="probes", max_batch=10)
    items, results = queue_behind_a_held_leader(app, group, recorder, [1, 2, 3, 4])
    assert recorder.batches == [[0], [1, 2, 3, 4]]  # arrival order kept
    assert results == {0: True, 1: True, 2: False, 3: False, 4: False}  # the first waiting led the second batch
    assert all(item.outcome == f"stored {item.value}" for item in items)
    assert stored_values() == [0, 1, 2, 3, 4]
    assert queued(group, "event-1") == 0 and group._queue_of("event-1").deciding is False


def test_other_keys_do_not_wait_for_each_other(app, probe_table):
    recorder = Recorder(hold_only="event-1")
    group = GroupCommit(recorder, name="probes", max_batch=10)
    recorder.release.clear()
    results: dict[int, bool] = {}
    held = join_in_thread(app, group, "event-1", Probe(value=1), results)
    assert recorder.entered.wait(WAIT)
    assert group.join("event-2", Probe(value=2)) is True  # led at once while event-1's leader is still held
    assert recorder.batches == [[1], [2]] and stored_values() == [2]
    recorder.release.set()
    held.join(WAIT)
    assert results == {1: True} and stored_values() == [1, 2]


def test_a_batch_is_at_most_max_batch_long_and_the_rest_follow_in_order(app, probe_table):
    recorder = Recorder()
    group = GroupCommit(recorder, name="probes", max_batch=3)
    items, results = queue_behind_a_held_leader(app, group, recorder, [1, 2, 3, 4, 5, 6, 7])
    assert recorder.batches == [[0], [1, 2, 3], [4, 5, 6], [7]]
    assert [value for value, led in sorted(results.items()) if led] == [0, 1, 4, 7]
    assert stored_values() == [0, 1, 2, 3, 4, 5, 6, 7]


def test_a_failing_member_fails_its_batch_which_keeps_nothing_and_each_item_forgets(app, probe_table):
    recorder = Recorder(fail_on=2)
    group = GroupCommit(recorder, name="probes", max_batch=10)
    items, results = queue_behind_a_held_leader(app, group, recorder, [1, 2, 3])
    assert recorder.batches == [[0], [1, 2, 3]]
    assert all(item.forgotten and item.outcome is None for item in items)  # to be decided alone by the caller
    assert stored_values() == [0]  # 1, written before 2 failed, was rolled back with the batch
    assert group.join("event-1", Probe(value=9)) is True  # the queue was handed on: nobody is stuck
    assert stored_values() == [0, 9]


def test_a_failing_leader_hands_the_queue_on_and_its_batch_keeps_nothing(app, probe_table):
    recorder = Recorder(fail_on=0)  # the leader's own item fails its batch
    group = GroupCommit(recorder, name="probes", max_batch=10)
    items, results = queue_behind_a_held_leader(app, group, recorder, [1, 2])
    assert recorder.batches == [[0], [1, 2]]
    assert results[1] is True  # the next batch still got a leader
    assert all(item.outcome == f"stored {item.value}" for item in items)
    assert stored_values() == [1, 2]


def test_a_failing_commit_keeps_nothing_and_each_item_forgets(app, probe_table):
    recorder = Recorder(fail_commit=True)
    group = GroupCommit(recorder, name="probes", max_batch=10)
    item = Probe(value=5)
    group.join("event-1", item)
    assert item.forgotten and item.outcome is None
    assert stored_values() == []
    recorder.fail_commit = False
    assert group.join("event-1", Probe(value=6)) is True
    assert stored_values() == [6]
