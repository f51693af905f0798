"""Fuzzing the public API with schemathesis: every operation of /api/v1/openapi.json, as an organizer and as a
resident, with valid and invalid input. No answer may be a 5xx, and every answer must match the document.

Bounded (FUZZ_EXAMPLES examples per operation, mode and person) so it fits the suite: about two minutes on SQLite.
It runs on PostgreSQL too (TEST_DATABASE=postgres), where ids beyond 2^31-1 and NUL bytes used to fail.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

schemathesis = pytest.importorskip("schemathesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from app.extensions import db  # noqa: E402

NOW = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)  # a Monday morning in Shanghai
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SMALL_IDS = 12  # the demo town's ids of most kinds are below this
ORGANIZER_PHONE = "+8613800000002"  # the demo town's organizer
RESIDENT_PHONE = "+8613800000001"  # a founder, no role
# Revokes the token it is called with: it gets a fresh token per call instead of the shared ones.
SELF_REVOKING = ("DELETE", "/api/v1/auth/tokens/current")


def _issue_token(phone: str) -> str:
    from app.accounts.services import find_user_by_phone, issue_api_token

    token = issue_api_token(find_user_by_phone(phone), name="fuzzing", now=NOW)
    db.session.commit()
    return token


def test_no_operation_answers_5xx_or_breaks_its_document(app, client, capsys):
    from app.demo import seed_demo

    with time_machine.travel(NOW, tick=True):
        seed_demo(now=NOW)
        db.session.commit()
        tokens = {"organizer": _issue_token(ORGANIZER_PHONE), "resident": _issue_token(RESIDENT_PHONE)}
        db.session.remove()  # requests use their own sessions (IsolatedClient); the test's holds nothing open

        schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
        schema.app = app  # serialised for WSGI; sent through the suite's client (one context per request)
        stats: Counter = Counter()
        failures: dict[tuple, str] = {}
        started = time.monotonic()
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for who, token in tokens.items():
                    _fuzz(operation, mode, who, token, client, stats, failures)
        elapsed = time.monotonic() - started

    with capsys.disabled():
        print(f"\nfuzzing: {len(operations)} operations, {stats['requests']} requests, {stats['5xx']} answers 5xx, "
              f"{stats['nonconforming']} not matching the document, {elapsed:.0f} s")
        statuses = sorted((key, n) for key, n in stats.items() if key.startswith("status"))
        print("  answers: " + ", ".join(f"{key[7:]}: {n}" for key, n in statuses))
        for (label, kind), detail in sorted(failures.items()):
            print(f"  {kind}: {label}\n    {detail}")
    assert not failures, f"{len(failures)} operations failed; see the printout"


def _fuzz(operation, mode, who, token, client, stats, failures) -> None:
    label = f"{operation.method.upper()} {operation.path} ({mode.value}, {who})"

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), small_id=st.integers(1, SMALL_IDS), real=st.booleans())
    def run(case, small_id, real):
        if real and mode is GenerationMode.POSITIVE:  # random ids are all unknown: half the time, one the town has
            for name, value in list(case.path_parameters.items()):
                if isinstance(value, int):
                    case.path_parameters[name] = small_id
        bearer = token
        if (operation.method.upper(), operation.path) == SELF_REVOKING:
            bearer = _issue_token(RESIDENT_PHONE)
            db.session.remove()
        # identity: the test client hands back the body as sent, and a compressed one (Flask-Compress answers
        # schemathesis's default "Accept-Encoding: gzip, deflate") is not what the document describes
        headers = {"Authorization": f"Bearer {bearer}", "Accept-Encoding": "identity"}
        kwargs = case.as_transport_kwargs(headers=headers)
        stats["requests"] += 1
        try:
            response = client.open(**_werkzeug_kwargs(kwargs))
        except Exception as error:  # the error handler itself failed: as bad as a 500
            stats["5xx"] += 1
            failures.setdefault((label, "exception"), f"{type(error).__name__}: {error}"[:400] + _repro(case))
            return
        stats[f"status {response.status_code}"] += 1
        if response.status_code >= 500:
            stats["5xx"] += 1
            failures.setdefault((label, "5xx"), response.get_data(as_text=True)[:300] + _repro(case))
            return
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except Exception as error:
            stats["nonconforming"] += 1
            failures.setdefault((label, "nonconforming"), str(error)[:600] + _repro(case))

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to make invalid (an operation without parameters, in negative mode)


def _werkzeug_kwargs(kwargs: dict) -> dict:
    """schemathesis' WSGI transport arguments, for Flask's test client (the suite's IsolatedClient)."""
    allowed = {"method", "path", "headers", "query_string", "json", "data", "content_type"}
    return {key: value for key, value in kwargs.items() if key in allowed}


def _repro(case) -> str:
    return f"\n    method={case.method} path={case.formatted_path} query={case.query!r} body={str(case.body)[:200]!r}"


# ---- what the fuzzer found: answers that did not match the document ----------------------------------------------

def _documented(client, method: str, path: str):
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    return schema[path][method]


def test_a_refused_scan_in_a_sync_matches_the_document(app, client):
    """A scan refused inside a batch (scan_id_reused) answers result: null, which the document now allows."""
    import sqlalchemy as sa

    from app.demo import seed_demo
    from checkin.models import Scan
    from events.models import Event

    with time_machine.travel(NOW, tick=False):
        seed_demo(now=NOW)
        db.session.commit()
        roadshow = db.session.scalars(sa.select(Event).where(Event.kind == "roadshow")).first()
        demo_scan = db.session.scalars(sa.select(Scan.scan_id).where(Scan.event_id == roadshow.id)).first()
        bearer = _issue_token("+8613800000011")  # the demo's steward
        path = f"/api/v1/events/{roadshow.id}/checkins/sync"
        response = client.post(path, headers={"Authorization": f"Bearer {bearer}"}, json={"scans": [
            {"scan_id": demo_scan, "token": "another", "gate": "B", "scanned_at": NOW.isoformat()}]})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["result"] is None
    assert response.get_json()["results"][0]["error"]["code"] == "scan_id_reused"
    _documented(client, "POST", "/api/v1/events/{event_id}/checkins/sync").validate_response(response)


def test_the_demo_door_settings_match_the_document(app, client):
    """The demo opens its doors days ahead, beyond what the settings accept: the answer's document allows it."""
    import sqlalchemy as sa

    from app.demo import seed_demo
    from events.models import Event

    with time_machine.travel(NOW, tick=False):
        seed_demo(now=NOW)
        db.session.commit()
        roadshow = db.session.scalars(sa.select(Event).where(Event.kind == "roadshow")).first()
        bearer = _issue_token(ORGANIZER_PHONE)
        response = client.get(f"/api/v1/events/{roadshow.id}/checkin/settings",
                              headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200 and response.get_json()["opens_minutes_before"] > 24 * 60
    _documented(client, "GET", "/api/v1/events/{event_id}/checkin/settings").validate_response(response)
