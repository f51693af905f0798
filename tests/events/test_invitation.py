"""An event's invitation (/events/<id>/invite, 邀请函): anyone with the link sees what, when, where and a summary,
and a button to the event's own sign-up; no ticket, no registration, nothing of the person who shared it. A signed-in
attendee and the organizers find "邀请朋友" on the event's page. A draft is not found (as its page); a cancelled or
ended event says so in Chinese. It carries the share card (Open Graph; in WeChat's browser the JS-SDK signature of its
URL). SQLite and PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from app.extensions import db
from events import services
from tests.app.test_wechat_share import assert_signed_in_wechat, metas
from tests.conftest import sign_in


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def invitation_of(html: str) -> str:
    found = re.search(r'<article class="card invitation".*?</article>', html, re.S)
    assert found, "no invitation on the page"
    return found.group(0)


def test_anyone_with_the_link_sees_the_invitation_and_a_way_to_sign_up(client, create_event):
    event = create_event(title="技术沙龙：RAG 落地实践", summary="大模型应用的检索增强实践")
    event.venue = "北杨小镇 A 座 3 楼"
    db.session.commit()
    response = client.get(f"/events/{event.id}/invite")
    assert response.status_code == 200
    card = invitation_of(response.get_data(as_text=True))
    words = text_of(card)
    assert words.startswith("邀请函")
    assert "技术沙龙：RAG 落地实践" in words and "大模型应用的检索增强实践" in words and "北杨小镇 A 座 3 楼" in words
    assert re.search(r"\d+月\d+日周. \d\d:\d\d–\d\d:\d\d", words)  # the time, in Shanghai, in Chinese
    button = re.search(r'<a class="button block" href="([^"]+)" data-testid="invitation-sign-up">(.*?)</a>', card)
    assert button and button.group(1) == f"/events/{event.id}#signup" and "报名" in button.group(2)
    assert client.get(button.group(1).split("#")[0]).status_code == 200  # the normal sign-up, on the event page


def test_an_attendee_shares_no_ticket_and_sees_invite_friends_on_the_event_page(app, client, create_event,
                                                                               create_resident, sign_up):
    event = create_event(title="路演日")
    attendee = create_resident(name="林晓舟", phone="+8613812345678")
    registration = sign_up(event, attendee)
    assert registration.status == "confirmed"
    sign_in(client, attendee)
    detail = client.get(f"/events/{event.id}").get_data(as_text=True)
    link = re.search(r'<a [^>]*href="([^"]+)" data-testid="invite-friends">(.*?)</a>', detail)
    assert link and link.group(1) == f"/events/{event.id}/invite" and link.group(2) == "邀请朋友"
    card = invitation_of(client.get(link.group(1)).get_data(as_text=True))
    for private in ("林晓舟", "13812345678", "5678", "/tickets", "ticket", "registration"):
        assert private not in card, private
    anonymous = app.test_client().get(link.group(1)).get_data(as_text=True)
    assert invitation_of(anonymous) == card  # the same page for whoever opens the link


def test_invite_friends_is_for_attendees_and_organizers_only(app, client, create_event, create_resident):
    event = create_event()
    assert 'data-testid="invite-friends"' not in client.get(f"/events/{event.id}").get_data(as_text=True)
    sign_in(client, create_resident())  # signed in, not signed up
    assert 'data-testid="invite-friends"' not in client.get(f"/events/{event.id}").get_data(as_text=True)
    organizer = app.test_client()
    sign_in(organizer, create_resident(roles=[("organizer", f"event:{event.id}")]))
    assert 'data-testid="invite-friends"' in organizer.get(f"/events/{event.id}").get_data(as_text=True)


def test_a_draft_is_not_found_and_a_cancelled_or_ended_event_says_so(client, create_event, create_resident):
    draft = create_event(title="尚未发布的活动", status="draft", summary="草稿摘要")
    response = client.get(f"/events/{draft.id}/invite")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "尚未发布的活动" not in page and "草稿摘要" not in page
    assert "不存在" in page
    assert client.get("/events/99999999999999999999/invite").status_code == 404

    cancelled = create_event(title="取消的沙龙")
    organizer = create_resident(roles=["organizer"])
    services.cancel_event(cancelled.id, organizer, reason="讲者临时有事", now=cancelled.starts_at - timedelta(days=1))
    db.session.commit()
    response = client.get(f"/events/{cancelled.id}/invite")
    card = invitation_of(response.get_data(as_text=True))
    assert response.status_code == 200 and "此活动已取消" in text_of(card) and "讲者临时有事" in text_of(card)
    assert 'data-testid="invitation-sign-up"' not in card

    ended = create_event(title="上周的沙龙", starts_in=timedelta(days=-7))
    card = invitation_of(client.get(f"/events/{ended.id}/invite").get_data(as_text=True))
    assert "此活动已结束" in text_of(card) and 'data-testid="invitation-sign-up"' not in card


def test_the_share_card_is_the_invitation_and_in_wechat_it_is_signed(app, client, create_event):
    event = create_event(title="技术沙龙：RAG 落地实践", summary="")
    tags = metas(client.get(f"/events/{event.id}/invite").get_data(as_text=True))
    assert tags["og:title"] == "邀请函：技术沙龙：RAG 落地实践"
    assert "北杨小镇" in tags["og:description"]  # no summary: when and where
    assert tags["og:url"] == f"http://localhost/events/{event.id}/invite"
    assert tags["og:image"].startswith("http://localhost/static/icons/icon-512.png")
    assert "wechat:signature" not in tags
    url = f"http://localhost/events/{event.id}/invite?from=singlemessage&isappinstalled=0"
    assert_signed_in_wechat(app, client, url)
