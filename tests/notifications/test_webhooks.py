"""Organizers' group robots: WeCom, DingTalk (加签) and Feishu (签名校验), each posted to a local server that checks
the body and the signature as the platform documents them; addresses only on the robot APIs' own HTTPS hosts."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from notifications import webhooks
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.providers import Recorder

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=c9a0ed2f6d0b4f1f"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/2d0c9d4e-2f0b-4c4b-9d1b-0d1e2f3a4b5c"
DING_SECRET = "SECb6a6f5fd3f0b1a3d8c3e0c6e3a7f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8"
FEISHU_SECRET = "qNg3kCb9Lk5oZ7xhHxk1fb"


def robot_server():
    def handle(request):
        body = json.loads(request["body"] or b"{}")
        if request["path"] == "/cgi-bin/webhook/send":
            ok = request["query"].get("key") and body.get("msgtype") == "markdown" and body["markdown"]["content"]
            return 200, {"errcode": 0 if ok else 40008, "errmsg": "ok" if ok else "invalid message type"}
        if request["path"] == "/robot/send":
            stamp, sign = request["query"].get("timestamp", ""), request["query"].get("sign", "")
            expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(),
                                                 hashlib.sha256).digest()).decode()
            fresh = stamp.isdigit() and abs(int(stamp) / 1000 - time.time()) < 3600
            if not (fresh and sign == expected):  # URL-encoded Base64 in the query, decoded once (as any query)
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
            ok = body.get("msgtype") == "markdown" and body["markdown"].get("title") and body["markdown"].get("text")
            return 200, {"errcode": 0 if ok else 40035, "errmsg": "ok" if ok else "缺少参数"}
        if request["path"].startswith("/open-apis/bot/v2/hook/"):
            stamp, sign = body.get("timestamp", ""), body.get("sign", "")
            expected = base64.b64encode(hmac.new(f"{stamp}\n{FEISHU_SECRET}".encode(), b"",
                                                 hashlib.sha256).digest()).decode()
            if not (stamp.isdigit() and abs(int(stamp) - time.time()) < 3600 and sign == expected):
                return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
            ok = body.get("msg_type") == "text" and body["content"].get("text")
            return 200, {"code": 0 if ok else 9499, "msg": "success" if ok else "Bad Request", "data": {}}
        return 404, {}

    return Recorder(handle)


@pytest.fixture
def robots(app):
    server = robot_server()
    app.config["NOTIFICATIONS_WEBHOOK_TEST_HOSTS"] = {host: server.base for host in (
        "qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn")}
    yield server
    server.close()


def test_each_robot_accepts_the_alert_as_its_platform_documents(app, robots, organizer, create_event):
    event = create_event(created_by_id=organizer.id)
    for kind, url, secret in (("wecom", WECOM, ""), ("dingtalk", DINGTALK, DING_SECRET),
                              ("feishu", FEISHU, FEISHU_SECRET)):
        webhooks.add_webhook(event.id, organizer, kind=kind, url=url, secret=secret, now=utcnow())
    db.session.commit()
    outcomes = webhooks.alert_event_organizers(event.id, "新报名：技术沙龙", "王珂 · 北杨科技\n12 / 50")
    assert list(outcomes.values()) == ["", "", ""], outcomes
    assert [w.last_status for w in webhooks.webhooks_of(event.id)] == ["ok", "ok", "ok"]


def test_a_wrong_secret_is_reported_by_the_robot(app, robots, organizer, create_event):
    event = create_event(created_by_id=organizer.id)
    webhooks.add_webhook(event.id, organizer, kind="dingtalk", url=DINGTALK, secret="SECwrong", now=utcnow())
    webhooks.add_webhook(event.id, organizer, kind="feishu", url=FEISHU, secret="wrong", now=utcnow())
    db.session.commit()
    outcomes = list(webhooks.alert_event_organizers(event.id, "t", "x").values())
    assert "310000" in outcomes[0] and "19021" in outcomes[1]


def test_a_sign_up_alerts_the_events_robots_after_commit(app, robots, organizer, create_event, create_resident,
                                                         sign_up):
    event = create_event(created_by_id=organizer.id, title="技术沙龙：向量数据库")
    webhooks.add_webhook(event.id, organizer, kind="wecom", url=WECOM, now=utcnow())
    db.session.commit()
    sign_up(event, create_resident(name="李雷", company="模速科技"))
    [request] = robots.requests
    content = json.loads(request["body"])["markdown"]["content"]
    assert "向量数据库" in content and "李雷 · 模速科技" in content and "1" in content


@pytest.mark.parametrize("kind, url", [
    ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"),
    ("wecom", "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=x"),
    ("wecom", "https://qyapi.weixin.qq.com@127.0.0.1/cgi-bin/webhook/send?key=x"),
    ("wecom", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=x"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/other?key=x"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
    ("dingtalk", "https://127.0.0.1/robot/send?access_token=x"),
    ("dingtalk", "https://169.254.169.254/robot/send?access_token=x"),
    ("dingtalk", WECOM),
    ("feishu", "https://open.feishu.cn/open-apis/im/v1/messages"),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/"),
    ("slack", "https://hooks.slack.com/services/x"),
])
def test_only_the_robot_apis_own_https_hosts_are_accepted(app, organizer, create_event, kind, url):
    event = create_event(created_by_id=organizer.id)
    with pytest.raises(DomainError) as error:
        webhooks.add_webhook(event.id, organizer, kind=kind, url=url, now=utcnow())
    assert error.value.code in ("invalid_webhook_url", "invalid_webhook")


def test_only_the_events_organizers_manage_its_robots(app, client, organizer, create_event, create_resident):
    event = create_event(created_by_id=organizer.id)
    stranger = create_resident()
    sign_in(client, stranger)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    response = client.post(f"/api/v1/notifications/events/{event.id}/webhooks", headers=csrf,
                           json={"kind": "wecom", "url": WECOM})
    assert response.status_code == 403
    sign_in(client, organizer)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    created = client.post(f"/api/v1/notifications/events/{event.id}/webhooks", headers=csrf,
                          json={"kind": "dingtalk", "url": DINGTALK, "secret": DING_SECRET})
    assert created.status_code == 201 and "secret" not in created.get_json()
    listed = client.get(f"/api/v1/notifications/events/{event.id}/webhooks").get_json()
    assert [w["kind"] for w in listed] == ["dingtalk"]
    bad = client.post(f"/api/v1/notifications/events/{event.id}/webhooks", headers=csrf,
                      json={"kind": "wecom", "url": "https://10.0.0.1/cgi-bin/webhook/send?key=x"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_webhook_url"
    assert client.delete(f"/api/v1/notifications/webhooks/{listed[0]['id']}", headers=csrf).status_code == 204


# ---- alerts as delivery rows: written with the sign-up, retried with backoff, failed with the robot's reason --------

def alert_rows(event_id):
    import sqlalchemy as sa

    from notifications.models import WebhookDelivery

    db.session.expire_all()
    return list(db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
                                   .order_by(WebhookDelivery.id)))


def test_an_alert_is_a_row_written_with_the_sign_up_and_gone_with_its_rollback(app, organizer, create_event,
                                                                               create_resident, monkeypatch):
    from events import services as events
    from notifications import tasks

    posted = []
    monkeypatch.setattr(tasks, "deliver_webhook_alerts", lambda: posted.append(1))
    event = create_event(created_by_id=organizer.id)
    webhooks.add_webhook(event.id, organizer, kind="wecom", url=WECOM, now=utcnow())
    webhooks.add_webhook(event.id, organizer, kind="feishu", url=FEISHU, now=utcnow())
    db.session.commit()
    events.register_for_event(event.id, create_resident(), now=utcnow())
    db.session.rollback()
    assert alert_rows(event.id) == [] and posted == []
    events.register_for_event(event.id, create_resident(), now=utcnow())
    db.session.commit()
    rows = alert_rows(event.id)
    assert [(r.signal, r.status) for r in rows] == [("registration-confirmed", "pending")] * 2 and posted == [1]


def test_an_unreachable_or_busy_robot_is_retried_with_backoff_until_it_answers(app, robots, organizer, create_event,
                                                                                 create_resident, sign_up):
    from datetime import timedelta

    event = create_event(created_by_id=organizer.id, title="技术沙龙：重试")
    webhooks.add_webhook(event.id, organizer, kind="wecom", url=WECOM, now=utcnow())
    db.session.commit()
    app.config["NOTIFICATIONS_WEBHOOK_TEST_HOSTS"] = {"qyapi.weixin.qq.com": "http://127.0.0.1:9"}  # nobody there
    sign_up(event, create_resident(name="韩梅梅"))
    [row] = alert_rows(event.id)
    assert row.status == "pending" and row.attempts == 1 and row.last_error.startswith("unreachable")
    first_retry = row.next_attempt_at

    app.config["NOTIFICATIONS_WEBHOOK_TEST_HOSTS"] = {"qyapi.weixin.qq.com": robots.base}
    assert webhooks.deliver_due_alerts(now_fn=utcnow) == 0  # not due yet: nothing is posted early
    assert robots.requests == []
    assert webhooks.deliver_due_alerts(now_fn=lambda: first_retry + timedelta(seconds=1)) == 1
    [row] = alert_rows(event.id)
    assert row.status == "sent" and row.attempts == 2
    assert "韩梅梅" in json.loads(robots.requests[0]["body"])["markdown"]["content"]


def test_a_robot_that_refuses_the_alert_fails_it_with_its_reason_and_nothing_is_sent_twice(
        app, robots, organizer, create_event, create_resident, sign_up):
    event = create_event(created_by_id=organizer.id)
    webhooks.add_webhook(event.id, organizer, kind="dingtalk", url=DINGTALK, secret="SECwrong", now=utcnow())
    db.session.commit()
    person = create_resident()
    sign_up(event, person)
    sign_up(event, person)  # a double tap: the same registration, no second alert
    [row] = alert_rows(event.id)
    assert row.status == "failed" and "310000" in row.last_error
    assert webhooks.alert_status(event.id) == {row.webhook_id: {"sent": 0, "pending": 0, "failed": 1, "skipped": 0}}
    assert len(robots.requests) == 1


# ---- the organizers' page -------------------------------------------------------------------------------------------

def test_organizers_connect_test_and_disconnect_a_robot_on_the_events_page(app, client, robots, organizer,
                                                                           create_event, create_resident):
    event = create_event(created_by_id=organizer.id, title="技术沙龙：大模型推理")
    page = f"/manage/events/{event.id}/robots"
    sign_in(client, create_resident())
    assert client.get(page).status_code == 403
    sign_in(client, organizer)
    assert f'href="{page}"' in client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    token = csrf_token_from(client, page)
    refused = client.post(page, headers={"Accept-Language": "zh-CN"}, data={
        "csrf_token": token, "kind": "wecom", "url": "https://127.0.0.1/cgi-bin/webhook/send?key=x",
        "secret": "keep-me-out"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "不是所选平台的群机器人地址" in html and "keep-me-out" not in html
    assert webhooks.webhooks_of(event.id) == []

    added = client.post(page, data={"csrf_token": token, "kind": "dingtalk", "url": DINGTALK,
                                    "secret": DING_SECRET})
    assert added.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "oapi.dingtalk.com · …4f1f" in html and DINGTALK not in html and DING_SECRET not in html
    robot = webhooks.webhooks_of(event.id)[0]

    tested = client.post(f"{page}/{robot.id}/test", data={"csrf_token": token}, follow_redirects=True)
    assert "机器人已收到测试消息。" in tested.get_data(as_text=True)
    assert robots.requests and "技术沙龙：大模型推理" in json.loads(robots.requests[-1]["body"])["markdown"]["text"]
    db.session.expire_all()
    assert webhooks.webhooks_of(event.id)[0].last_status == "ok"

    gone = client.post(f"{page}/{robot.id}/delete", data={"csrf_token": token})
    assert gone.status_code == 302 and webhooks.webhooks_of(event.id) == []
    assert client.post(f"{page}/{robot.id}/test", data={"csrf_token": token}).status_code == 404


# ---- the robot's host, after DNS resolution -------------------------------------------------------------------------

@pytest.mark.parametrize("addresses", [["10.0.0.8"], ["127.0.0.1"], ["169.254.169.254"], ["fd00::8"],
                                       ["203.0.113.1", "192.168.1.1"], []])
def test_a_robot_host_that_resolves_to_an_internal_address_is_refused(app, organizer, create_event, dns, addresses):
    """The platform's host name is not enough: where it leads is checked (a poisoned resolver, a hosts file)."""
    event = create_event(created_by_id=organizer.id)
    dns["qyapi.weixin.qq.com"] = addresses
    with pytest.raises(DomainError) as error:
        webhooks.add_webhook(event.id, organizer, kind="wecom", url=WECOM, now=utcnow())
    assert error.value.code == "invalid_webhook_url"


def test_a_robot_whose_host_now_resolves_to_an_internal_address_is_not_posted_to(app, organizer, create_event, dns,
                                                                               monkeypatch):
    event = create_event(created_by_id=organizer.id)
    robot = webhooks.add_webhook(event.id, organizer, kind="dingtalk", url=DINGTALK, now=utcnow())
    db.session.commit()
    posted = []
    monkeypatch.setattr(webhooks.requests, "post", lambda *args, **kwargs: posted.append(args))
    dns["oapi.dingtalk.com"] = ["10.0.0.9"]
    reason = webhooks.post_alert(robot, "标题", "正文")
    assert posted == [] and "refused" in reason and "10.0.0.9" in reason
    del dns["oapi.dingtalk.com"]  # no answer at all: refused for now, tried again later
    assert webhooks.post_alert_with_outcome(robot, "标题", "正文")[1] is True and posted == []


def test_the_robots_api_never_shows_a_robots_key_whole(app, client, organizer, create_event):
    event = create_event(created_by_id=organizer.id)
    sign_in(client, organizer)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    created = client.post(f"/api/v1/notifications/events/{event.id}/webhooks", headers=csrf,
                          json={"kind": "wecom", "url": WECOM})
    listed = client.get(f"/api/v1/notifications/events/{event.id}/webhooks")
    token = WECOM.split("key=")[1]
    for text in (created.get_data(as_text=True), listed.get_data(as_text=True)):
        assert token not in text and token[:8] not in text
    assert listed.get_json()[0]["url"] == created.get_json()["url"] == "qyapi.weixin.qq.com · …5aaa"
    assert listed.get_json()[0]["url"] == webhooks.masked_address(WECOM)  # as the robots page shows it
