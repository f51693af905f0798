"""A ticket that does not work (cancelled, waitlisted, event cancelled) is explained as a person would, in the
resident's language, with the way on; never a raw "no_ticket (409)"."""

from __future__ import annotations

import re

from app.db_types import utcnow
from app.extensions import db
from events.services import cancel_event, cancel_registration, register_for_event
from tests.conftest import sign_in

ZH = {"Accept-Language": "zh-CN"}


def _text(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_a_cancelled_sign_up_ticket_says_what_happened_and_offers_to_sign_up_again(client, create_event, confirmed):
    event = create_event(title="技术沙龙：大模型推理")
    registration = confirmed(event)
    cancel_registration(registration.id, registration.user, now=utcnow())
    db.session.commit()
    sign_in(client, registration.user)
    response = client.get(f"/tickets/{registration.id}", headers=ZH)
    assert response.status_code == 410  # gone: the phone's offline copy is replaced too (checkin-sw.js)
    html = response.get_data(as_text=True)
    text = _text(html)
    assert "no_ticket" not in text and "409" not in text and "错误代码" not in text
    assert "技术沙龙：大模型推理" in text and "已取消" in text
    assert f'href="/events/{event.id}#signup"' in html and "重新报名" in text and "返回活动" in text
    assert 'data-error-code="no_ticket"' in html


def test_a_waitlisted_resident_hears_the_ticket_comes_with_a_seat(client, create_event, confirmed, create_resident):
    event = create_event(capacity=1)
    confirmed(event)
    waiting = create_resident(name="候补者")
    registration, _ = register_for_event(event.id, waiting, now=utcnow())
    db.session.commit()
    sign_in(client, waiting)
    text = _text(client.get(f"/tickets/{registration.id}", headers=ZH).get_data(as_text=True))
    assert "候补" in text and "no_ticket" not in text


def test_a_cancelled_event_ticket_points_to_other_events(client, create_event, confirmed, organizer):
    event = create_event()
    registration = confirmed(event)
    cancel_event(event.id, organizer, reason="场地维修", now=utcnow())
    db.session.commit()
    sign_in(client, registration.user)
    response = client.get(f"/tickets/{registration.id}", headers=ZH)
    text = _text(response.get_data(as_text=True))
    assert response.status_code == 410 and "取消" in text and "event_cancelled" not in text
    assert "看看其他活动" in text


def test_the_api_still_answers_with_the_code(client, create_event, confirmed):
    registration = confirmed(create_event())
    cancel_registration(registration.id, registration.user, now=utcnow())
    db.session.commit()
    sign_in(client, registration.user)
    response = client.get(f"/api/v1/registrations/{registration.id}/ticket")
    assert response.status_code == 409 and response.json["error"]["code"] == "no_ticket"
