"""Requests that write the same thing at the same time, decided together: a group commit.

In a rush (hundreds of sign-ups for one salon, fifty scanners at the doors) every request would otherwise run its
own statements and its own commit, and in a threaded server queue for the interpreter lock after each of them.
Here the threads of this process that do the same kind of work on the same key (an event, say) join one queue. The
first becomes the leader: it decides everyone queued so far with `decide(key, batch)` (one transaction, a constant
number of statements, one commit), and hands the next batch to the first one still waiting, who leads it. Nobody
waits for a timer: a lone request is a batch of one, and a batch is whatever arrived while the previous one was
being decided. The queue's order is the arrival order.

`decide(key, batch)` decides what it can, puts each item's outcome on the item itself and returns whether it wrote
anything; the batch is then committed (or rolled back, when nothing was written). If deciding or committing fails,
everything is rolled back, each item forgets its outcome, and each request is decided alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from app.accounts.services import users_for_api_tokens
from app.extensions import commit_keeping_loaded, db

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from datetime import datetime

    from app.accounts.models import User


@dataclass(eq=False, kw_only=True)
class Waiting:
    """What every queued item carries; subclasses add the request and its outcome."""

    decided: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to decide the next batch rather than with an outcome
    bearer: str | None = None  # the API token of a request whose token is checked in the batch (signed_in)

    def forget(self) -> None:
        """Drop the outcome: the batch failed, and this request is decided alone."""
        raise NotImplementedError


Item = TypeVar("Item", bound=Waiting)


@dataclass(eq=False)
class _Queue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list = field(default_factory=list)
    deciding: bool = False  # a leader is at work; whoever arrives meanwhile waits for the next batch


class GroupCommit(Generic[Item]):
    """One kind of work decided in batches, with a queue per (database engine, key) in this process."""

    def __init__(self, decide: Callable[[Hashable, list[Item]], bool], *, name: str, max_batch: int):
        self._decide = decide
        self.name = name  # what is decided, for the log
        self.max_batch = max_batch  # bounds the time locks are held and the size of the statements
        self._queues: dict[tuple[object, Hashable], _Queue] = {}
        self._queues_lock = threading.Lock()

    def join(self, key: Hashable, item: Item) -> bool:
        """Queue `item` and return once it is decided: True when this thread led the batch that decided it (its
        objects are then in this thread's session), False when another thread did."""
        queue = self._queue_of(key)
        with queue.lock:
            queue.waiting.append(item)
            leads = not queue.deciding
            queue.deciding = True
        if not leads:
            if db.session().in_transaction():
                commit_keeping_loaded()  # ends this request's reads: its connection goes back to the pool meanwhile
            item.decided.wait()
            leads = item.leads
        if leads:
            self._lead(key, queue, item)
        return leads

    def _queue_of(self, key: Hashable) -> _Queue:
        queue_key = (db.engine, key)
        with self._queues_lock:
            queue = self._queues.get(queue_key)
            if queue is None:
                queue = self._queues[queue_key] = _Queue()
            return queue

    def _lead(self, key: Hashable, queue: _Queue, me: Item) -> None:
        """Decide the batch that starts with `me` (the first waiting), then hand the queue on."""
        with queue.lock:
            batch = queue.waiting[:self.max_batch]
            del queue.waiting[:self.max_batch]
        try:
            self._decide_and_commit(key, batch)
        finally:
            for item in batch:
                if item is not me:
                    item.decided.set()
            with queue.lock:
                if queue.waiting:
                    queue.waiting[0].leads = True
                    queue.waiting[0].decided.set()
                else:
                    queue.deciding = False

    def _decide_and_commit(self, key: Hashable, batch: list[Item]) -> None:
        try:
            if self._decide(key, batch):
                commit_keeping_loaded()
            else:
                db.session.rollback()
        except Exception:
            log.exception("deciding %d %s of %s together failed; each is decided alone", len(batch), self.name, key)
            db.session.rollback()
            for item in batch:
                item.forget()


def signed_in(batch: list[Item], *, now: datetime, may: Callable[[User], bool]) -> list[tuple[Item, User | None]]:
    """The batch's items with the user of their bearer token, checked for all of them in one query with the same
    rules as any API request's token (app.accounts.auth); None for an item that queued with its user known. An item
    whose token is not valid, or whose user `may` not do this, is left out: it is decided alone, which signs in as
    any request does and says why (401, 403, ...)."""
    bearers = [item.bearer for item in batch if item.bearer is not None]
    users = users_for_api_tokens(bearers, now=now) if bearers else {}
    kept = []
    for item in batch:
        user = users.get(item.bearer) if item.bearer is not None else None
        if item.bearer is None or (user is not None and may(user)):
            kept.append((item, user))
    return kept
