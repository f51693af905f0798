"""One-tap sign-in with WeChat in WeChat's browser, against a local stand-in of WeChat's servers (the authorize
page and `sns/oauth2/access_token`): the first time the person confirms their phone once with an SMS code and the
WeChat account is bound; afterwards one tap. A state is this browser's and works once, a code works once, the
return path stays on this site, a WeChat account belongs to one person and a person has one WeChat account."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.accounts.models import WeChatBinding
from app.extensions import db
from tests.conftest import csrf_token_from, last_sms_code, sign_in
from tests.wechat_standin import APP_ID, WeChatStandIn

IN_WECHAT = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                           "Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"}
PHONE = "+8613812345678"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


def tap_wechat(client, next_path=None):
    """Tap "微信一键登录", go through the stand-in's authorize page; the answer of our callback."""
    response = client.get("/auth/wechat", query_string={"next": next_path} if next_path else {}, headers=IN_WECHAT)
    assert response.status_code == 302
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert at_wechat.status_code == 302, at_wechat.text
    back = urlsplit(at_wechat.headers["Location"])
    return client.get(f"{back.path}?{back.query}", headers=IN_WECHAT)


def confirm_phone(client, phone="13812345678"):
    token = csrf_token_from(client, "/auth/login")
    assert client.post("/auth/login", data={"phone": phone, "csrf_token": token}).status_code == 302
    token = csrf_token_from(client, "/auth/verify")
    return client.post("/auth/verify", data={"code": last_sms_code(PHONE), "csrf_token": token})


def signed_in(client) -> bool:
    return 'data-testid="current-user"' in client.get("/").get_data(as_text=True)


def bindings():
    db.session.expire_all()
    return [(b.user_id, b.app_id, b.openid, b.unionid) for b in db.session.scalars(sa.select(WeChatBinding))]


def test_in_wechat_the_sign_in_page_offers_one_tap_first_and_elsewhere_nothing(client, wechat):
    page = client.get("/auth/login", headers=IN_WECHAT).get_data(as_text=True)
    assert 'data-testid="wechat-sign-in"' in page and "微信一键登录" in page
    assert page.index('data-testid="wechat-sign-in"') < page.index('type="tel"')
    assert "wechat-sign-in" not in client.get("/auth/login").get_data(as_text=True)  # a phone's own browser


def test_without_wechat_settings_nothing_appears_and_the_routes_are_not_found(app, client, create_resident):
    assert "wechat-sign-in" not in client.get("/auth/login", headers=IN_WECHAT).get_data(as_text=True)
    assert client.get("/auth/wechat", headers=IN_WECHAT).status_code == 404
    assert client.get("/auth/wechat/callback?code=x&state=y").status_code == 404
    sign_in(client, create_resident())
    assert "wechat-binding" not in client.get("/profile").get_data(as_text=True)


def test_first_tap_confirms_the_phone_once_then_one_tap_signs_in(client, wechat, create_event):
    event = create_event()
    first = client.get(f"/auth/wechat?next=/events/{event.id}", headers=IN_WECHAT)
    authorize = urlsplit(first.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert authorize.path == "/connect/oauth2/authorize" and authorize.fragment == "wechat_redirect"
    assert (query["appid"], query["response_type"], query["scope"]) == (APP_ID, "code", "snsapi_base")
    assert query["redirect_uri"].endswith("/auth/wechat/callback") and len(query["state"]) >= 24
    assert "/events/" not in query["redirect_uri"]  # the return path stays in the session, not at WeChat

    at_wechat = requests.get(first.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    response = client.get(f"{back.path}?{back.query}", headers=IN_WECHAT)
    assert response.status_code == 303 and response.location == f"/auth/login?next=/events/{event.id}"
    assert not signed_in(client) and bindings() == []
    login_page = client.get(response.location, headers=IN_WECHAT).get_data(as_text=True)
    assert 'data-testid="wechat-pending"' in login_page and "wechat-sign-in" not in login_page
    assert "用短信验证码确认手机号" in login_page  # said once, in Chinese

    response = confirm_phone(client)
    assert response.status_code == 302
    [(user_id, app_id, openid, unionid)] = bindings()
    assert (app_id, openid, unionid) == (APP_ID, OPENID, None)

    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    assert not signed_in(client)
    codes_sent = len(wechat.requests)
    response = tap_wechat(client, f"/events/{event.id}")
    assert response.status_code == 303 and response.location.endswith(f"/events/{event.id}")  # via the profile
    assert signed_in(client)
    assert len(wechat.requests) == codes_sent + 2  # the authorize page and one code exchange; no SMS asked
    assert len(bindings()) == 1


def test_a_forged_replayed_or_foreign_state_signs_in_nobody_and_never_asks_wechat(app, client, wechat):
    wechat.person = {"openid": OPENID}
    started = client.get("/auth/wechat", headers=IN_WECHAT)
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    code = wechat.code_for(wechat.person)
    assert client.get(f"/auth/wechat/callback?code={code}&state=forged").status_code == 303  # the trip ends
    assert client.get(f"/auth/wechat/callback?code={code}&state={state}").status_code == 303  # used up
    other_browser = app.test_client()
    other_browser.get("/auth/wechat", headers=IN_WECHAT)
    answer = other_browser.get(f"/auth/wechat/callback?code={code}&state={state}")  # not this browser's state
    assert answer.status_code == 303 and answer.location == "/auth/login"
    assert "已失效" in other_browser.get("/auth/login").get_data(as_text=True)
    assert [r for r in wechat.requests if r["path"] == "/sns/oauth2/access_token"] == []
    assert not signed_in(client) and not signed_in(other_browser)


@pytest.mark.parametrize("answer", [{"errcode": 40029, "errmsg": "invalid code"},
                                    {"errcode": 40163, "errmsg": "code been used"},
                                    {"errcode": -1, "errmsg": "system error"},
                                    {"openid": "has spaces in it"}])
def test_wechat_refusing_the_code_is_said_in_chinese_and_signs_in_nobody(client, wechat, answer):
    wechat.answer_next.append(answer)
    response = tap_wechat(client)
    assert response.status_code == 303 and response.location.startswith("/auth/login")
    assert "微信未能确认你的账号" in client.get(response.location).get_data(as_text=True)
    assert not signed_in(client) and bindings() == []


def test_wechat_unreachable_is_said_not_a_500(app, client, wechat):
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    response = tap_wechat(client)
    assert response.status_code == 303
    assert "微信未能确认你的账号" in client.get(response.location).get_data(as_text=True)


def test_the_return_path_is_a_path_on_this_site(client, wechat, create_resident):
    person = create_resident()
    db.session.add(WeChatBinding(user_id=person.id, app_id=APP_ID, openid=OPENID))
    db.session.commit()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = tap_wechat(client, target)
        assert response.status_code == 303 and response.location == "/", target
        client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})


def test_a_wechat_bound_to_someone_else_is_refused_never_moved(client, wechat, create_resident):
    owner, other = create_resident(), create_resident()
    db.session.add(WeChatBinding(user_id=owner.id, app_id=APP_ID, openid=OPENID))
    db.session.commit()
    sign_in(client, other)
    response = client.post("/profile/wechat/bind", data={"csrf_token": csrf_token_from(client, "/profile")})
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 303 and response.location == "/profile"
    assert "这个微信已绑定本站的另一个账号" in client.get("/profile").get_data(as_text=True)
    assert [b[0] for b in bindings()] == [owner.id]


def test_a_person_binds_one_wechat_from_the_profile_and_unbinds_it(client, wechat, create_resident):
    person = create_resident()
    sign_in(client, person)
    profile = client.get("/profile").get_data(as_text=True)
    assert "绑定微信" in profile and "wechat-bound" not in profile
    response = client.post("/profile/wechat/bind", data={"csrf_token": csrf_token_from(client, "/profile")})
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").location == "/profile"
    assert bindings() == [(person.id, APP_ID, OPENID, None)]
    assert 'data-testid="wechat-bound"' in client.get("/profile").get_data(as_text=True)

    wechat.person = {"openid": "oSECONDxxxxxxxxxxxxxxxxxxxxx"}  # another WeChat account: one per person
    response = client.post("/profile/wechat/bind", data={"csrf_token": csrf_token_from(client, "/profile")})
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    client.get(f"{back.path}?{back.query}")
    assert "你的账号已绑定另一个微信" in client.get("/profile").get_data(as_text=True)
    assert bindings() == [(person.id, APP_ID, OPENID, None)]

    response = client.post("/profile/wechat/unbind", data={"csrf_token": csrf_token_from(client, "/profile")})
    assert response.status_code == 303 and bindings() == []
    assert "已解绑微信" in client.get("/profile").get_data(as_text=True)


def test_the_unionid_recognises_the_person_through_another_app_of_the_same_open_platform(client, wechat,
                                                                                        create_resident):
    person = create_resident()
    db.session.add(WeChatBinding(user_id=person.id, app_id="wxWEBSITEAPP000001", openid="oWEBxxxxxxxxxxxxxxxxxxxx",
                                 unionid="oUNIONxxxxxxxxxxxxxxxxxxxxxx"))
    db.session.commit()
    wechat.person = {"openid": OPENID, "unionid": "oUNIONxxxxxxxxxxxxxxxxxxxxxx"}
    response = tap_wechat(client)
    assert response.status_code == 303 and signed_in(client)
    assert sorted(bindings()) == sorted([(person.id, "wxWEBSITEAPP000001", "oWEBxxxxxxxxxxxxxxxxxxxx",
                                          "oUNIONxxxxxxxxxxxxxxxxxxxxxx"),
                                         (person.id, APP_ID, OPENID, "oUNIONxxxxxxxxxxxxxxxxxxxxxx")])


def test_a_pending_wechat_bound_meanwhile_to_someone_else_is_refused_and_the_phone_sign_in_stands(
        client, wechat, create_resident):
    response = tap_wechat(client)
    assert response.location.startswith("/auth/login")
    someone = create_resident()
    db.session.add(WeChatBinding(user_id=someone.id, app_id=APP_ID, openid=OPENID))
    db.session.commit()
    confirm_phone(client)
    assert signed_in(client)
    assert [b[0] for b in bindings()] == [someone.id]


def test_a_form_may_end_at_wechats_authorisation_page_only_when_wechat_is_set_up(app, client, wechat):
    """Binding is a form answered with a redirect to WeChat: browsers check form-action on that redirect."""
    policy = dict(part.split(" ", 1) for part in client.get("/auth/login").headers["Content-Security-Policy"]
                  .split("; "))
    assert policy["form-action"] == f"'self' {wechat.base}"
    app.config.update(WECHAT_APP_ID="", WECHAT_APP_SECRET="")
    policy = dict(part.split(" ", 1) for part in client.get("/auth/login").headers["Content-Security-Policy"]
                  .split("; "))
    assert policy["form-action"] == "'self'"


def test_a_wechat_bound_to_someone_else_through_another_app_is_refused_too(client, wechat, create_resident):
    owner, other = create_resident(), create_resident()
    db.session.add(WeChatBinding(user_id=owner.id, app_id="wxWEBSITEAPP000001", openid="oWEBxxxxxxxxxxxxxxxxxxxx",
                                 unionid="oUNIONxxxxxxxxxxxxxxxxxxxxxx"))
    db.session.commit()
    wechat.person = {"openid": OPENID, "unionid": "oUNIONxxxxxxxxxxxxxxxxxxxxxx"}
    sign_in(client, other)
    response = client.post("/profile/wechat/bind", data={"csrf_token": csrf_token_from(client, "/profile")})
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    client.get(f"{back.path}?{back.query}")
    assert "这个微信已绑定本站的另一个账号" in client.get("/profile").get_data(as_text=True)
    assert [b[0] for b in bindings()] == [owner.id]


# ---- 微信扫码登录: the open platform's website app on a computer (snsapi_login) -------------------------------------

DESKTOP = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/131.0.0.0 Safari/537.36"}
PHONE_BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
                               "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"}


@pytest.fixture
def website(app):
    standin = WeChatStandIn()
    standin.configure_website(app)
    yield standin
    standin.close()


def scan_qr(client, next_path=None):
    response = client.get("/auth/wechat/qr", query_string={"next": next_path} if next_path else {}, headers=DESKTOP)
    assert response.status_code == 302
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert at_wechat.status_code == 302, at_wechat.text
    back = urlsplit(at_wechat.headers["Location"])
    return client.get(f"{back.path}?{back.query}", headers=DESKTOP)


def test_on_a_computer_the_qr_code_sign_in_is_offered_only_when_the_website_app_is_set_up(app, client, website):
    page = client.get("/auth/login", headers=DESKTOP).get_data(as_text=True)
    assert 'data-testid="wechat-qr-sign-in"' in page and "微信扫码登录" in page
    assert 'data-testid="wechat-sign-in"' not in page
    assert "wechat-qr-sign-in" not in client.get("/auth/login", headers=PHONE_BROWSER).get_data(as_text=True)
    assert "wechat-qr-sign-in" not in client.get("/auth/login", headers=IN_WECHAT).get_data(as_text=True)
    location = urlsplit(client.get("/auth/wechat/qr", headers=DESKTOP).headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path == "/connect/qrconnect" and location.fragment == "wechat_redirect"
    assert (query["appid"], query["scope"], query["response_type"]) == (website.web_app_id, "snsapi_login", "code")
    assert client.get("/auth/wechat", headers=IN_WECHAT).status_code == 404  # the official account is not set up
    app.config.update(WECHAT_WEB_APP_ID="", WECHAT_WEB_APP_SECRET="")
    assert "wechat-qr-sign-in" not in client.get("/auth/login", headers=DESKTOP).get_data(as_text=True)
    assert client.get("/auth/wechat/qr", headers=DESKTOP).status_code == 404


def test_a_qr_code_sign_in_confirms_the_phone_once_then_scanning_signs_in(client, website, create_event):
    event = create_event()
    website.person = {"openid": OPENID, "unionid": "oUNIONxxxxxxxxxxxxxxxxxxxxxx"}
    response = scan_qr(client, f"/events/{event.id}")
    assert response.status_code == 303 and response.location == f"/auth/login?next=/events/{event.id}"
    confirm_phone(client)
    [(user_id, app_id, openid, unionid)] = bindings()
    assert (app_id, unionid) == (website.web_app_id, "oUNIONxxxxxxxxxxxxxxxxxxxxxx") and openid.startswith("oWEB")
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    response = scan_qr(client, f"/events/{event.id}")
    assert response.status_code == 303 and response.location.endswith(f"/events/{event.id}") and signed_in(client)


def test_the_same_person_in_wechat_and_on_a_computer_is_one_account_through_the_unionid(app, client, wechat,
                                                                                      create_resident):
    wechat.configure_website(app)  # both apps set up, one open platform
    person = create_resident()
    wechat.person = {"openid": OPENID, "unionid": "oUNIONxxxxxxxxxxxxxxxxxxxxxx"}
    db.session.add(WeChatBinding(user_id=person.id, app_id=APP_ID, openid=OPENID,
                                 unionid="oUNIONxxxxxxxxxxxxxxxxxxxxxx"))
    db.session.commit()
    response = scan_qr(client)
    assert response.status_code == 303 and signed_in(client)
    assert {b[0] for b in bindings()} == {person.id} and {b[1] for b in bindings()} == {APP_ID, wechat.web_app_id}


def test_a_bind_started_by_someone_who_signed_out_binds_nobody_else(client, wechat, create_resident):
    first, second = create_resident(), create_resident()
    sign_in(client, first)
    started = client.post("/profile/wechat/bind", data={"csrf_token": csrf_token_from(client, "/profile")})
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    sign_in(client, second)  # the same browser, another person
    at_wechat = requests.get(started.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 303
    assert bindings() == []
