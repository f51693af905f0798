"""Web Push for real: a push service on 127.0.0.1 records the encrypted request; the test decrypts it with the
subscription's own keys (RFC 8291, aes128gcm) and checks the payload and the VAPID signature (RFC 8292)."""

import json
from datetime import timedelta

import sqlalchemy as sa
from py_vapid import Vapid02

from app.db_types import utcnow
from app.extensions import db
from notifications import tasks
from notifications.models import Delivery, PushSubscription
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.conftest import messages_of, subscribe
from tests.notifications.pushservice import BrowserKeys, PushService, unb64


def deliveries_of(user_id, channel):
    from notifications.models import Notification

    db.session.expire_all()
    return list(db.session.scalars(sa.select(Delivery).join(Notification).where(
        Notification.user_id == user_id, Delivery.channel == channel).order_by(Delivery.id)))


def jwt_claims(authorization: str) -> dict:
    token = authorization.split("t=", 1)[1].split(",", 1)[0]
    return json.loads(unb64(token.split(".")[1]))


def test_a_sign_up_is_pushed_encrypted_and_signed_to_the_persons_browser(app, create_event, create_resident,
                                                                          sign_up, vapid_keys):
    event = create_event(title="技术沙龙：Agent 工程")
    person, keys = create_resident(), BrowserKeys()
    with PushService() as push:
        subscribe(person, keys, push.endpoint("phone"))
        sign_up(event, person)
        [request] = push.bodies_for("phone")
    headers = request["headers"]
    assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0
    assert headers["urgency"] == "normal"
    payload = keys.decrypt(request["body"])
    [message] = messages_of(person.id)
    assert payload == {"id": message.id, "title": message.title, "body": message.body,
                       "url": f"https://events.beiyang.test/events/{event.id}", "tag": f"n{message.id}",
                       "category": "registrations", "urgent": False}
    assert "Agent 工程" in payload["title"]
    authorization = headers["authorization"]
    assert Vapid02.verify(authorization)  # signed by the key in 'k'...
    assert authorization.split("k=", 1)[1] == vapid_keys[1]  # ...which is our configured public key
    claims = jwt_claims(authorization)
    assert claims["aud"] == push.base and claims["sub"] == "mailto:ops@beiyang.test"
    [delivery] = deliveries_of(person.id, "webpush")
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_every_device_of_the_person_gets_it(app, create_event, create_resident, sign_up):
    person, phone, laptop = create_resident(), BrowserKeys(), BrowserKeys()
    with PushService() as push:
        subscribe(person, phone, push.endpoint("phone"))
        subscribe(person, laptop, push.endpoint("laptop"))
        sign_up(create_event(), person)
        assert phone.decrypt(push.bodies_for("phone")[0]["body"])["title"]
        assert laptop.decrypt(push.bodies_for("laptop")[0]["body"])["title"]


def test_a_subscription_the_push_service_says_is_gone_is_removed(app, create_event, create_resident, sign_up):
    person, old, new = create_resident(), BrowserKeys(), BrowserKeys()
    with PushService() as push:
        push.answers["/push/old"] = 410
        push.answers["/push/uninstalled"] = 404
        subscribe(person, old, push.endpoint("old"))
        subscribe(person, BrowserKeys(), push.endpoint("uninstalled"))
        subscribe(person, new, push.endpoint("new"))
        sign_up(create_event(), person)
    db.session.expire_all()
    endpoints = db.session.scalars(sa.select(PushSubscription.endpoint)).all()
    assert endpoints == [push.endpoint("new")]
    assert deliveries_of(person.id, "webpush")[0].status == "sent"


def test_an_urgent_message_falls_back_to_sms_when_no_push_subscription_works(app, create_event, create_resident,
                                                                             organizer, sign_up):
    event = create_event(created_by_id=organizer.id)
    person = create_resident()
    with PushService() as push:
        push.answers["/push/gone"] = 410
        subscribe(person, BrowserKeys(), push.endpoint("gone"))
        sign_up(event, person)  # not urgent: the gone subscription is removed, no SMS
        assert deliveries_of(person.id, "sms") == []
        subscribe(person, BrowserKeys(), push.endpoint("gone"))
        from events.services import update_event

        update_event(event.id, organizer, now=utcnow(), venue="模速空间 B1 报告厅")
        db.session.commit()
    changed = messages_of(person.id)[-1]
    assert changed.kind == "event_changed" and changed.urgent
    push_delivery = [d for d in changed.deliveries if d.channel == "webpush"][0]
    assert push_delivery.status == "failed"
    assert [d.channel for d in changed.deliveries if d.channel == "sms"] == ["sms"]


def test_a_push_service_error_is_retried_with_backoff_until_it_goes_through(app, create_event, create_resident,
                                                                            sign_up):
    person, keys = create_resident(), BrowserKeys()
    with PushService() as push:
        push.answers["/push/phone"] = 503
        subscribe(person, keys, push.endpoint("phone"))
        sign_up(create_event(), person)
        [delivery] = deliveries_of(person.id, "webpush")
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert "503" in delivery.last_error
        first_retry = delivery.next_attempt_at
        assert timedelta(seconds=25) < first_retry - utcnow() <= timedelta(seconds=31)

        assert tasks.drain() == 0  # not due yet: nothing is sent early
        tasks.drain(now_fn=lambda: first_retry + timedelta(seconds=1))  # still failing: the wait doubles
        [delivery] = deliveries_of(person.id, "webpush")
        assert delivery.attempts == 2
        assert timedelta(seconds=59) <= delivery.next_attempt_at - first_retry <= timedelta(seconds=62)

        push.answers["/push/phone"] = 201
        tasks.drain(now_fn=lambda: delivery.next_attempt_at + timedelta(seconds=1))
        [delivery] = deliveries_of(person.id, "webpush")
        assert (delivery.status, delivery.attempts) == ("sent", 3)
        assert len(push.bodies_for("phone")) == 3
        ids = {keys.decrypt(r["body"])["id"] for r in push.bodies_for("phone")}
        assert len(ids) == 1  # the same message each time: the service worker shows it once (same tag)


def test_429_honours_retry_after(app, create_event, create_resident, sign_up):
    person = create_resident()
    with PushService() as push:
        push.answers["/push/phone"] = 429
        subscribe(person, BrowserKeys(), push.endpoint("phone"))
        sign_up(create_event(), person)
    [delivery] = deliveries_of(person.id, "webpush")
    assert timedelta(seconds=115) < delivery.next_attempt_at - utcnow() <= timedelta(seconds=121)


def test_a_delivery_gives_up_after_the_last_attempt(app, create_event, create_resident, sign_up):
    app.config["NOTIFICATIONS_MAX_ATTEMPTS"] = 2
    person = create_resident()
    with PushService() as push:
        push.answers["/push/phone"] = 500
        subscribe(person, BrowserKeys(), push.endpoint("phone"))
        sign_up(create_event(), person)
        tasks.drain(now_fn=lambda: utcnow() + timedelta(hours=2))
    [delivery] = deliveries_of(person.id, "webpush")
    assert (delivery.status, delivery.attempts) == ("failed", 2) and "500" in delivery.last_error


def test_a_long_message_is_shortened_to_fit_a_push_never_failed(app, create_resident):
    from notifications.services import Draft, notify

    person, keys = create_resident(), BrowserKeys()
    with PushService() as push:
        subscribe(person, keys, push.endpoint("phone"))
        notify(person.id, Draft(kind="announcement", category="announcements", dedupe_key="long",
                                render=lambda locale: ("公告", "很长的公告。" * 2000)), now=utcnow())
        db.session.commit()
        [request] = push.bodies_for("phone")
    assert len(request["body"]) <= 4096
    payload = keys.decrypt(request["body"])
    assert payload["title"] == "公告" and payload["body"].endswith("…") and len(payload["body"]) > 500


def test_subscribing_through_the_api(client, create_resident):
    person, keys = create_resident(), BrowserKeys()
    sign_in(client, person)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    body = {"endpoint": "http://127.0.0.1:9/push/x", "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
            "expirationTime": None}
    assert client.post("/api/v1/notifications/push/subscriptions", json=body, headers=csrf).status_code == 201
    assert client.post("/api/v1/notifications/push/subscriptions", json=body, headers=csrf).status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 1
    config = client.get("/api/v1/notifications/push/config").get_json()
    assert config["enabled"] and len(unb64(config["public_key"])) == 65
    assert client.delete("/api/v1/notifications/push/subscriptions", json={"endpoint": body["endpoint"]},
                         headers=csrf).status_code == 204
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_a_malformed_or_foreign_subscription_is_refused(client, create_resident):
    person, keys = create_resident(), BrowserKeys()
    sign_in(client, person)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    cases = [
        ({"endpoint": "http://10.0.0.5/push", "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}, "endpoint"),
        ({"endpoint": "javascript:alert(1)", "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}, "endpoint"),
        ({"endpoint": "https://push.example/x", "keys": {"p256dh": "bm90IGEga2V5", "auth": keys.auth}},
         "keys.p256dh"),
        ({"endpoint": "https://push.example/x", "keys": {"p256dh": keys.p256dh, "auth": "c2hvcnQ"}}, "keys.auth"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/notifications/push/subscriptions", json=body, headers=csrf)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["code"] == "invalid_subscription" and field in error["details"]["fields"]
    assert client.post("/api/v1/notifications/push/subscriptions", json={"endpoint": "https://x"},
                       headers=csrf).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_a_shared_phone_belongs_to_whoever_subscribes_it_now(client, create_resident):
    first, second, keys = create_resident(), create_resident(), BrowserKeys()
    body = {"endpoint": "https://push.example/phone", "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}
    for person in (first, second):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        sign_in(client, person)
        client.post("/api/v1/notifications/push/subscriptions", json=body,
                    headers={"X-CSRFToken": csrf_token_from(client)})
    db.session.expire_all()
    assert db.session.scalars(sa.select(PushSubscription.user_id)).all() == [second.id]
    sign_in(client, first)  # the first person cannot remove it any more
    client.delete("/api/v1/notifications/push/subscriptions", json={"endpoint": body["endpoint"]},
                  headers={"X-CSRFToken": csrf_token_from(client)})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 1


def test_the_vapid_keys_command_prints_a_usable_pair(runner):
    result = runner.invoke(args=["notifications", "vapid-keys"])
    lines = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert set(lines) == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"}
    assert len(unb64(lines["VAPID_PRIVATE_KEY"])) == 32 and len(unb64(lines["VAPID_PUBLIC_KEY"])) == 65


def test_pushes_go_through_the_configured_proxy_except_to_the_hosts_in_no_proxy(monkeypatch):
    from notifications.channels.webpush import ProxyChoice

    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert ProxyChoice()("https://fcm.googleapis.com/fcm/send/abc") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "push.example.cn,.internal.example")
    choose = ProxyChoice()
    assert choose("https://fcm.googleapis.com/fcm/send/abc") == "http://proxy.internal:3128"
    assert choose("https://push.example.cn/v1/abc") is None
    assert choose("https://a.internal.example/push/1") is None
    assert choose("http://fcm.googleapis.com/x") is None  # no HTTP_PROXY: plain http goes direct
