"""In WeChat's browser there is no Web Push: the settings page says so in words and points to WeChat messages,
and a person who bound WeChat to sign in (through the official account that sends the messages) gets them there
without linking it a second time. Outside WeChat, push is offered as before."""

from urllib.parse import urlsplit

import requests

from app.extensions import db
from notifications import services
from notifications.models import NotificationSettings
from tests.app.test_wechat_sign_in import IN_WECHAT, OPENID, confirm_phone
from tests.conftest import csrf_token_from, sign_in


def back_from_wechat(client, response):
    at_wechat = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_wechat.headers["Location"])
    return client.get(f"{back.path}?{back.query}", headers=IN_WECHAT)


def test_in_wechat_the_settings_page_says_push_cannot_reach_and_offers_wechat_messages(app, client, wechat,
                                                                                        create_resident):
    sign_in(client, create_resident())
    page = client.get("/notifications/settings", headers=IN_WECHAT).get_data(as_text=True)
    assert 'data-testid="push-in-wechat"' in page and "微信内置浏览器收不到网页推送" in page
    assert "data-push-toggle" not in page and 'data-testid="push-enable"' not in page
    assert "在下方关联微信后" in page  # not linked yet: the way to WeChat messages
    outside = client.get("/notifications/settings").get_data(as_text=True)
    assert "data-push-toggle" in outside and "push-in-wechat" not in outside


def test_in_wechat_without_wechat_set_up_reminders_stay_in_the_inbox(app, client, create_resident):
    sign_in(client, create_resident())
    page = client.get("/notifications/settings", headers=IN_WECHAT).get_data(as_text=True)
    assert "微信内置浏览器收不到网页推送" in page and "消息中心" in page and "data-push-toggle" not in page


def test_signing_in_with_wechat_makes_it_where_wechat_messages_reach(app, client, wechat):
    back_from_wechat(client, client.get("/auth/wechat", headers=IN_WECHAT))
    confirm_phone(client)
    db.session.expire_all()
    [settings] = db.session.query(NotificationSettings).all()
    assert settings.wechat_openid == OPENID and services.wechat_linked(settings.user_id)
    page = client.get("/notifications/settings", headers=IN_WECHAT).get_data(as_text=True)
    assert "可在下方选择微信" in page


def test_a_wechat_linked_for_messages_is_kept_and_one_linked_by_someone_else_is_not_taken(app, client, wechat,
                                                                                         create_resident):
    other, person = create_resident(), create_resident()
    db.session.add(NotificationSettings(user_id=other.id, wechat_openid=OPENID))
    db.session.commit()
    sign_in(client, person)
    back_from_wechat(client, client.post("/profile/wechat/bind",
                                         data={"csrf_token": csrf_token_from(client, "/profile")}))
    db.session.expire_all()
    assert db.session.get(NotificationSettings, other.id).wechat_openid == OPENID
    assert not services.wechat_linked(person.id)

    db.session.get(NotificationSettings, other.id).wechat_openid = None
    db.session.add(NotificationSettings(user_id=person.id, wechat_openid="oLINKEDFORMESSAGESxxxxxxxxxx"))
    db.session.commit()
    client.post("/profile/wechat/unbind", data={"csrf_token": csrf_token_from(client, "/profile")})
    back_from_wechat(client, client.post("/profile/wechat/bind",
                                         data={"csrf_token": csrf_token_from(client, "/profile")}))
    db.session.expire_all()
    assert db.session.get(NotificationSettings, person.id).wechat_openid == "oLINKEDFORMESSAGESxxxxxxxxxx"
