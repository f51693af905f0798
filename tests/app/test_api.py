"""The JSON API as a mobile app or scanner device uses it: real HTTP through the test client."""

import json

import pytest

from tests.conftest import csrf_token_from, last_sms_code, sign_in

PHONE = "+8613812345678"


def get_token(client, phone="13812345678"):
    assert client.post("/api/v1/auth/codes", json={"phone": phone}).status_code == 201
    response = client.post("/api/v1/auth/tokens", json={"phone": phone, "code": last_sms_code(PHONE),
                                                        "device_name": "iPhone"})
    assert response.status_code == 201, response.json
    return response.json["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_mobile_app_signs_in_with_phone_and_code_and_reads_its_profile(client):
    response = client.post("/api/v1/auth/codes", json={"phone": "138 1234 5678"})
    assert response.status_code == 201 and response.json["phone"] == PHONE
    token = get_token(client)
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json["phone"] == PHONE and me.json["masked_phone"] == "138****5678"
    assert me.json["profile_complete"] is False


def test_the_profile_is_filled_in_once_over_the_api(client):
    token = get_token(client)
    response = client.patch("/api/v1/me", headers=bearer(token), json={
        "name": "林晓舟", "company": "星河智算", "persona": "founder", "interests": ["大模型应用"]})
    assert response.status_code == 200 and response.json["profile_complete"] is True


def test_profile_errors_name_the_fields(client):
    token = get_token(client)
    response = client.patch("/api/v1/me", headers=bearer(token), json={"name": " ", "email": "no-at-sign"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_profile"
    assert set(response.json["error"]["details"]["fields"]) == {"name", "email"}


def test_an_unknown_token_is_refused_with_a_clear_code(client):
    response = client.get("/api/v1/me", headers=bearer("bye_not-a-real-token"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).json["error"]["code"] == "invalid_token"


def test_a_revoked_token_stops_working(client):
    token = get_token(client)
    assert client.delete("/api/v1/auth/tokens/current", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).json["error"]["code"] == "invalid_token"


def test_without_credentials_the_api_answers_401_not_a_redirect(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized", "message": "请先登录。"}}


def test_error_messages_follow_accept_language(client):
    response = client.post("/api/v1/auth/codes", json={"phone": "123"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.json["error"] == {"code": "invalid_phone", "message": "This is not a valid mobile number."}


def test_a_wrong_code_counts_and_says_what_is_left(client):
    client.post("/api/v1/auth/codes", json={"phone": "13812345678"})
    code = last_sms_code(PHONE)
    response = client.post("/api/v1/auth/tokens", json={"phone": "13812345678",
                                                        "code": "000000" if code != "000000" else "111111"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "code_wrong"
    assert response.json["error"]["details"]["remaining_attempts"] == 4


@pytest.mark.parametrize("body, content_type, code", [
    ("{not json", "application/json", "invalid_json"),
    ("[1, 2]", "application/json", "invalid_json"),
    ("phone=13812345678", "application/x-www-form-urlencoded", "invalid_input"),
])
def test_non_json_bodies_get_a_json_error_and_change_nothing(client, body, content_type, code):
    response = client.post("/api/v1/auth/codes", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response.json["error"]["code"] == code
    from app.accounts.models import OneTimeCode
    from app.extensions import db

    assert db.session.query(OneTimeCode).count() == 0


def test_missing_fields_are_named(client):
    response = client.post("/api/v1/auth/codes", json={})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_input"
    assert "phone" in response.json["error"]["details"]["fields"]


def test_an_oversized_body_is_refused(client):
    response = client.post("/api/v1/auth/codes", data=json.dumps({"phone": "1" * 2_000_000}),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_unknown_api_paths_and_methods_answer_json(client):
    assert client.get("/api/v1/nothing-here").json["error"]["code"] == "not_found"
    response = client.put("/api/v1/auth/codes", json={})
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


def test_an_unexpected_failure_never_shows_a_stack_trace(app, client):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_cookie_sessions_must_send_the_csrf_token_to_write(client, create_resident):
    user = create_resident()
    sign_in(client, user)
    body = {"name": "新名字", "persona": "founder"}
    refused = client.patch("/api/v1/me", json=body)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    accepted = client.patch("/api/v1/me", json=body, headers={"X-CSRFToken": csrf_token_from(client)})
    assert accepted.status_code == 200 and accepted.json["name"] == "新名字"


def test_the_openapi_document_is_generated_from_the_code(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/codes", "/api/v1/auth/tokens", "/api/v1/me", "/api/v1/events"):
        assert path in spec["paths"]
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]["required"] == ["code", "message"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_events_are_listed_for_apps(client, create_event):
    create_event(title="模速路演日", kind="roadshow")
    response = client.get("/api/v1/events?kind=roadshow")
    assert [e["title"] for e in response.json] == ["模速路演日"]
    assert client.get("/api/v1/events?kind=party").json["error"]["code"] == "invalid_input"


def test_a_bearer_token_brings_all_its_users_role_grants_in_one_query(app, create_resident):
    """Every grant counts (the grants are joined to the token's lookup, one row each), and checking them asks the
    database nothing more."""
    import sqlalchemy as sa

    from app.accounts.services import issue_api_token, user_for_api_token
    from app.authz import has_role
    from app.db_types import utcnow
    from app.extensions import db

    person = create_resident(roles=[("steward", "event:1"), ("steward", "event:2"), ("supervisor", "event:3")])
    token = issue_api_token(person, name="scanner", now=utcnow())
    db.session.commit()
    db.session.remove()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        user, _ = user_for_api_token(token, now=utcnow())
        held = [has_role(user, role, f"event:{n}") for role, n in
                [("steward", 1), ("steward", 2), ("supervisor", 3), ("supervisor", 1), ("steward", 4)]]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert held == [True, True, True, False, False]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
