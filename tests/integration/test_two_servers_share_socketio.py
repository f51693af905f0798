"""Two real gunicorn servers share Socket.IO through Redis: a profile change made over HTTP on server A reaches the
same person's socket connected to server B, and nobody else's.

The production shape of docs/deploy.md: APP_ENV=production, PostgreSQL (a SQLite file when PostgreSQL is absent),
Redis for the Socket.IO message queue, rate limits and tasks, one threaded gunicorn worker per instance. Channel,
rate-limit prefix and task-queue name are unique per run, so parallel runs never hear each other.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import services

pytestmark = [pytest.mark.integration, pytest.mark.redis]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0
EVENT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 60.0
PHONE = "13812345678"
OTHER_PHONE = "13912345678"

# Settings read by app/config.py; removed from the inherited environment so a developer's shell cannot change the run.
APP_SETTINGS = (
    "APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PORT", "DEMO_MODE", "PUBLIC_BASE_URL", "TASK_QUEUE",
    "TASK_QUEUE_NAME", "SOCKETIO_CHANNEL", "RATELIMIT_KEY_PREFIX", "RATELIMIT_ENABLED", "SMS_PROVIDER",
    "SESSION_COOKIE_SECURE", "START_EMBEDDED_WORKER", "INSTANCE_PATH", "FLASK_APP",
)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except FileNotFoundError:
            return "(no output)"


@dataclass
class Deployment:
    env: dict
    channel: str
    tokens: dict[str, str]
    servers: list[Server] = field(default_factory=list)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    """Run `flask --app app ...` like an operator would; return its stdout, fail with its output otherwise."""
    result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    if result.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\n"
                    f"stderr:\n{result.stderr[-4000:]}", pytrace=False)
    return result.stdout


WORKERS = {"threads": ["--threads", "50"], "gevent": ["-k", "gevent", "--worker-connections", "1000"]}


def start_server(name: str, env: dict, log_dir: Path, worker: str = "threads") -> Server:
    port = free_port()
    log_path = log_dir / f"gunicorn-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "1", *WORKERS[worker], "--no-control-socket", "--graceful-timeout", "5",
             "-b", f"{HOST}:{port}", "app.wsgi:app"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so master and worker are stopped together
        )
    return Server(name, port, process, log_path)


def wait_until_healthy(server: Server) -> None:
    import requests

    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server {server.name} exited {server.process.returncode} before answering /healthz:\n"
                        f"{server.output()}", pytrace=False)
        try:
            response = requests.get(server.url + "/healthz", timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as error:
            last = type(error).__name__
        time.sleep(0.2)
    pytest.fail(f"server {server.name} did not answer /healthz with 200 within {STARTUP_TIMEOUT:.0f} s ({last}):\n"
                f"{server.output()}", pytrace=False)


def stop_server(server: Server) -> None:
    if server.process.poll() is not None:
        return
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.process.wait(timeout=5)


def wait_for_subscribers(channel: str, count: int, timeout: float = 5.0) -> int:
    """A server subscribes to the channel in a background thread after its first socket connection; wait for it."""
    import redis

    client = redis.Redis.from_url(services.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        deadline = time.monotonic() + timeout
        subscribers = 0
        while time.monotonic() < deadline:
            subscribers = dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)
            if subscribers >= count:
                break
            time.sleep(0.05)
        return subscribers
    finally:
        client.close()


def delete_run_keys(run_id: str) -> None:
    import redis

    client = redis.Redis.from_url(services.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"*{run_id}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["threads", "gevent"])
def deployment(request, tmp_path):
    """Both ways docs/deploy.md serves the app: gunicorn's threaded worker, and its gevent worker (PostgreSQL
    deployments; SQLite's locks would block every greenlet of the process)."""
    problem = services.redis_available()
    if problem:
        services.service_missing("Redis", problem)
    worker = request.param
    if worker == "gevent" and services.postgres_available() is not None:
        services.service_missing("PostgreSQL", "the gevent worker is served on PostgreSQL only")

    postgres_url = None
    if services.postgres_available() is None:
        postgres_url = services.create_postgres_database()
        database_url = postgres_url
    else:
        database_url = f"sqlite:///{tmp_path / 'beiyang.sqlite3'}"

    run_id = uuid.uuid4().hex[:12]
    env = {key: value for key, value in os.environ.items() if key not in APP_SETTINGS}
    env.update({
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": services.REDIS_URL,
        "SOCKETIO_CHANNEL": f"beiyang-test-socketio-{run_id}",
        "RATELIMIT_KEY_PREFIX": f"beiyang-test-{run_id}",
        "TASK_QUEUE_NAME": f"beiyang-test-{run_id}",
        "INSTANCE_PATH": str(tmp_path / "instance"),  # nothing of this run lands in the project's instance/
        "PYTHONUNBUFFERED": "1",
    })
    deployment = Deployment(env=env, channel=env["SOCKETIO_CHANNEL"], tokens={})
    try:
        flask(env, "db", "upgrade")
        flask(env, "users", "create", PHONE, "--name", "测试")
        flask(env, "users", "create", OTHER_PHONE, "--name", "旁人")
        tokens = flask(env, "tokens", "create", PHONE, OTHER_PHONE).splitlines()
        assert len(tokens) == 2 and all(t.startswith("bye_") for t in tokens), tokens
        deployment.tokens = dict(zip((PHONE, OTHER_PHONE), tokens, strict=True))

        for name in ("A", "B"):
            # appended at once: the finally stops it
            deployment.servers.append(start_server(name, env, tmp_path, worker))
        for server in deployment.servers:
            wait_until_healthy(server)
        yield deployment
    finally:
        for server in deployment.servers:
            stop_server(server)
        delete_run_keys(run_id)
        if postgres_url:
            services.drop_postgres_database(postgres_url)


class Listener:
    """A Socket.IO client that records when each event arrived."""

    def __init__(self, server: Server, token: str | None):
        import socketio

        self.server = server
        self.token = token
        self.client = socketio.Client(reconnection=False)
        self.events: dict[str, list[tuple[float, object]]] = {}
        self.arrived = {"welcome": threading.Event(), "profile_updated": threading.Event()}
        for name in self.arrived:
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str):
        def record(payload=None):
            self.events.setdefault(name, []).append((time.perf_counter(), payload))
            self.arrived[name].set()

        return record

    def connect(self) -> None:
        auth = {"token": self.token} if self.token is not None else None
        self.client.connect(self.server.url, auth=auth, transports=["websocket"], wait_timeout=10)

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def test_profile_change_on_server_a_reaches_socket_on_server_b(deployment):
    import requests
    import socketio

    server_a, server_b = deployment.servers
    user_token, other_token = deployment.tokens[PHONE], deployment.tokens[OTHER_PHONE]
    me = requests.get(server_a.url + "/api/v1/me", headers={"Authorization": f"Bearer {user_token}"}, timeout=5)
    assert me.status_code == 200, me.text
    user_id = me.json()["id"]

    on_b = Listener(server_b, user_token)  # the person, on server B
    bystander_on_a = Listener(server_a, other_token)  # someone else, on server A
    try:
        on_b.connect()
        bystander_on_a.connect()
        assert on_b.arrived["welcome"].wait(EVENT_TIMEOUT), f"no welcome from B:\n{server_b.output()}"
        assert on_b.events["welcome"][0][1] == {"user_id": user_id, "room": f"user:{user_id}"}
        assert bystander_on_a.arrived["welcome"].wait(EVENT_TIMEOUT), f"no welcome from A:\n{server_a.output()}"
        subscribers = wait_for_subscribers(deployment.channel, 2)
        assert subscribers >= 2, f"{subscribers} server(s) subscribed to {deployment.channel}, expected 2"

        sent = time.perf_counter()
        response = requests.patch(server_a.url + "/api/v1/me", json={"name": "新名字", "persona": "founder"},
                                  headers={"Authorization": f"Bearer {user_token}"}, timeout=10)
        answered = time.perf_counter()
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "新名字"
        assert response.json()["persona"] == "founder"

        assert on_b.arrived["profile_updated"].wait(EVENT_TIMEOUT), (
            f"profile_updated did not reach server B's client within {EVENT_TIMEOUT:.0f} s\n"
            f"--- A:\n{server_a.output()}\n--- B:\n{server_b.output()}")
        arrived_at, payload = on_b.events["profile_updated"][0]
        assert payload == {"user_id": user_id}
        database = deployment.env["DATABASE_URL"].split(":", 1)[0]
        print(f"\n[two servers, {database}] PATCH on A answered in {(answered - sent) * 1000:.1f} ms; "
              f"profile_updated reached the client on B {(arrived_at - sent) * 1000:.1f} ms after the request "
              f"was sent, {(arrived_at - answered) * 1000:+.1f} ms relative to the HTTP response (negative: before it)")

        time.sleep(0.5)  # room scoping: the other person, on the server that emitted, hears nothing
        assert not bystander_on_a.arrived["profile_updated"].is_set(), bystander_on_a.events
        assert len(on_b.events["profile_updated"]) == 1, on_b.events["profile_updated"]
    finally:
        on_b.disconnect()
        bystander_on_a.disconnect()

    for token in (None, "bye_not-a-real-token"):
        refused = Listener(server_b, token)
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect()
        refused.disconnect()
        assert "welcome" not in refused.events


def start_worker(env: dict, log_dir: Path) -> subprocess.Popen:
    log_path = log_dir / "worker.log"
    with log_path.open("wb") as log:
        return subprocess.Popen([str(BIN / "flask"), "--app", "app", "worker", "--workers", "2"], cwd=PROJECT_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def test_a_separate_worker_sends_the_code_a_server_queued(deployment, tmp_path):
    """Production shape: the web instance only queues the SMS job in Redis; a `flask worker` process sends it."""
    import re

    import requests

    server_a, server_b = deployment.servers
    worker = start_worker(deployment.env, tmp_path)
    log_path = tmp_path / "worker.log"
    try:
        deadline = time.monotonic() + 15
        while "consumer started" not in log_path.read_text(errors="replace").lower():
            assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        sent = time.perf_counter()
        response = requests.post(server_a.url + "/api/v1/auth/codes", json={"phone": OTHER_PHONE}, timeout=10)
        assert response.status_code == 201, response.text
        code = None
        deadline = time.monotonic() + 15
        while code is None and time.monotonic() < deadline:
            assert worker.poll() is None, f"worker exited {worker.returncode}:\n{log_path.read_text()}"
            match = re.search(r"SMS to \+86" + OTHER_PHONE + r": .*?(\d{6})", log_path.read_text(errors="replace"))
            code = match.group(1) if match else None
            time.sleep(0.05)
        assert code, f"the worker did not send the code within 15 s:\n{log_path.read_text()[-4000:]}"
        print(f"\n[worker] code queued on A was sent by the worker {(time.perf_counter() - sent) * 1000:.0f} ms "
              "after the request")

        token = requests.post(server_b.url + "/api/v1/auth/tokens", json={"phone": OTHER_PHONE, "code": code},
                              timeout=10)
        assert token.status_code == 201, token.text
        assert "not found in TaskRegistry" not in log_path.read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGINT)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


def test_revoking_on_one_server_closes_the_connection_on_the_other(deployment):
    """Trust: a token revoked through server A closes the connection it opened on server B, and blocking an account
    from the command line (a third process, with no socket of its own) closes its connection on server A; within
    5 s, and nobody else's."""
    import requests

    server_a, server_b = deployment.servers
    user_token, other_token = deployment.tokens[PHONE], deployment.tokens[OTHER_PHONE]
    on_b, other_on_a = Listener(server_b, user_token), Listener(server_a, other_token)
    closed = {name: threading.Event() for name in ("on_b", "other_on_a")}
    on_b.client.on("disconnect", lambda *args: closed["on_b"].set())
    other_on_a.client.on("disconnect", lambda *args: closed["other_on_a"].set())
    try:
        on_b.connect()
        other_on_a.connect()
        assert on_b.arrived["welcome"].wait(EVENT_TIMEOUT) and other_on_a.arrived["welcome"].wait(EVENT_TIMEOUT)
        access_channel = deployment.channel + ":access"
        subscribers = wait_for_subscribers(access_channel, 2)
        assert subscribers >= 2, f"{subscribers} server(s) subscribed to {access_channel}, expected 2"

        sent = time.perf_counter()
        response = requests.delete(server_a.url + "/api/v1/auth/tokens/current",
                                   headers={"Authorization": f"Bearer {user_token}"}, timeout=10)
        assert response.status_code == 204, response.text
        assert closed["on_b"].wait(EVENT_TIMEOUT), (
            f"the revoked token's connection on B stayed open for {EVENT_TIMEOUT:.0f} s\n"
            f"--- A:\n{server_a.output()}\n--- B:\n{server_b.output()}")
        revoked_after = time.perf_counter() - sent
        assert not closed["other_on_a"].is_set() and other_on_a.client.connected

        flask(deployment.env, "users", "block", OTHER_PHONE)  # committed before the command returns
        sent = time.perf_counter()
        assert closed["other_on_a"].wait(EVENT_TIMEOUT), (
            f"the blocked account's connection on A stayed open for {EVENT_TIMEOUT:.0f} s\n"
            f"--- A:\n{server_a.output()}\n--- B:\n{server_b.output()}")
        blocked_after = time.perf_counter() - sent
        print(f"\n[two servers] token revoked on A closed its connection on B after {revoked_after * 1000:.0f} ms; "
              f"the connection on A was closed {blocked_after * 1000:.0f} ms after `flask users block` returned")
    finally:
        on_b.disconnect()
        other_on_a.disconnect()
