"""A 422 speaks the caller's language, the schema library's own messages included (issue 23, item 6): a zh-CN caller
used to read "Missing data for required field." and "Must be one of: wecom, dingtalk, feishu."."""

import re

import pytest
from marshmallow import Schema, fields, validate

from tests.conftest import csrf_token_from, sign_in

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def field_messages(response) -> dict:
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid_input"
    return response.json["error"]["details"]["fields"]


def leaves(messages):
    if isinstance(messages, dict):
        for value in messages.values():
            yield from leaves(value)
    elif isinstance(messages, list):
        for value in messages:
            yield from leaves(value)
    else:
        yield messages


def assert_all_chinese(messages: dict) -> None:
    for message in leaves(messages):
        assert HAN.search(message), f"not Chinese: {message!r}"
        assert not re.search(r"\b(Must|Missing|Not a valid|Length|Unknown|Shorter|Longer|Invalid)\b", message), message


@pytest.fixture
def organizer_client(client, create_resident, create_event):
    organizer = create_resident(roles=["organizer"])
    event = create_event()
    sign_in(client, organizer)
    return client, event, {"X-CSRFToken": csrf_token_from(client)}


def test_a_missing_field_and_a_too_short_code_are_explained_in_chinese(client):
    missing = field_messages(client.post("/api/v1/auth/tokens", json={}, headers=CHINESE))
    assert missing["phone"] == "此项必填。" and missing["code"] == "此项必填。"

    short = field_messages(client.post("/api/v1/auth/tokens", json={"phone": "13812345678", "code": "12"},
                                       headers=CHINESE))
    assert short["code"] == "长度须在 4 到 8 之间。"


def test_a_choice_outside_the_options_is_explained_in_chinese(organizer_client):
    client, event, csrf = organizer_client
    response = client.post(f"/api/v1/notifications/events/{event.id}/webhooks",
                           json={"kind": "slack", "url": "https://qyapi.weixin.qq.com/x"}, headers={**csrf, **CHINESE})
    assert field_messages(response)["kind"] == "须为以下之一：wecom, dingtalk, feishu。"


def test_a_number_out_of_range_and_wrong_types_are_explained_in_chinese(organizer_client):
    client, event, csrf = organizer_client
    out_of_range = client.patch(f"/api/v1/events/{event.id}/checkin/settings", json={"opens_minutes_before": -5},
                                headers={**csrf, **CHINESE})
    assert field_messages(out_of_range)["opens_minutes_before"] == "须大于或等于 0 且小于或等于 1440。"

    wrong_types = client.patch(f"/api/v1/events/{event.id}", headers={**csrf, **CHINESE}, json={
        "capacity": "many", "starts_at": "next Thursday", "approval_required": "perhaps", "title": 7,
        "questions": "none", "colour": "red"})
    messages = field_messages(wrong_types)
    assert set(messages) == {"capacity", "starts_at", "approval_required", "title", "questions", "colour"}
    assert_all_chinese(messages)
    assert messages["capacity"] == "应为整数。" and messages["colour"] == "未知字段。"


def test_nested_and_list_errors_are_chinese_too(client, create_resident):
    sign_in(client, create_resident())
    response = client.patch("/api/v1/me", json={"interests": ["AI", 5], "persona": "astronaut", "email": 3},
                            headers={"X-CSRFToken": csrf_token_from(client), **CHINESE})
    messages = field_messages(response)
    assert set(messages) == {"interests", "persona", "email"}
    assert_all_chinese(messages)


def test_an_english_caller_gets_english(organizer_client):
    client, event, csrf = organizer_client
    missing = field_messages(client.post("/api/v1/auth/tokens", json={}, headers={**csrf, **ENGLISH}))
    assert missing["phone"] == "Missing data for required field."
    response = client.post(f"/api/v1/notifications/events/{event.id}/webhooks",
                           json={"kind": "slack", "url": "https://qyapi.weixin.qq.com/x"}, headers={**csrf, **ENGLISH})
    assert field_messages(response)["kind"] == "Must be one of: wecom, dingtalk, feishu."
    out_of_range = client.patch(f"/api/v1/events/{event.id}/checkin/settings", json={"opens_minutes_before": -5},
                                headers={**csrf, **ENGLISH})
    assert field_messages(out_of_range)["opens_minutes_before"] == (
        "Must be greater than or equal to 0 and less than or equal to 1440.")


def test_our_own_schema_messages_are_chinese_too(organizer_client):
    client, event, csrf = organizer_client
    response = client.put(f"/api/v1/events/{event.id}/lineup", json={}, headers={**csrf, **CHINESE})
    assert field_messages(response)["slots"] == "请给出 slots 或 application_ids，二者选一。"


def library_messages() -> list[str]:
    """Every message marshmallow and webargs write, as they write them (placeholders filled in)."""
    templates = {str(m) for m in Schema().error_messages.values()} | {"Invalid JSON body."}
    for cls in [fields.Field, *_subclasses(fields.Field)]:
        templates |= set(vars(cls).get("default_error_messages", {}).values())
    for cls in _subclasses(validate.Validator):
        if cls is not validate.Range:  # composes its messages when built: below
            templates |= {v for k, v in vars(cls).items() if isinstance(v, str) and
                          (k == "default_message" or k.startswith("message_"))}
    for low in (True, False):
        for high in (True, False):
            bounds = validate.Range(min=1, max=2, min_inclusive=low, max_inclusive=high)
            templates |= {bounds.message_min, bounds.message_max, bounds.message_all}
    messages = set()
    for template in templates:
        for obj_type in ("datetime", "date", "time"):
            for awareness in ("aware", "naive"):
                messages.add(template.format(input="x", choices="a, b", values="a", min=1, max=2, equal=3, other=4,
                                             obj_type=obj_type, awareness=awareness))
    return sorted(messages)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("marshmallow"):
            yield sub
        yield from _subclasses(sub)


def test_every_message_of_the_schema_library_has_its_chinese(app):
    """A marshmallow upgrade that adds a message fails here until the message has its translation."""
    from app.validation_messages import translate

    messages = library_messages()
    assert "Missing data for required field." in messages and "Must be greater than 1 and less than 2." in messages
    with app.test_request_context("/", headers=CHINESE):
        untranslated = [m for m in messages if not HAN.search(translate(m))]
    assert not untranslated
