"""`pushsubscriptionchange`: the push service replaced a browser's subscription. The service worker sends the old
one (proved by its auth secret, no cookie) and the new one; the server moves the owner to the new one."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from notifications.models import PushSubscription
from tests.notifications.conftest import subscribe
from tests.notifications.pushservice import BrowserKeys
from tests.notifications.test_service_worker_browser import chromium_available, in_own_thread  # noqa: F401


def body(old_sub, old_auth, new_endpoint, new_keys):
    return {"old": {"endpoint": old_sub, "keys": {"auth": old_auth}},
            "new": {"endpoint": new_endpoint, "keys": {"p256dh": new_keys.p256dh, "auth": new_keys.auth},
                    "expirationTime": None}}


def subscriptions():
    db.session.expire_all()
    rows = db.session.scalars(sa.select(PushSubscription).order_by(PushSubscription.id))
    return [(s.user_id, s.endpoint) for s in rows]


def test_the_old_subscriptions_secret_moves_its_owner_to_the_new_one(app, client, create_resident):
    person = create_resident()
    old_keys, new_keys = BrowserKeys(), BrowserKeys()
    subscribe(person, old_keys, "https://push.example.com/old")
    answer = client.post("/api/v1/notifications/push/resubscribe",
                         json=body("https://push.example.com/old", old_keys.auth, "https://push.example.com/new",
                                   new_keys))
    assert answer.status_code == 200, answer.get_json()
    assert subscriptions() == [(person.id, "https://push.example.com/new")]
    assert db.session.scalar(sa.select(PushSubscription.auth)) == new_keys.auth


@pytest.mark.parametrize("endpoint, which_auth", [("https://push.example.com/old", "wrong"),
                                                   ("https://push.example.com/unknown", "right")])
def test_without_the_old_subscriptions_secret_nothing_changes(app, client, create_resident, endpoint, which_auth):
    person = create_resident()
    old_keys, new_keys = BrowserKeys(), BrowserKeys()
    subscribe(person, old_keys, "https://push.example.com/old")
    auth = old_keys.auth if which_auth == "right" else BrowserKeys().auth
    answer = client.post("/api/v1/notifications/push/resubscribe",
                         json=body(endpoint, auth, "https://attacker.example.com/new", new_keys))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "subscription_not_found"
    assert subscriptions() == [(person.id, "https://push.example.com/old")]


def test_a_malformed_new_subscription_is_refused(app, client, create_resident):
    person = create_resident()
    old_keys = BrowserKeys()
    subscribe(person, old_keys, "https://push.example.com/old")
    answer = client.post("/api/v1/notifications/push/resubscribe", json={
        "old": {"endpoint": "https://push.example.com/old", "keys": {"auth": old_keys.auth}},
        "new": {"endpoint": "ftp://x", "keys": {"p256dh": "AAAA", "auth": "short"}}})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_subscription"
    assert subscriptions() == [(person.id, "https://push.example.com/old")]


@pytest.mark.browser
def test_the_service_worker_sends_the_change_without_a_session(app, chromium_available, create_resident):  # noqa: F811
    """In Chromium: the service worker's own resubscribe (what its `pushsubscriptionchange` listener runs) posts the
    old and the new subscription, cookie-less, and the server moves the person to the new endpoint. Chromium never
    fires the event itself, so the test calls the listener's function with the two subscriptions."""
    from tests.live_server import live_server

    person = create_resident()
    old_keys, new_keys = BrowserKeys(), BrowserKeys()
    subscribe(person, old_keys, "https://push.example.com/old")
    old = {"endpoint": "https://push.example.com/old", "keys": {"p256dh": old_keys.p256dh, "auth": old_keys.auth},
           "expirationTime": None}
    new = {"endpoint": "https://push.example.com/rotated", "keys": {"p256dh": new_keys.p256dh,
                                                                    "auth": new_keys.auth}, "expirationTime": None}
    with live_server(app) as base:
        def run(chromium):
            context = chromium.new_context(permissions=["notifications"])
            page = context.new_page()
            page.goto(base + "/")
            page.evaluate("navigator.serviceWorker.register('/sw.js', {scope: '/'})"
                          ".then(() => navigator.serviceWorker.ready)")
            worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
            status = worker.evaluate("""([old, fresh]) => self.beiyangPush.resubscribe(
                {toJSON: () => old, options: {}}, {toJSON: () => fresh}).then(r => r.status)""", [old, new])
            assert status == 200
            context.close()

        in_own_thread(run)
    assert subscriptions() == [(person.id, "https://push.example.com/rotated")]
