"""Signing in through the pages, as a resident on a phone would."""

import re

from tests.conftest import csrf_token_from, last_sms_code, sign_in

PHONE = "+8613812345678"


def post_phone(client, phone="13812345678", **headers):
    token = csrf_token_from(client, "/auth/login")
    return client.post("/auth/login", data={"phone": phone, "csrf_token": token}, headers=headers)


def post_code(client, code):
    token = csrf_token_from(client, "/auth/verify")
    return client.post("/auth/verify", data={"code": code, "csrf_token": token})


def test_first_sign_in_asks_for_the_profile_once_then_reuses_it(client):
    response = post_phone(client)
    assert response.status_code == 302 and response.location.startswith("/auth/verify")
    page = client.get("/auth/verify").get_data(as_text=True)
    assert "138****5678" in page and PHONE not in page

    response = post_code(client, last_sms_code(PHONE))
    assert response.status_code == 302 and response.location.startswith("/profile")

    token = csrf_token_from(client, "/profile")
    response = client.post("/profile", data={"csrf_token": token, "name": "林晓舟", "company": "星河智算",
                                             "title": "CEO", "persona": "founder", "interests": "大模型应用，融资"})
    assert response.status_code == 302
    assert "林晓舟" in client.get("/").get_data(as_text=True)

    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    post_phone(client)
    response = post_code(client, last_sms_code(PHONE))
    assert response.status_code == 302 and response.location == "/"


def test_sign_in_returns_to_the_page_the_resident_came_from(client, create_event):
    event = create_event()
    token = csrf_token_from(client, "/auth/login")
    client.post(f"/auth/login?next=/events/{event.id}", data={"phone": "13812345678", "csrf_token": token,
                                                              "next": f"/events/{event.id}"})
    response = client.get(f"/auth/verify?next=/events/{event.id}")
    token = re.search(r'name="csrf-token" content="([^"]+)"', response.get_data(as_text=True)).group(1)
    response = client.post("/auth/verify", data={"code": last_sms_code(PHONE), "csrf_token": token,
                                                  "next": f"/events/{event.id}"})
    assert response.location == f"/profile?next=/events/{event.id}"


def test_a_malformed_phone_is_explained_in_chinese_and_kept_in_the_form(client):
    response = post_phone(client, "1381234")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "手机号码无效" in page
    assert 'value="1381234"' in page


def test_errors_follow_the_browser_language(client):
    response = post_phone(client, "1381234", **{"Accept-Language": "en-US,en;q=0.9"})
    assert "This is not a valid mobile number." in response.get_data(as_text=True)


def test_a_wrong_code_says_how_many_tries_are_left(client):
    post_phone(client)
    code = last_sms_code(PHONE)
    response = post_code(client, "000000" if code != "000000" else "111111")
    assert "验证码错误，还可尝试 4 次" in response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, app):
    response = client.post("/auth/login", data={"phone": "13812345678"})
    assert response.status_code == 400
    assert "会话已过期或表单已失效" in response.get_data(as_text=True)
    from app.accounts.models import DevSmsMessage
    from app.extensions import db

    assert db.session.query(DevSmsMessage).count() == 0


def test_the_profile_form_shows_field_errors_and_keeps_what_was_typed(client, create_resident):
    user = create_resident(profile=False)
    sign_in(client, user)
    token = csrf_token_from(client, "/profile")
    response = client.post("/profile", data={"csrf_token": token, "name": "", "company": "深流科技",
                                             "persona": "founder"})
    page = response.get_data(as_text=True)
    assert "请输入姓名" in page and 'value="深流科技"' in page


def test_pages_that_need_a_person_send_visitors_to_sign_in(client):
    response = client.get("/profile")
    assert response.status_code == 302 and response.location.startswith("/auth/login?next=")


def test_verify_without_a_pending_phone_goes_back_to_the_phone_step(client):
    assert client.get("/auth/verify").location == "/auth/login"


def test_sign_in_never_redirects_to_another_site(client):
    token = csrf_token_from(client, "/auth/login")
    client.post("/auth/login", data={"phone": "13812345678", "csrf_token": token, "next": "//evil.example"})
    token = csrf_token_from(client, "/auth/verify")
    response = client.post("/auth/verify", data={"code": last_sms_code(PHONE), "csrf_token": token,
                                                 "next": "https://evil.example/"})
    assert "evil" not in response.location
