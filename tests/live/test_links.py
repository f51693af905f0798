"""The way to the live room: the event's page leads an attendee with a confirmed seat there while the event runs
(about now), and the organizer's pages (the event's page and /manage) lead to all four of the room's pages."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import sign_in

ZH = {"Accept-Language": "zh-CN"}


def page(client, path: str) -> str:
    response = client.get(path, headers=ZH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_attendee_is_led_to_the_room_on_the_day(app, client, create_event, attendee):
    today = create_event(title="今日沙龙", starts_in=timedelta(hours=1))
    sign_in(client, attendee(today))
    html = page(client, f"/events/{today.id}")
    assert 'data-testid="live-room-links"' in html and f'href="/events/{today.id}/live"' in html
    assert "参与现场互动" in html
    assert f"/events/{today.id}/live/moderate" not in html and f"/events/{today.id}/live/screen" not in html


def test_not_before_the_day_nor_for_people_without_a_seat(app, client, create_event, attendee, create_resident):
    later = create_event(title="下月沙龙", starts_in=timedelta(days=20))
    sign_in(client, attendee(later))
    assert f"/events/{later.id}/live" not in page(client, f"/events/{later.id}")
    today = create_event(title="今日沙龙", starts_in=timedelta(hours=1))
    sign_in(client, create_resident(name="路人甲"))
    assert f"/events/{today.id}/live" not in page(client, f"/events/{today.id}")
    client.post("/logout")
    assert f"/events/{today.id}/live" not in client.get(f"/events/{today.id}").get_data(as_text=True)


def test_the_organizer_is_led_to_all_the_room_pages(app, client, create_event, event_organizer):
    later = create_event(title="下月沙龙", starts_in=timedelta(days=20))
    sign_in(client, event_organizer(later))
    for path in (f"/manage/events/{later.id}", f"/events/{later.id}"):
        html = page(client, path)
        for target in ("live", "live/moderate", "live/screen", "live/join"):
            assert f'href="/events/{later.id}/{target}"' in html, (path, target)
        assert "大屏幕" in html or "大屏" in html
    for target in ("live", "live/moderate", "live/screen", "live/join"):
        assert client.get(f"/events/{later.id}/{target}").status_code == 200
