"""Organizers see, for each announcement, how many it reached on each channel, how many failed and why, and how
many read it; through the API and on their page. Residents cannot announce."""

import sqlalchemy as sa

from app.extensions import db
from notifications.models import Notification
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.conftest import subscribe
from tests.notifications.pushservice import BrowserKeys, PushService


def test_reach_per_channel_with_failures_and_reads(app, client, organizer, create_resident):
    people = [create_resident() for _ in range(3)]
    with PushService() as push:
        push.answers["/push/gone"] = 410
        subscribe(people[0], BrowserKeys(), push.endpoint("ok"))
        subscribe(people[1], BrowserKeys(), push.endpoint("gone"))
        sign_in(client, organizer)
        csrf = {"X-CSRFToken": csrf_token_from(client)}
        created = client.post("/api/v1/notifications/announcements", headers=csrf, json={
            "segment": {"kind": "all"}, "title": "小镇公告：本周五路演日", "body": "欢迎参加。", "urgent": True})
    assert created.status_code == 201, created.get_json()
    announcement = created.get_json()
    [mine] = db.session.scalars(sa.select(Notification).where(Notification.user_id == people[0].id))
    sign_in(client, people[0])
    client.post(f"/api/v1/notifications/{mine.id}/read", headers={"X-CSRFToken": csrf_token_from(client)})

    sign_in(client, organizer)
    body = client.get(f"/api/v1/notifications/announcements/{announcement['id']}").get_json()
    assert body["status"] == "sent" and body["recipients"] == 4
    stats = body["stats"]
    assert stats["recipients"] == 4 and stats["read"] == 1
    assert stats["channels"]["webpush"] == {"sent": 1, "pending": 0, "failed": 1, "skipped": 0,
                                            "reasons": {"subscription gone (404/410)": 1}}
    page = client.get(f"/notifications/announcements/{announcement['id']}").get_data(as_text=True)
    assert 'data-testid="recipients">4<' in page and "subscription gone (404/410)" in page
    listed = client.get("/api/v1/notifications/announcements").get_json()
    assert [a["id"] for a in listed] == [announcement["id"]]


def test_residents_cannot_announce_or_see_announcements(client, create_resident):
    resident = create_resident()
    sign_in(client, resident)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    response = client.post("/api/v1/notifications/announcements", headers=csrf,
                           json={"segment": {"kind": "all"}, "title": "假公告"})
    assert response.status_code == 403
    assert client.get("/api/v1/notifications/announcements").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_the_page_sends_to_a_segment_and_explains_an_empty_one(client, organizer, create_resident, create_event):
    event = create_event(created_by_id=organizer.id)
    create_resident(company="模速科技")
    sign_in(client, organizer)
    token = csrf_token_from(client, "/notifications/announcements")
    empty = client.post("/notifications/announcements", data={
        "csrf_token": token, "segment": "registrants", "event_id": str(event.id), "title": "入场须知"})
    assert empty.status_code == 400 and 'data-error-code="empty_segment"' in empty.get_data(as_text=True)
    sent = client.post("/notifications/announcements", data={
        "csrf_token": token, "segment": "company", "company": "模速科技", "title": "企业服务日"})
    assert sent.status_code == 302
    assert "企业服务日" in client.get("/notifications/announcements").get_data(as_text=True)


def test_an_unknown_segment_is_a_clear_error(client, organizer):
    sign_in(client, organizer)
    response = client.post("/api/v1/notifications/announcements", headers={"X-CSRFToken": csrf_token_from(client)},
                           json={"segment": {"kind": "everyone"}, "title": "x"})
    assert response.status_code == 422 and "segment" in response.get_json()["error"]["details"]["fields"]
