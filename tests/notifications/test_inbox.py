"""The inbox (消息中心): pages, JSON API, unread badge, deep links; a person only ever sees their own messages."""

import sqlalchemy as sa

from app.extensions import db
from notifications.models import Notification
from tests.conftest import csrf_token_from, sign_in
from tests.notifications.conftest import messages_of


def signed_up_person(create_event, create_resident, sign_up, n_events=1, **person):
    user = create_resident(**person)
    events = [create_event(title=f"技术沙龙 {i}") for i in range(n_events)]
    for event in events:
        sign_up(event, user)
    return user, events


def test_the_api_lists_my_messages_newest_first_with_the_unread_count(client, create_event, create_resident,
                                                                      sign_up):
    user, events = signed_up_person(create_event, create_resident, sign_up, n_events=3)
    sign_in(client, user)
    body = client.get("/api/v1/notifications").get_json()
    assert body["unread_count"] == 3
    assert [item["link"] for item in body["items"]] == [f"/events/{e.id}" for e in reversed(events)]
    assert set(body["items"][0]) >= {"id", "category", "kind", "title", "body", "link", "created_at", "read_at"}
    page = client.get("/api/v1/notifications?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_before_id"] == page["items"][-1]["id"]
    rest = client.get(f"/api/v1/notifications?limit=2&before_id={page['next_before_id']}").get_json()
    assert [i["link"] for i in rest["items"]] == [f"/events/{events[0].id}"]


def test_marking_read_one_some_or_all(client, create_event, create_resident, sign_up):
    user, _events = signed_up_person(create_event, create_resident, sign_up, n_events=3)
    sign_in(client, user)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    ids = [i["id"] for i in client.get("/api/v1/notifications").get_json()["items"]]
    one = client.post(f"/api/v1/notifications/{ids[0]}/read", headers=csrf)
    assert one.status_code == 200 and one.get_json()["read_at"]
    assert client.get("/api/v1/notifications/unread-count").get_json() == {"unread_count": 2}
    assert client.post("/api/v1/notifications/read", json={"ids": ids}, headers=csrf).get_json() == {
        "changed": 2, "unread_count": 0}
    assert client.get("/api/v1/notifications?unread=true").get_json()["items"] == []


def test_nobody_reads_or_marks_another_persons_messages(client, create_event, create_resident, sign_up):
    owner, _events = signed_up_person(create_event, create_resident, sign_up)
    [message] = messages_of(owner.id)
    stranger = create_resident()
    sign_in(client, stranger)
    csrf = {"X-CSRFToken": csrf_token_from(client)}
    assert client.get(f"/api/v1/notifications/{message.id}").status_code == 404
    response = client.post(f"/api/v1/notifications/{message.id}/read", headers=csrf)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "notification_not_found"
    assert client.post("/api/v1/notifications/read", json={"ids": [message.id]}, headers=csrf).get_json()[
        "changed"] == 0
    assert client.post("/api/v1/notifications/read", json={"all": True}, headers=csrf).get_json()["changed"] == 0
    assert client.get("/api/v1/notifications").get_json() == {"items": [], "unread_count": 0, "next_before_id": None}
    assert client.post(f"/notifications/{message.id}/open", data={"csrf_token": csrf["X-CSRFToken"]}
                       ).status_code == 404
    assert messages_of(owner.id)[0].read_at is None


def test_the_inbox_needs_a_signed_in_person(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.get("/notifications").status_code == 302


def test_the_top_bar_shows_the_unread_count_and_the_inbox_page_its_messages(client, create_event, create_resident,
                                                                            sign_up):
    user, events = signed_up_person(create_event, create_resident, sign_up, n_events=2)
    sign_in(client, user)
    html = client.get("/").get_data(as_text=True)
    assert 'data-unread-badge>2</span>' in html
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="inbox-item unread') == 2 and "技术沙龙 1" in page


def test_opening_a_message_marks_it_read_and_follows_its_deep_link(client, create_event, create_resident, sign_up):
    user, events = signed_up_person(create_event, create_resident, sign_up)
    [message] = messages_of(user.id)
    sign_in(client, user)
    response = client.post(f"/notifications/{message.id}/open", data={"csrf_token": csrf_token_from(client)})
    assert response.status_code == 302 and response.headers["Location"] == f"/events/{events[0].id}"
    assert messages_of(user.id)[0].read_at is not None
    assert "data-unread-badge hidden>0</span>" in client.get("/").get_data(as_text=True)


def test_mark_all_read_from_the_page(client, create_event, create_resident, sign_up):
    user, _events = signed_up_person(create_event, create_resident, sign_up, n_events=2)
    sign_in(client, user)
    client.post("/notifications/read-all", data={"csrf_token": csrf_token_from(client)})
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.read_at.is_(None))) == 0


def test_the_inbox_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/notifications", "/api/v1/notifications/unread-count", "/api/v1/notifications/read",
                 "/api/v1/notifications/{notification_id}/read", "/api/v1/notifications/push/subscriptions"):
        assert path in paths, path
