"""What the benchmarks share: the production-shaped environment, a gunicorn instance (start, wait for /healthz, peak
memory, stop), a free port, throwaway PostgreSQL databases, and percentiles."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def percentile(values, p: float) -> float:
    """The p-th percentile by nearest rank on the sorted values (NaN when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str, redis_url: str | None, instance: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "TASK_", "SOCKETIO_"))}
    env.update({"APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(instance), "RATELIMIT_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
                "TASK_QUEUE_NAME": f"bench{secrets.token_hex(4)}", "SOCKETIO_CHANNEL": f"bench-{secrets.token_hex(4)}"})
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def create_postgres_database(prefix: str = "beiyang_bench") -> tuple[str, str]:
    """A new, empty PostgreSQL database: (its name, its URL)."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def production_database(kind: str, tmp_path: Path):
    """The environment of a production server on a fresh database: a SQLite file in `tmp_path`, or a new PostgreSQL
    database (with Redis), dropped afterwards."""
    if kind != "postgres":
        yield production_env(f"sqlite:///{tmp_path / 'bench.sqlite3'}", None, tmp_path / "instance")
        return
    name, url = create_postgres_database()
    try:
        yield production_env(url, REDIS_URL, tmp_path / "instance")
    finally:
        drop_postgres_database(name)


def worker_flags(worker: str, threads: int) -> list[str]:
    """gunicorn's flags for a worker: "threads" (`threads` threads) or "gevent" (at least 1,000 connections)."""
    return (["-k", "gevent", "--worker-connections", str(max(threads, 1000))] if worker == "gevent"
            else ["--threads", str(threads)])


class Server:
    """One gunicorn instance (one worker, production settings from `env`) in its own process group."""

    def __init__(self, env: dict, threads: int, log: Path, worker: str = "threads", wsgi: str = "app.wsgi:app"):
        """`worker`: "threads" (gunicorn's threaded worker with `threads` threads) or "gevent" (its gevent worker,
        `threads` or at least 1,000 connections), as docs/deploy.md describes both. `wsgi`: the application."""
        self.port = free_port()
        self.log = log
        worker_args = worker_flags(worker, threads)
        with log.open("wb") as handle:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", "1", *worker_args, "--no-control-socket",
                 "--backlog", "2048", "-b", f"127.0.0.1:{self.port}", wsgi],
                cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:  # noqa: S310 (http only)
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def peak_memory_mb(self) -> float:
        """VmHWM (peak resident set) of the master and its worker(s)."""
        total_kb = 0
        for pid in self._pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        return total_kb / 1024

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its worker(s)."""
        total = 0.0
        for pid in self._pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def wait_idle(self, *, busy_below: float = 0.05, timeout: float = 15.0) -> None:
        """Wait until the server has finished what the last load left behind (announcements, background tasks):
        under `busy_below` of a CPU over half a second. A ceiling measured while it still works would be low."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            time.sleep(0.5)
            if self.cpu_seconds() - before < busy_below * 0.5:
                return

    def _pids(self) -> list[int]:
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


# ---- a raw Socket.IO client (the benchmarks' phones and screens) -------------------------------------------------
# The benchmarks speak Engine.IO 4 / Socket.IO 5 directly on aiohttp's websocket: python-socketio's client costs more
# CPU per message than the server does, and would measure itself (bench/judging_live.py).

async def socketio_open_and_join(session, url: str, token: str, join_event: str, payload: dict):
    """A websocket that is connected with `token` and has joined a room through `join_event` (acknowledged ok)."""
    import json

    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = await session.ws_connect(ws_url, autoping=False, max_msg_size=0)
    opened = await ws.receive_str(timeout=30)
    if not opened.startswith("0"):
        raise SystemExit(f"engine.io open expected, got {opened[:80]}")
    await ws.send_str("40" + json.dumps({"token": token}))
    packet = await socketio_next_packet(ws)
    while packet.startswith("42"):  # the server's welcome event may come before the CONNECT answer
        packet = await socketio_next_packet(ws)
    if not packet.startswith("40"):
        raise SystemExit(f"connect refused: {packet[:200]}")
    await ws.send_str("421" + json.dumps([join_event, payload]))
    packet = await socketio_next_packet(ws)
    while packet.startswith("42"):
        packet = await socketio_next_packet(ws)
    if not packet.startswith("431") or not json.loads(packet[3:])[0].get("ok"):
        raise SystemExit(f"join refused: {packet[:200]}")
    return ws


async def socketio_next_packet(ws) -> str:
    """The next packet that is not a ping (answered on the way)."""
    while True:
        packet = await ws.receive_str(timeout=30)
        if packet == "2":
            await ws.send_str("3")
            continue
        return packet
