"""A live final survives its server being killed mid-round: scores, revisions, who submitted, the team on stage and
its timers all come back from the database when a new process starts, and the phones carry on (a retry made
across the restart is answered the same, never counted twice; a stale revision is still refused).

Real processes, as in production: gunicorn (APP_ENV=production) on PostgreSQL (a SQLite file when PostgreSQL is
absent); everything is done over HTTP and Socket.IO with bearer tokens made by `flask tokens create`. The server is
killed with SIGKILL (no graceful shutdown: a crash or a pulled plug)."""

from __future__ import annotations

import os
import secrets
import signal
import time
import uuid
from datetime import datetime

import pytest

from tests import services
from tests.integration.test_two_servers_share_socketio import (
    APP_SETTINGS,
    flask,
    start_server,
    stop_server,
    wait_until_healthy,
)

pytestmark = [pytest.mark.integration]

ORGANIZER = "13812340000"
JUDGES = ["13712340001", "13712340002", "13712340003"]
CRITERIA = [{"key": "innovation", "label": "创新性", "weight": 60, "min": 0, "max": 10, "step": 0.5},
            {"key": "market", "label": "市场", "weight": 40, "min": 0, "max": 10, "step": 0.5}]
PITCH_SECONDS, QA_SECONDS = 3, 60


@pytest.fixture(params=["threads", "gevent"])
def environment(request, tmp_path):
    """The production environment, and which gunicorn worker serves it (docs/deploy.md: gevent for the instances
    holding live screens, on PostgreSQL only)."""
    if request.param == "gevent" and services.postgres_available() is not None:
        services.service_missing("PostgreSQL", "the gevent worker is served on PostgreSQL only")
    postgres_url = None
    if services.postgres_available() is None:
        postgres_url = database_url = services.create_postgres_database()
    else:
        database_url = f"sqlite:///{tmp_path / 'beiyang.sqlite3'}"
    env = {key: value for key, value in os.environ.items() if key not in APP_SETTINGS}
    env.update({"APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(tmp_path / "instance"), "TASK_QUEUE": "embedded", "PYTHONUNBUFFERED": "1"})
    try:
        flask(env, "db", "upgrade")
        flask(env, "users", "create", ORGANIZER, "--name", "王珂", "--role", "organizer")
        yield env, request.param
    finally:
        if postgres_url:
            services.drop_postgres_database(postgres_url)


def api(server, method, path, token, **kwargs):
    import requests

    return requests.request(method, server.url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"},
                            timeout=10, **kwargs)


def kill(server) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_scores_and_the_live_stage_come_back_after_the_server_is_killed(environment, tmp_path):
    import socketio

    env, worker = environment
    [organizer] = flask(env, "tokens", "create", ORGANIZER).split()
    setup = {"name": "港科大百万元奖金创业大赛",
             "rounds": [{"kind": "final", "name": "决赛", "mode": "live", "leaderboard_mode": "live",
                         "pitch_seconds": PITCH_SECONDS, "qa_seconds": QA_SECONDS, "criteria": CRITERIA,
                         "judges": [{"phone": p, "name": f"评委{i + 1}"} for i, p in enumerate(JUDGES)]}],
             "teams": [{"team_name": f"队伍{i + 1}"} for i in range(3)]}
    first = start_server("before", env, tmp_path, worker)
    second = None
    try:
        wait_until_healthy(first)
        created = api(first, "POST", "/competitions/setup", organizer, json=setup)
        assert created.status_code == 201, created.text
        round_id = created.json()["rounds"][0]["id"]
        judges = flask(env, "tokens", "create", *JUDGES).split()
        assert api(first, "POST", f"/rounds/{round_id}/open", organizer).status_code == 200
        teams = [t["id"] for t in api(first, "GET", f"/rounds/{round_id}/console", organizer).json()["teams"]]
        stage = api(first, "POST", f"/rounds/{round_id}/stage", organizer,
                    json={"round_team_id": teams[1], "phase": "pitch"}).json()
        assert stage["phase"] == "pitch" and stage["current_team"]["id"] == teams[1]

        def submit(server, judge, value, *, base=0, submission_id=None):
            return api(server, "POST", f"/rounds/{round_id}/scores", judge, json={
                "round_team_id": teams[1], "submission_id": submission_id or str(uuid.uuid4()),
                "base_revision": base, "scores": {"innovation": value, "market": value}, "comment": f"{value}分"})

        assert submit(first, judges[0], 8).status_code == 201
        assert submit(first, judges[1], 6).status_code == 201
        assert submit(first, judges[1], 7, base=1).json()["revision"] == 2  # a revision before the crash
        retried_id = str(uuid.uuid4())
        assert submit(first, judges[2], 9, submission_id=retried_id).status_code == 201
        before = api(first, "GET", f"/rounds/{round_id}/console", organizer).json()
        board_before = api(first, "GET", f"/rounds/{round_id}/leaderboard", organizer).json()

        kill(first)  # mid-round, no goodbye
        second = start_server("after", env, tmp_path, worker)
        wait_until_healthy(second)

        after = api(second, "GET", f"/rounds/{round_id}/console", organizer).json()
        assert after["teams"] == before["teams"]  # who submitted, revisions, scoring states
        assert after["stage"]["current_team"]["id"] == teams[1]
        assert after["stage"]["phase_set"] == "pitch"
        assert after["stage"]["timeline"] == before["stage"]["timeline"]  # the same timers, from the same start
        assert parse(after["stage"]["timeline"][0]["starts_at"]) == parse(stage["phase_started_at"])
        wait = (parse(after["stage"]["timeline"][1]["starts_at"]) - parse(after["stage"]["server_now"]))
        time.sleep(max(0.0, wait.total_seconds()) + 0.3)
        judge_view = api(second, "GET", f"/rounds/{round_id}/judge", judges[1]).json()
        assert judge_view["stage"]["phase"] == "qa"  # the pitch ended on its own, after the restart too
        assert judge_view["stage"]["phase_ends_at"] == after["stage"]["timeline"][1]["ends_at"]
        mine = next(t for t in judge_view["teams"] if t["id"] == teams[1])["my_scorecard"]
        assert mine["revision"] == 2 and mine["scores"] == {"innovation": 7, "market": 7} and mine["comment"] == "7分"

        board_after = api(second, "GET", f"/rounds/{round_id}/leaderboard", organizer).json()
        assert [(r["id"], r["score"], r["judges_counted"]) for r in board_after["rows"]] == \
            [(r["id"], r["score"], r["judges_counted"]) for r in board_before["rows"]]
        assert next(r for r in board_after["rows"] if r["id"] == teams[1])["score"] == 80  # (8 + 7 + 9) / 3 * 10

        replay = submit(second, judges[2], 9, submission_id=retried_id)  # the phone never saw the first answer
        assert replay.status_code == 200 and replay.json()["replayed"] is True and replay.json()["revision"] == 1
        stale = submit(second, judges[1], 5, base=1)
        assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_revision"
        assert submit(second, judges[0], 8.5, base=1).json()["revision"] == 2  # scoring carries on

        phone = socketio.Client(reconnection=False)  # a phone reconnecting to the new process gets the stage
        try:
            phone.connect(second.url, auth={"token": judges[0]}, transports=["websocket"], wait_timeout=10)
            ack = phone.call("join_round_judges", {"round_id": round_id}, timeout=10)
            assert ack["ok"] and ack["stage"]["current_team"]["id"] == teams[1] and ack["stage"]["phase"] == "qa"
        finally:
            phone.disconnect()
        history = api(second, "GET", f"/rounds/{round_id}/history", organizer).json()
        assert [s["revision"] for s in history["submissions"]] == [1, 1, 2, 1, 2]
    finally:
        for server in (first, second):
            if server is not None:
                stop_server(server)
