"""Background work through Huey: immediate in tests, SQLite-backed in the embedded default, Redis or
PostgreSQL in production (see docs/decisions.md). Tasks take ids, never objects, and are enqueued after commit."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from huey import Huey
from huey.consumer import Consumer
from huey.storage import MemoryStorage, PostgresStorage, RedisStorage, SqliteStorage

from app.after_commit import run_after_commit

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

huey = Huey("beiyang", immediate=True, utc=True, storage_class=MemoryStorage)
_state: dict = {"app": None, "consumer": None}
_consumer_lock = threading.Lock()


def task(**task_options) -> Callable:
    """Declare a background task; it runs inside a fresh application context (its own database session)."""

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def in_app_context(*args, **kwargs):
            app = _state["app"]
            if app is None:
                raise RuntimeError("tasks.init_app() was not called")
            with app.app_context():
                return fn(*args, **kwargs)

        return huey.task(name=f"{fn.__module__}.{fn.__name__}", **task_options)(in_app_context)

    return decorator


def enqueue_after_commit(task_fn: Callable, *args, **kwargs) -> None:
    """Send a task once the current transaction commits; nothing is sent if it rolls back."""
    run_after_commit(lambda: task_fn(*args, **kwargs))


def init_app(app: Flask) -> None:
    _state["app"] = app
    mode = app.config["TASK_QUEUE"]
    name = app.config["TASK_QUEUE_NAME"]
    if mode == "immediate":
        huey.immediate = True
        return
    huey.immediate = False
    if mode == "redis":
        huey.storage = RedisStorage(name=name, url=app.config["REDIS_URL"])
    elif mode == "postgres":
        huey.storage = PostgresStorage(name=name, dsn=_libpq_dsn(app.config["SQLALCHEMY_DATABASE_URI"]))
    elif mode == "embedded":
        app.instance_path and _ensure_dir(app.instance_path)
        huey.storage = SqliteStorage(name=name, filename=f"{app.instance_path}/tasks.sqlite3")
    else:
        raise RuntimeError(f"TASK_QUEUE must be immediate, embedded, redis or postgres, not {mode!r}")


def _ensure_dir(path: str) -> None:
    os.makedirs(path, exist_ok=True)


def _libpq_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


class _EmbeddedConsumer(Consumer):
    """A consumer that runs in threads of the web process; the web server owns the signals."""

    def _set_signal_handlers(self) -> None:
        pass


def start_embedded_worker(workers: int = 2) -> None:
    """Start the in-process consumer once (embedded default: one process, nothing else to run)."""
    if huey.immediate or _state["consumer"] is not None:  # started: asked before every request, so no lock then
        return
    with _consumer_lock:
        if _state["consumer"] is not None:
            return
        consumer = _EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=True)
        consumer.start()
        _state["consumer"] = consumer
        log.info("embedded task worker started (%d threads)", workers)


def run_worker(workers: int) -> None:
    """Run a separate consumer process in the foreground (production: `flask --app app worker`)."""
    Consumer(huey, workers=workers, worker_type="thread", periodic=True).run()
