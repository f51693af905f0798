"""No input gives a 500 (DESIGN, Trust): ids beyond the database's range, text it cannot store, JSON too deep,
newlines in what goes into an .ics, and a database error while answering. One test per class of input; the
fuzzing test (test_fuzzing.py) looks for the rest."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime

import icalendar
import pytest
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.extensions import db, socketio
from tests.conftest import csrf_token_from, sign_in

NOW = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)
BEYOND = [2**31, 2**63, 10**30]  # PostgreSQL INTEGER ends at 2^31-1, SQLite at 2^63-1


def bearer(user) -> dict:
    token = issue_api_token(user, now=NOW)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


# ---- ids ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", BEYOND)
def test_an_id_beyond_the_database_in_a_path_is_not_found(client, create_resident, number):
    headers = bearer(create_resident(roles=("organizer",)))
    for path in (f"/api/v1/events/{number}", f"/api/v1/registrations/{number}/ticket",
                 f"/api/v1/rounds/{number}/leaderboard", f"/api/v1/rounds/1/judges/{number}/invitation"):
        method = client.post if path.endswith("invitation") else client.get
        response = method(path, headers=headers)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    for page in (f"/events/{number}", f"/events/{number}.ics", f"/events/{number}/signup"):
        assert client.get(page).status_code == 404, page


def test_the_document_bounds_every_integer_a_client_sends(client):
    """Path and query parameters and request bodies: clients (and the fuzzer) know the range before they send."""
    spec = client.get("/api/v1/openapi.json").get_json()
    unbounded = []

    def walk(node, where, seen=()):
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in seen:
                    walk(spec["components"]["schemas"][name], name, (*seen, name))
                return
            if node.get("type") == "integer" and "maximum" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}", seen)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}", seen)

    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                walk([operation.get("parameters", []), operation.get("requestBody", {})], f"{method} {path}")
    assert not unbounded
    event_id = spec["paths"]["/api/v1/events/{event_id}"]["parameters"][0]
    assert event_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


@pytest.mark.parametrize("number", BEYOND)
def test_an_id_beyond_the_database_in_a_query_or_body_is_invalid(client, create_resident, number):
    headers = bearer(create_resident())
    response = client.get(f"/api/v1/notifications?before_id={number}", headers=headers)
    assert response.status_code == 422 and "before_id" in error_of(response)["details"]["fields"]
    response = client.post("/api/v1/notifications/read", json={"ids": [1, number]}, headers=headers)
    assert response.status_code == 422 and "ids" in error_of(response)["details"]["fields"]
    response = client.post("/api/v1/notifications/announcements", headers=headers,
                           json={"title": "通知", "segment": {"kind": "checked_in", "event_id": number}})
    assert response.status_code in (403, 422), response.get_json()  # refused, never a 500


def test_an_id_beyond_the_database_in_a_page_query_or_form_is_ignored(client, create_resident):
    user = create_resident()
    sign_in(client, user)
    assert client.get(f"/notifications?before={2**63}").status_code == 200
    assert client.get(f"/mentoring/feedback?cycle_id={2**31}").status_code in (200, 403)


def test_an_id_beyond_the_database_in_a_socket_payload_is_not_found(app, create_resident):
    token = issue_api_token(create_resident(roles=("organizer",)), now=NOW)
    db.session.commit()
    sio = contextvars.Context().run(socketio.test_client, app, auth={"token": token})
    assert sio.is_connected()
    for event, payload, code in (("join_event_organizers", {"event_id": 2**31}, "event_not_found"),
                                 ("join_checkin", {"event_id": 2**63}, "event_not_found"),
                                 ("join_round_judges", {"round_id": 2**31}, "round_not_found"),
                                 ("join_round_leaderboard", 10**30, "round_not_found")):
        ack = sio.emit(event, payload, callback=True)
        assert ack["ok"] is False and ack["code"] == code, (event, ack)
    assert sio.emit("leave_round", {"round_id": 2**63}, callback=True) == {"ok": True}


# ---- text -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"name": "林\\u0000晓舟"}', '{"name": "林\\ud800晓舟"}'])
def test_nul_or_a_lone_surrogate_in_a_json_field_is_invalid_and_named(client, create_resident, raw):
    headers = bearer(create_resident())
    response = client.patch("/api/v1/me", data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_input" and set(error["details"]["fields"]) == {"name"}


def test_nul_or_a_lone_surrogate_deep_in_a_json_body_names_its_place(client, create_resident):
    headers = bearer(create_resident(roles=("organizer",)))
    response = client.post("/api/v1/notifications/announcements", headers=headers, content_type="application/json",
                           data='{"title": "ok", "segment": {"kind": "everyone", "tag": "a\\u0000"}}')
    assert response.status_code == 422
    assert error_of(response)["details"]["fields"] == {
        "segment.tag": "这段文字含有空字符（NUL），无法保存。"}


def test_nul_in_a_form_field_is_invalid_and_named(client, create_resident):
    sign_in(client, create_resident())
    csrf = csrf_token_from(client, "/profile")
    response = client.post("/profile", data={"csrf_token": csrf, "name": "林\x00晓舟", "company": "北杨"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "name" in page and "cannot be stored" in page
    response = client.post("/profile", data={"csrf_token": csrf, "name": "\x00"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 422 and set(error_of(response)["details"]["fields"]) == {"name"}
    # A surrogate cannot arrive in a form or a query string: their bytes are decoded with replacement characters.
    response = client.post("/profile", data=f"csrf_token={csrf}&name=%ED%A0%80", headers={"Accept-Language": "en"},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500


def test_nul_in_a_query_string_is_invalid_and_named(client):
    response = client.get("/api/v1/events?kind=%00")
    assert response.status_code == 422 and "kind" in error_of(response)["details"]["fields"]
    assert client.get("/?kind=salon%00", headers={"Accept-Language": "zh-CN"}).status_code == 422
    assert client.get("/calendar/abc%00def.ics").status_code == 404


# ---- JSON -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_json_is_a_bad_request(client, create_resident, depth):
    headers = bearer(create_resident())
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = client.patch("/api/v1/me", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"
    response = client.post("/api/v1/auth/codes", data="[" * depth, content_type="application/json")
    assert response.status_code == 400


# ---- .ics -----------------------------------------------------------------------------------------------------------

def test_newlines_in_an_events_text_still_give_a_valid_ics(client, create_event):
    title = "路演日\r\n第二行\nBEGIN:VEVENT\rX;Y,Z\\"
    event = create_event(title=title, description="第一段\n\nEND:VCALENDAR\r\n最后")
    event.venue = "北杨小镇\r\n三号楼"
    db.session.commit()
    for path in (f"/events/{event.id}.ics", "/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data()
        assert all(line and b"\r" not in line and b"\n" not in line for line in body.split(b"\r\n")[:-1])
        parsed = icalendar.Calendar.from_ical(body)
        parsed.validate() if hasattr(parsed, "validate") else None
        events = [c for c in parsed.walk("VEVENT") if str(c.get("UID", "")).startswith(f"event-{event.id}@")]
        assert len(events) == 1 and len(parsed.walk("VCALENDAR")) == 1
        assert str(events[0]["SUMMARY"]).replace("\r\n", "\n").replace("\r", "\n") == title.replace(
            "\r\n", "\n").replace("\r", "\n")
        assert "三号楼" in str(events[0]["LOCATION"]) and "END:VCALENDAR" in str(events[0]["DESCRIPTION"])


# ---- the database fails while answering -----------------------------------------------------------------------------

@pytest.mark.parametrize("when", ["flush", "commit"])
def test_a_database_error_during_a_write_answers_in_the_json_error_shape(client, create_resident, monkeypatch,
                                                                         when):
    from app.accounts import services
    from app.accounts.models import User

    other = create_resident()
    user = create_resident(locale="en")
    headers = bearer(user)

    def clashing_update(user, *, now, **fields):
        user.name = fields.get("name", user.name)
        db.session.add(User(phone=other.phone, name="same phone"))  # unique: the database refuses it
        if when == "flush":
            db.session.flush()

    monkeypatch.setattr(services, "update_profile", clashing_update)
    response = client.patch("/api/v1/me", json={"name": "新名字"}, headers=headers)
    assert response.status_code == 500
    error = error_of(response)
    assert error == {"code": "internal_error",
                     "message": "Something went wrong on our side. Nothing was changed; please try again."}
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["X-Frame-Options"] == "DENY"
    db.session.rollback()
    assert db.session.scalar(sa.select(User.name).where(User.id == user.id)) != "新名字"


def test_a_value_the_database_refuses_is_invalid_input_not_a_500(client, create_resident, monkeypatch):
    """The safety net behind the validators: the database's own refusal (a number out of range) is a 422."""
    from app.accounts import services
    from app.accounts.models import User

    headers = bearer(create_resident())

    def overflowing(user, *, now, **fields):
        db.session.execute(sa.select(User.id).where(User.id == 2**70))

    monkeypatch.setattr(services, "update_profile", overflowing)
    response = client.patch("/api/v1/me", json={"name": "x"}, headers=headers)
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_input"


def test_a_multipart_part_without_a_name_is_not_a_500(client, create_resident):
    """Found by the fuzzer: a form part with no name has the key None, which the text check once choked on."""
    organizer = create_resident(roles=["organizer"])
    body = (b'--b\r\nContent-Disposition: form-data\r\n\r\nabc\r\n'
            b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nfine\r\n--b--\r\n')
    response = client.post("/api/v1/competitions/setup/import", data=body,
                           headers={**bearer(organizer), "Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code < 500 and "error" in response.get_json()
