"""A resident links their WeChat: off to the official account's authorisation page (snsapi_base) with a one-time
state, back with a code, exchanged for the openid at a local stand-in of api.weixin.qq.com that checks the request
as WeChat documents it (`sns/oauth2/access_token`). WeChat messages then reach them."""

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from notifications import services
from notifications.models import Delivery, NotificationSettings
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.conftest import messages_of, quiet_hours_off
from tests.notifications.providers import Recorder

APP_ID, SECRET = "wx520c15f417810387", "test-app-secret-0123456789abcdef"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@pytest.fixture
def wechat(app):
    codes = {"good-code": OPENID, "other-code": "oOTHERxxxxxxxxxxxxxxxxxxxxxxx"}

    def handle(request):
        q = request["query"]
        if request["path"] != "/sns/oauth2/access_token" or request["method"] != "GET":
            return 404, {"errcode": 404}
        if q.get("appid") != APP_ID or q.get("secret") != SECRET or q.get("grant_type") != "authorization_code":
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        openid = codes.pop(q.get("code"), None)  # a code works once
        if openid is None:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}
        return 200, {"access_token": "ACCESS", "expires_in": 7200, "refresh_token": "REFRESH", "openid": openid,
                     "scope": "snsapi_base"}

    server = Recorder(handle)
    app.config.update(WECHAT_APP_ID=APP_ID, WECHAT_APP_SECRET=SECRET, WECHAT_TEMPLATE_ID="tmpl",
                      WECHAT_API_BASE=server.base, WECHAT_OAUTH_BASE="https://open.weixin.qq.com")
    yield server
    server.close()


def start_link(client):
    csrf = csrf_token_from(client, "/notifications/wechat")
    response = client.post("/notifications/wechat/link", data={"csrf_token": csrf})
    assert response.status_code == 302
    return response.headers["Location"]


def test_a_resident_links_their_wechat_through_the_official_accounts_authorisation(app, client, wechat,
                                                                                    create_resident):
    person = create_resident()
    sign_in(client, person)
    page = client.get("/notifications/wechat").get_data(as_text=True)
    assert 'data-testid="wechat-link"' in page and "wechat-linked" not in page
    location = start_link(client)
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "open.weixin.qq.com", "/connect/oauth2/authorize")
    assert parts.fragment == "wechat_redirect"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["appid"] == APP_ID and query["response_type"] == "code" and query["scope"] == "snsapi_base"
    assert query["redirect_uri"].endswith("/notifications/wechat/callback") and len(query["state"]) >= 16

    back = client.get(f"/notifications/wechat/callback?code=good-code&state={query['state']}")
    assert back.status_code == 303
    assert "wechat-linked" in client.get("/notifications/wechat").get_data(as_text=True)
    assert db.session.get(NotificationSettings, person.id).wechat_openid == OPENID

    quiet_hours_off(person.id)
    draft = services.Draft(kind="t", category="reminders", render=lambda locale: ("明天：沙龙", "19:00"),
                           dedupe_key="after-link")
    services.notify(person.id, draft, now=utcnow())
    db.session.commit()
    [message] = messages_of(person.id)
    assert "wechat" in {d.channel for d in db.session.scalars(sa.select(Delivery).where(
        Delivery.notification_id == message.id))}


def test_a_foreign_or_replayed_state_links_nothing(app, client, wechat, create_resident):
    person = create_resident()
    sign_in(client, person)
    state = parse_qs(urlsplit(start_link(client)).query)["state"][0]
    assert client.get("/notifications/wechat/callback?code=good-code&state=forged").status_code == 303
    assert client.get(f"/notifications/wechat/callback?code=good-code&state={state}").status_code == 303  # used up
    assert not services.wechat_linked(person.id)
    assert wechat.requests == []  # WeChat was never asked


def test_an_invalid_code_is_refused_with_a_message_and_links_nothing(app, client, wechat, create_resident):
    person = create_resident()
    sign_in(client, person)
    state = parse_qs(urlsplit(start_link(client)).query)["state"][0]
    client.get(f"/notifications/wechat/callback?code=stale-code&state={state}")
    assert not services.wechat_linked(person.id)
    assert len(wechat.requests) == 1


def test_one_wechat_belongs_to_one_account_and_can_be_unlinked(app, client, wechat, create_resident):
    first, second = create_resident(), create_resident()
    db.session.add(NotificationSettings(user_id=first.id, wechat_openid=OPENID))
    db.session.commit()
    sign_in(client, second)
    state = parse_qs(urlsplit(start_link(client)).query)["state"][0]
    client.get(f"/notifications/wechat/callback?code=good-code&state={state}")
    db.session.expire_all()
    assert services.wechat_linked(second.id) and not services.wechat_linked(first.id)
    csrf = csrf_token_from(client, "/notifications/wechat")
    assert client.post("/notifications/wechat/unlink", data={"csrf_token": csrf}).status_code == 302
    db.session.expire_all()
    assert not services.wechat_linked(second.id)


def test_without_wechat_configured_the_page_says_so(app, client, create_resident):
    sign_in(client, create_resident())
    assert "wechat-link" in client.get("/notifications/wechat").get_data(as_text=True)
    assert client.post("/notifications/wechat/link",
                       data={"csrf_token": csrf_token_from(client, "/notifications/wechat")}).status_code == 404
