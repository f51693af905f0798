"""Preferences per category and channel, and quiet hours: non-urgent pushes wait until 08:00 Shanghai time; urgent
ones go at once; transactional messages can be moved to the inbox, never switched off."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from app.db_types import utcnow
from app.extensions import db
from notifications import services, tasks
from notifications.models import Delivery, NotificationSettings
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.conftest import messages_of
from tests.notifications.pushservice import BrowserKeys, PushService

NIGHT = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
MORNING = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def subscribed(person, push, name="phone"):
    keys = BrowserKeys()
    services.subscribe_device(person.id, endpoint=push.endpoint(name), p256dh=keys.p256dh, auth=keys.auth,
                              now=utcnow())
    db.session.commit()
    return keys


def draft(key, urgent=False, category="announcements"):
    return services.Draft(kind="announcement", category=category, dedupe_key=key, urgent=urgent,
                          render=lambda locale: ("小镇公告", "内容"))


def test_a_non_urgent_push_at_night_waits_until_eight_and_then_goes(app, create_resident):
    person = create_resident()
    person.email = "night@example.com"
    db.session.commit()
    with PushService() as push, time_machine.travel(MORNING + timedelta(days=30), tick=False):
        # The wall clock is long past the morning: the delivery the commit triggers must still judge by the clock
        # the message was written with (NIGHT), not by the wall clock (it once did, and the test broke on 2 Dec).
        keys = subscribed(person, push)
        services.notify(person.id, draft("late"), now=NIGHT)
        db.session.commit()
        assert push.received == []  # held back
        [message] = messages_of(person.id)  # but in the inbox already
        by_channel = {d.channel: d for d in message.deliveries}
        assert by_channel["webpush"].next_attempt_at == MORNING
        assert by_channel["webpush"].status == "pending"
        assert by_channel["email"].status == "sent"  # e-mail does not buzz a phone: not held, sent at once
        tasks.drain(now_fn=lambda: MORNING - timedelta(minutes=1))
        assert push.received == []
        tasks.drain(now_fn=lambda: MORNING + timedelta(seconds=5))
        assert keys.decrypt(push.received[0]["body"])["title"] == "小镇公告"


def test_an_urgent_message_goes_at_once_even_at_night(app, create_resident):
    person = create_resident()
    with PushService() as push:
        subscribed(person, push)
        services.notify(person.id, draft("urgent", urgent=True), now=NIGHT - timedelta(days=60))  # due now
        db.session.commit()
        assert len(push.received) == 1 and push.received[0]["headers"]["urgency"] == "high"


def test_own_quiet_hours_or_none(app, create_resident):
    person = create_resident()
    services.update_preferences(person.id, quiet_hours={"enabled": True, "start": "23:00", "end": "07:30"})
    db.session.commit()
    settings = services.settings_of(person.id)
    assert services.quiet_hours_end(settings, NIGHT) is None  # 22:30 is before 23:00
    assert services.quiet_hours_end(settings, NIGHT + timedelta(hours=1)) == MORNING - timedelta(minutes=30)
    services.update_preferences(person.id, quiet_hours={"enabled": False})
    db.session.commit()
    assert services.quiet_hours_end(services.settings_of(person.id), NIGHT + timedelta(hours=1)) is None


def test_transactional_messages_can_be_moved_to_the_inbox_only(app, create_resident, create_event, sign_up):
    person = create_resident()
    person.email = "me@example.com"
    db.session.commit()
    services.update_preferences(person.id, channels={"registrations": {c: False for c in
                                                                       ("webpush", "email", "sms", "wechat")}})
    db.session.commit()
    sign_up(create_event(), person)
    [message] = messages_of(person.id)
    assert message.kind == "registration_confirmed" and message.deliveries == []


def test_the_api_shows_and_changes_preferences(client, create_resident):
    person = create_resident()
    sign_in(client, person)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    view = client.get("/api/v1/notifications/preferences").get_json()
    assert view["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}
    assert view["channels"]["announcements"] == {"inbox": True, "webpush": True, "email": True, "sms": False,
                                                 "wechat": True}
    assert view["channels"]["registrations"]["sms"] is True
    changed = client.put("/api/v1/notifications/preferences", headers=csrf, json={
        "channels": {"announcements": {"email": False}}, "quiet_hours": {"start": "21:30", "end": "07:00"}})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["channels"]["announcements"]["email"] is False and body["quiet_hours"]["start"] == "21:30"
    refused = client.put("/api/v1/notifications/preferences", headers=csrf,
                         json={"channels": {"registrations": {"inbox": False}}})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "transactional_inbox"
    unknown = client.put("/api/v1/notifications/preferences", headers=csrf,
                         json={"channels": {"gossip": {"inbox": False}}})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "unknown_category"
    bad_time = client.put("/api/v1/notifications/preferences", headers=csrf, json={"quiet_hours": {"start": "25:00"}})
    assert bad_time.get_json()["error"]["code"] == "invalid_quiet_hours"


def test_the_settings_page_saves_choices_and_keeps_transactional_inboxes(client, create_resident):
    person = create_resident()
    sign_in(client, person)
    html = client.get("/notifications/settings").get_data(as_text=True)
    assert 'name="registrations.inbox" aria-label' in html and "checked disabled" in html
    form = {"csrf_token": csrf_token_from(client, "/notifications/settings"), "announcements.inbox": "on",
            "announcements.webpush": "on", "quiet_enabled": "on", "quiet_start": "22:30", "quiet_end": "07:45"}
    assert client.post("/notifications/settings", data=form).status_code == 302
    view = services.preferences_view(person.id)
    assert view["channels"]["announcements"] == {"inbox": True, "webpush": True, "email": False, "sms": False,
                                                 "wechat": False}
    assert view["channels"]["registrations"]["inbox"] is True and view["channels"]["registrations"]["email"] is False
    assert view["quiet_hours"]["end"] == "07:45"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationSettings)) == 1


def test_the_site_is_an_installable_app_with_a_push_service_worker(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["display"] == "standalone" and {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        assert client.get(icon["src"]).status_code == 200
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and worker.headers["Service-Worker-Allowed"] == "/"
    assert 'importScripts("/static/js/push-sw.js");' in worker.get_data(as_text=True)
    assert 'rel="manifest"' in client.get("/").get_data(as_text=True)


def test_deliveries_held_for_quiet_hours_are_counted_as_pending(app, create_resident):
    person = create_resident()
    with PushService() as push:
        subscribed(person, push)
        services.notify(person.id, draft("late"), now=NIGHT)
        db.session.commit()
    assert db.session.scalar(sa.select(Delivery.status)) == "pending"
