"""Locks that die with the process holding them, so that whoever comes next takes over at once (issue 16).

An announcement's fan-out is held by one worker at a time (two would only race for the same chunks). A lease in the
database would outlive a killed worker until it expired; these locks do not:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own, kept for the whole
  fan-out. When the worker dies, its connection closes and the server drops the lock: the next worker's try succeeds
  at once. A host that vanishes without closing its sockets is noticed by the server's TCP keepalives (set below
  to about 25 s for this connection).
- SQLite (one host by nature): `flock` on a file next to the database, held through an open file; the kernel drops
  it when the process dies, whatever the signal. Threads of one process exclude each other too (each opens the
  file anew, and flock locks belong to the open file). The file is removed on release, so none accumulate.

Both are tried without waiting: `held` is False when someone alive holds it."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.extensions import db

FANOUT = 0x0B1A_0001  # advisory lock class of announcements' fan-outs (the second key is the announcement's id)
KEEPALIVES = ("tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5", "tcp_keepalives_count = 3")


@contextmanager
def fanout_lock(announcement_id: int) -> Iterator[bool]:
    """Hold the fan-out of this announcement for the duration of the block; yields False when a live process
    holds it."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, FANOUT, announcement_id) as held:
            yield held
    else:
        with _file_lock(lock_path(engine, f"fanout-{int(announcement_id)}")) as held:
            yield held


def lock_path(engine: Engine, name: str) -> str:
    """A lock file next to the SQLite database (in the system's temporary folder for an in-memory one, which only
    one process can see anyway)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return os.path.join(tempfile.gettempdir(), f"beiyang-{os.getpid()}-{name}.lock")
    return f"{os.path.abspath(database)}.{name}.lock"


@contextmanager
def _advisory_lock(engine: Engine, kind: int, key: int) -> Iterator[bool]:
    connection = engine.connect()
    try:
        for setting in KEEPALIVES:
            connection.execute(sa.text(f"SET {setting}"))
        held = bool(connection.scalar(sa.select(sa.func.pg_try_advisory_lock(kind, int(key)))))
        connection.commit()  # the lock belongs to the session: no transaction stays open meanwhile
        yield held
    finally:
        # Closing the server session releases the lock (and the settings) whatever happened on this connection.
        connection.invalidate()
        connection.close()


@contextmanager
def _file_lock(path: str) -> Iterator[bool]:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)  # its holder removed that file as it released it: lock the one at the path now
    try:
        yield True
    finally:
        try:
            os.unlink(path)  # still locked by us: whoever opened this file before sees it is gone and opens anew
        except FileNotFoundError:
            pass
        os.close(fd)
