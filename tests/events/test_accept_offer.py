"""Accepting a seat offered from the waitlist (issue 23, item 7), through the API and the event page: a retry after
accepting gets the confirmed registration (200, idempotent); a waitlisted person never offered a seat gets
409 `no_offer`; only an offer that was made and lapsed answers 409 `offer_expired`. Messages in the caller's
language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.tokens import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from events import services
from tests.conftest import csrf_token_from, sign_in


def bearer(user, language: str = "zh-CN") -> dict:
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    return {"Authorization": f"Bearer {token}", "Accept-Language": language}


def accept(client, registration, headers):
    return client.post(f"/api/v1/registrations/{registration.id}/accept-offer", headers=headers)


@pytest.fixture
def offer_salon(create_event, residents, sign_up):
    """A one-seat salon with an offer window: `holder` had the seat and left, `offered` holds the offer, `waiting`
    is next in line and was never offered anything."""
    def make():
        event = create_event(title="技术沙龙：RAG 落地实践", capacity=1, waitlist_mode="offer", offer_hours=2)
        holder, offered, waiting = residents(3)
        first = sign_up(event, holder)
        mine, theirs = sign_up(event, offered), sign_up(event, waiting)
        services.cancel_registration(first.id, holder, now=utcnow())
        db.session.commit()
        db.session.refresh(mine)
        db.session.refresh(theirs)
        assert (mine.status, theirs.status) == ("offered", "waitlisted")
        return event, (offered, mine), (waiting, theirs)
    return make


def test_accepting_twice_returns_the_confirmed_registration(client, offer_salon):
    event, (person, registration), _ = offer_salon()
    headers = bearer(person)
    first = accept(client, registration, headers)
    assert first.status_code == 200 and first.get_json()["status"] == "confirmed"
    retry = accept(client, registration, headers)  # a retry after a lost answer, a second tap
    assert retry.status_code == 200, retry.get_json()
    assert retry.get_json()["id"] == registration.id and retry.get_json()["status"] == "confirmed"
    assert services.registration_counts(event.id) == {"cancelled": 1, "confirmed": 1, "waitlisted": 1}


def test_a_waitlisted_person_never_offered_a_seat_is_told_so_not_that_an_offer_expired(client, offer_salon):
    _, _, (person, registration) = offer_salon()
    response = accept(client, registration, bearer(person))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "no_offer"
    assert error["message"] == "还没有为你保留名额：你仍在候补名单上，有名额为你保留时我们会通知你。"
    english = accept(client, registration, bearer(person, "en")).get_json()["error"]
    assert english["code"] == "no_offer" and "still on the waitlist" in english["message"]
    db.session.refresh(registration)
    assert registration.status == "waitlisted"


def test_a_cancelled_sign_up_has_no_offer_to_accept(client, offer_salon):
    _, _, (person, registration) = offer_salon()
    services.cancel_registration(registration.id, person, now=utcnow())
    db.session.commit()
    response = accept(client, registration, bearer(person))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "no_offer"
    assert response.get_json()["error"]["message"] == "目前没有为你保留的名额。"


def test_only_an_offer_that_lapsed_is_offer_expired(client, offer_salon):
    event, (person, registration), _ = offer_salon()
    registration.offer_expires_at = utcnow() - timedelta(minutes=1)  # lapsed; the worker has not moved it on yet
    db.session.commit()
    headers = bearer(person)
    response = accept(client, registration, headers)
    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "offer_expired", "message": "该名额保留已过期。"}
    services.expire_offers(now=utcnow())  # now the worker has: the status says expired
    db.session.commit()
    response = accept(client, registration, headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "offer_expired"


def test_someone_else_cannot_accept_my_offer(client, offer_salon):
    _, (_, registration), (other, _) = offer_salon()
    assert accept(client, registration, bearer(other)).status_code == 403


# ---- the event page's "accept the seat" ------------------------------------------------------------------------------

def accept_on_page(client, event) -> str:
    response = client.post(f"/events/{event.id}/signup/accept", data={"csrf_token": csrf_token_from(client, "/")})
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_page_tells_a_lapsed_offer_from_no_offer_and_a_second_tap_keeps_the_seat(client, offer_salon):
    event, (person, registration), (waiting, _) = offer_salon()
    sign_in(client, person)
    assert "名额已确认，活动见！" in accept_on_page(client, event)
    assert "报名成功，活动见！" in accept_on_page(client, event)  # a second tap
    db.session.refresh(registration)
    assert registration.status == "confirmed"

    sign_in(client, waiting)
    assert "还没有为你保留名额" in accept_on_page(client, event)


def test_the_page_says_an_expired_offer_expired(client, offer_salon):
    event, (person, registration), _ = offer_salon()
    registration.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    services.expire_offers(now=utcnow())
    db.session.commit()
    sign_in(client, person)
    assert "该名额保留已过期。" in accept_on_page(client, event)
