"""Editing a profile changes what the person changed and nothing else (issue 23, item 1): a PATCH of the name over
the API, or a profile form that sends fewer fields than the profile has, never resets the rest."""

import re

from tests.conftest import csrf_token_from, sign_in

FULL_PROFILE = {"name": "周明远", "company": "远山资本", "title": "合伙人", "persona": "investor",
                "interests": ["大模型应用", "AI 基础设施"], "email": "zhou@yuanshan.example"}


def _signed_in_with_full_profile(client, create_resident):
    user = create_resident(persona="investor")
    sign_in(client, user)
    headers = {"X-CSRFToken": csrf_token_from(client)}
    response = client.patch("/api/v1/me", json=FULL_PROFILE, headers=headers)
    assert response.status_code == 200, response.json
    return headers


def test_patching_the_name_keeps_company_title_email_persona_and_interests(client, create_resident):
    headers = _signed_in_with_full_profile(client, create_resident)

    response = client.patch("/api/v1/me", json={"name": "周明远（远山）"}, headers=headers)

    assert response.status_code == 200, response.json
    me = client.get("/api/v1/me").json
    assert me["name"] == "周明远（远山）"
    for field in ("company", "title", "persona", "interests", "email"):
        assert me[field] == FULL_PROFILE[field], field


def test_patching_one_field_changes_only_that_field(client, create_resident):
    headers = _signed_in_with_full_profile(client, create_resident)

    assert client.patch("/api/v1/me", json={"company": "远山二期基金"}, headers=headers).status_code == 200
    assert client.patch("/api/v1/me", json={"email": None}, headers=headers).status_code == 200

    me = client.get("/api/v1/me").json
    assert me["company"] == "远山二期基金" and me["email"] is None
    for field in ("name", "title", "persona", "interests"):
        assert me[field] == FULL_PROFILE[field], field


def test_a_field_sent_empty_is_cleared_and_a_bad_one_changes_nothing(client, create_resident):
    headers = _signed_in_with_full_profile(client, create_resident)

    assert client.patch("/api/v1/me", json={"title": ""}, headers=headers).json["title"] == ""
    refused = client.patch("/api/v1/me", json={"name": "   ", "company": "不该保存"}, headers=headers)

    assert refused.status_code == 400 and set(refused.json["error"]["details"]["fields"]) == {"name"}
    me = client.get("/api/v1/me").json
    assert me["name"] == FULL_PROFILE["name"] and me["company"] == FULL_PROFILE["company"]


def test_a_first_profile_still_needs_a_name(client, create_resident):
    user = create_resident(profile=False)
    sign_in(client, user)
    response = client.patch("/api/v1/me", json={"company": "深流科技"},
                            headers={"X-CSRFToken": csrf_token_from(client)})
    assert response.status_code == 400 and set(response.json["error"]["details"]["fields"]) == {"name"}
    assert client.get("/api/v1/me").json["profile_complete"] is False


def test_the_profile_page_keeps_what_its_form_does_not_send(client, create_resident):
    _signed_in_with_full_profile(client, create_resident)

    token = csrf_token_from(client, "/profile")
    response = client.post("/profile", data={"csrf_token": token, "name": "周明远（页面）"})

    assert response.status_code == 302
    me = client.get("/api/v1/me").json
    assert me["name"] == "周明远（页面）"
    for field in ("company", "title", "persona", "interests", "email"):
        assert me[field] == FULL_PROFILE[field], field


def test_the_profile_page_shows_and_saves_every_field(client, create_resident):
    _signed_in_with_full_profile(client, create_resident)

    page = client.get("/profile").get_data(as_text=True)
    for value in ("远山资本", "合伙人", "zhou@yuanshan.example", "大模型应用, AI 基础设施"):
        assert value in page, value
    assert re.search(r'<input[^>]*\bchecked\b[^>]*value="investor"', page)

    token = csrf_token_from(client, "/profile")
    response = client.post("/profile", data={"csrf_token": token, "name": "周明远", "company": "", "title": "",
                                             "persona": "founder", "interests": "", "email": ""})
    assert response.status_code == 302
    me = client.get("/api/v1/me").json
    assert (me["company"], me["title"], me["persona"], me["interests"], me["email"]) == ("", "", "founder", [], None)
