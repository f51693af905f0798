"""Push subscription endpoints are addresses the server calls: checked like the robots' (app.safe_urls.
check_public_url) when a browser subscribes and again at every sending (DNS may have changed): HTTPS, public hosts
only, decided after DNS resolution. The tests' DNS is conftest.dns; the tests' push service runs on 127.0.0.1 over
http, which only the tests' NOTIFICATIONS_ALLOW_INSECURE_PUSH allows."""

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from notifications.models import PushSubscription
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.conftest import quiet_hours_off, subscribe
from tests.notifications.pushservice import BrowserKeys, PushService
from tests.notifications.test_webpush import deliveries_of

REFUSED = [
    "http://push.example.com/x",  # not https
    "https://127.0.0.1/x", "https://localhost/x", "https://2130706433/x", "https://0x7f.1/x", "https://127.1/x",
    "https://10.0.0.5/x", "https://192.168.1.20/x", "https://172.16.0.1/x", "https://100.64.0.1/x",
    "https://169.254.169.254/latest/meta-data", "https://0.0.0.0/x", "https://224.0.0.1/x", "https://240.0.0.1/x",
    "https://[::1]/x", "https://[fd00::1]/x", "https://[fe80::1]/x", "https://[2606:4700::1111]/x",  # IPv6 literals
    "https://[::ffff:127.0.0.1]/x",
    "https://internal.example.com/x",  # resolves to a private address
    "https://half.example.com/x",  # one public address and one loopback
    "https://ula.example.com/x", "https://mapped.example.com/x",
    "https://nowhere.example.com/x",  # no DNS answer: nothing is decided in its favour
    "https://user@push.example.com/x", "ftp://push.example.com/x", "javascript:alert(1)", "https:///x",
]


@pytest.fixture
def public_only(app, dns):
    """As in production: no local push service allowed."""
    app.config["NOTIFICATIONS_ALLOW_INSECURE_PUSH"] = False
    dns.update({"internal.example.com": ["10.1.2.3"], "half.example.com": ["93.184.215.14", "127.0.0.1"],
                "ula.example.com": ["fd12:3456::1"], "mapped.example.com": ["::ffff:10.0.0.1"]})
    return dns


@pytest.mark.parametrize("endpoint", REFUSED)
def test_a_push_endpoint_that_is_not_a_public_https_address_is_refused_with_422(client, create_resident,
                                                                                public_only, endpoint):
    person, keys = create_resident(), BrowserKeys()
    sign_in(client, person)
    body = {"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}
    response = client.post("/api/v1/notifications/push/subscriptions", json=body,
                           headers={"X-CSRFToken": csrf_token_from(client), "Accept-Language": "zh-CN"})
    assert response.status_code == 422, endpoint
    error = response.get_json()["error"]
    assert error["code"] == "invalid_subscription" and list(error["details"]["fields"]) == ["endpoint"]
    assert "推送服务" in error["details"]["fields"]["endpoint"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_a_public_https_push_endpoint_is_accepted_and_a_replacement_is_checked_too(client, create_resident,
                                                                                   public_only):
    person, keys, new_keys = create_resident(), BrowserKeys(), BrowserKeys()
    sign_in(client, person)
    body = {"endpoint": "https://push.example.com/phone", "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}
    assert client.post("/api/v1/notifications/push/subscriptions", json=body,
                       headers={"X-CSRFToken": csrf_token_from(client)}).status_code == 201
    moved = client.post("/api/v1/notifications/push/resubscribe", headers={
        "Accept-Language": "en", "X-CSRFToken": csrf_token_from(client)}, json={
        "old": {"endpoint": "https://push.example.com/phone", "keys": {"auth": keys.auth}},
        "new": {"endpoint": "https://internal.example.com/phone",
                "keys": {"p256dh": new_keys.p256dh, "auth": new_keys.auth}}})
    assert moved.status_code == 422 and "HTTPS" in moved.get_json()["error"]["details"]["fields"]["endpoint"]
    db.session.expire_all()
    assert db.session.scalars(sa.select(PushSubscription.endpoint)).all() == ["https://push.example.com/phone"]


def test_the_tests_setting_allows_only_loopback_over_http(app, create_resident, dns):
    from app.errors import DomainError

    assert app.config["NOTIFICATIONS_ALLOW_INSECURE_PUSH"]
    person = create_resident()
    subscribe(person, BrowserKeys(), "http://127.0.0.1:9/push/x")
    dns["internal.example.com"] = ["10.1.2.3"]
    for endpoint in ("http://10.0.0.5/x", "http://push.example.com/x", "https://internal.example.com/x",
                     "http://[::1]:9/x"):
        with pytest.raises(DomainError):
            subscribe(person, BrowserKeys(), endpoint)
        db.session.rollback()


def test_production_refuses_to_start_with_the_tests_setting(monkeypatch):
    from app import create_app
    from app.config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("NOTIFICATIONS_ALLOW_INSECURE_PUSH_FOR_TESTS", "1")
    with pytest.raises(RuntimeError, match="NOTIFICATIONS_ALLOW_INSECURE_PUSH"):
        create_app(ProductionConfig)


# ---- at sending -----------------------------------------------------------------------------------------------------

def test_a_stored_endpoint_on_an_internal_address_is_not_called_at_sending(app, create_event, create_resident,
                                                                           sign_up):
    """A subscription saved before the check (or while the tests' setting was on) is checked again when sent."""
    person, keys = create_resident(), BrowserKeys()
    with PushService() as push:
        subscribe(person, keys, push.endpoint("phone"))
        app.config["NOTIFICATIONS_ALLOW_INSECURE_PUSH"] = False
        sign_up(create_event(), person)
        assert push.received == []
    [delivery] = deliveries_of(person.id, "webpush")
    assert delivery.status == "failed" and "refused" in delivery.last_error


def test_an_endpoint_whose_name_now_resolves_to_a_private_address_is_refused_at_sending(app, create_event,
                                                                                        create_resident, sign_up,
                                                                                        dns):
    person = create_resident()
    subscribe(person, BrowserKeys(), "https://push.example.com/phone")  # public when subscribed
    dns["push.example.com"] = ["10.0.0.7"]  # and now internal (DNS rebinding)
    sign_up(create_event(), person)
    [delivery] = deliveries_of(person.id, "webpush")
    assert delivery.status == "failed" and "refused" in delivery.last_error and "10.0.0.7" in delivery.last_error


@pytest.mark.parametrize("broken", ["refused", "dns", "timeout", "5xx"])
def test_one_broken_subscription_never_keeps_the_message_from_the_persons_other_ones(app, create_event,
                                                                                    create_resident, sign_up, dns,
                                                                                    broken):
    person, phone, laptop = create_resident(), BrowserKeys(), BrowserKeys()
    quiet_hours_off(person.id)
    app.config["NOTIFICATIONS_SEND_TIMEOUT"] = 1
    with PushService() as push, PushService(delay=3) as slow:
        endpoint = {"refused": "https://push.example.com/laptop", "dns": "https://push.example.com/laptop",
                    "timeout": slow.endpoint("laptop"), "5xx": push.endpoint("laptop")}[broken]
        subscribe(person, laptop, endpoint)  # the broken one first
        subscribe(person, phone, push.endpoint("phone"))
        if broken == "refused":
            dns["push.example.com"] = ["192.168.0.9"]
        elif broken == "dns":
            del dns["push.example.com"]
        push.answers["/push/laptop"] = 503
        sign_up(create_event(), person, now=utcnow())
        [request] = push.bodies_for("phone")
        assert phone.decrypt(request["body"])["title"]
    [delivery] = deliveries_of(person.id, "webpush")
    assert delivery.status == "sent"
