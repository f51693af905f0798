"""Residents' pages of events: the index with its filters, the sign-up card on an event's page (sign up, answer the
questions, cancel, leave the waitlist, accept an offered seat, the lottery) and "my events". Plain forms, CSRF,
POST-redirect-GET; SQLite and PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from app.db_types import utcnow
from app.extensions import db
from events import services
from events.models import Registration
from tests.conftest import csrf_token_from, sign_in

ROOT = Path(__file__).resolve().parents[2]

QUESTIONS = [
    {"id": "track", "label": "你关注哪个方向？", "kind": "choice", "required": True,
     "choices": ["大模型应用", "AI 基础设施", "具身智能"]},
    {"id": "intro", "label": "一句话介绍你的项目", "kind": "text", "required": False},
    {"id": "deck", "label": "BP 链接", "kind": "url", "required": False},
]


# ---- helpers ---------------------------------------------------------------------------------------------------------

def page_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The page as a person reads it: tags gone, entities decoded, whitespace collapsed."""
    without_scripts = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", without_scripts)))


def listed(html: str) -> list[str]:
    """Titles of the events in the list, in order."""
    return [text_of(t).strip() for t in re.findall(r'<li class="event-card.*?<h2>(.*?)</h2>', html, flags=re.S)]


def card_of(html: str) -> str:
    match = re.search(r'<section class="card signup-card".*?</section>', html, flags=re.S)
    assert match, "no sign-up card on the page"
    return match.group(0)


def post(client, path: str, data: dict | None = None, *, token_from: str):
    return client.post(path, data={"csrf_token": csrf_token_from(client, token_from), **(data or {})})


def registrations(event) -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)
                                   .order_by(Registration.waitlist_seq)))


def signed_in(app, user):
    """A separate test client signed in as `user` (two people on two phones)."""
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    client = app.test_client()
    sign_in(client, user)
    return client


@pytest.fixture
def salon(create_event):
    def make(**fields):
        values = {"title": "技术沙龙：RAG 落地实践", "title_en": "Salon: RAG in practice", "capacity": 30}
        values.update(fields)
        return create_event(**values)
    return make


# ---- the index: filters and where I stand --------------------------------------------------------------------------

def test_the_index_filters_by_kind_and_the_next_seven_days(client, create_event):
    create_event(title="路演日：AI 硬件专场", kind="roadshow", starts_in=timedelta(days=2))
    create_event(title="技术沙龙：下周之后", kind="salon", starts_in=timedelta(days=10))
    create_event(title="技术沙龙：本周", kind="salon", starts_in=timedelta(days=3))

    assert listed(page_of(client, "/")) == ["路演日：AI 硬件专场", "技术沙龙：本周", "技术沙龙：下周之后"]
    assert listed(page_of(client, "/?kind=salon")) == ["技术沙龙：本周", "技术沙龙：下周之后"]
    assert listed(page_of(client, "/?week=1")) == ["路演日：AI 硬件专场", "技术沙龙：本周"]
    both = page_of(client, "/?kind=salon&week=1")
    assert listed(both) == ["技术沙龙：本周"]
    assert "未来 7 天" in both and "我的活动" in both
    # the chips keep the other filter: the week toggle keeps the kind, a kind keeps the week
    assert 'href="/?kind=salon"' in both  # turning "next 7 days" off keeps the kind
    assert re.search(r'href="/\?kind=roadshow&amp;week=1"', both)
    nothing = text_of(page_of(client, "/?kind=competition"))
    assert "没有符合条件的活动" in nothing and "查看全部活动" in nothing


def test_the_my_events_filter_goes_to_my_events(client, create_resident):
    assert client.get("/?mine=1").headers["Location"].endswith("/me/events")
    anonymous = client.get("/me/events")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert "next=/me/events" in anonymous.headers["Location"]
    sign_in(client, create_resident())
    page = text_of(page_of(client, "/me/events"))
    assert "我的活动" in page and "你还没有报名近期的活动" in page


def test_the_index_shows_seats_left_and_where_i_stand(client, salon, residents, sign_up):
    few = salon(title="小沙龙", capacity=3)
    full = salon(title="满员沙龙", capacity=1)
    me, other = residents(2)
    sign_up(full, other)
    sign_up(full, me)
    page = text_of(page_of(client, "/"))
    assert "还剩 3 个名额" in page and "已满，可候补" in page
    sign_in(client, me)
    sign_up(few, me)
    mine = text_of(page_of(client, "/"))
    assert "候补第 1 位" in mine and "已确认" in mine


# ---- the sign-up card: who may sign up, and how ----------------------------------------------------------------------

def test_a_visitor_is_sent_to_sign_in_and_back_to_the_event(client, salon):
    event = salon()
    card = card_of(page_of(client, f"/events/{event.id}"))
    assert "登录后报名" in card
    assert f'href="/auth/login?next=/events/{event.id}"' in card
    assert "<form" not in card  # nothing to post before signing in
    response = client.post(f"/events/{event.id}/signup", data={"csrf_token": csrf_token_from(client)})
    assert response.status_code == 302 and response.headers["Location"] == f"/auth/login?next=/events/{event.id}"
    # a sign-in that comes back to the form's address lands on the event
    assert client.get(f"/events/{event.id}/signup").headers["Location"] == f"/events/{event.id}#signup"
    assert registrations(event) == []


def test_a_person_without_a_profile_completes_it_first_and_comes_back(client, salon, create_resident):
    event = salon()
    sign_in(client, create_resident(profile=False))
    card = card_of(page_of(client, f"/events/{event.id}"))
    assert "完善资料后报名" in card and f'href="/profile?next=/events/{event.id}"' in card
    response = post(client, f"/events/{event.id}/signup", token_from="/")
    assert response.status_code == 302 and response.headers["Location"] == f"/profile?next=/events/{event.id}"
    assert registrations(event) == []
    profile = client.post(f"/profile?next=/events/{event.id}", data={
        "csrf_token": csrf_token_from(client, "/profile"), "name": "林晓舟", "company": "星河智算", "title": "CEO",
        "persona": "founder", "interests": "", "email": "", "next": f"/events/{event.id}"})
    assert profile.status_code == 302 and profile.headers["Location"] == f"/events/{event.id}"
    card = card_of(page_of(client, f"/events/{event.id}"))
    assert "立即报名" in card and "报名人：林晓舟 · 星河智算" in text_of(card)


def test_one_tap_signs_up_and_the_result_is_clear(client, salon, create_resident):
    event = salon(capacity=3)
    sign_in(client, create_resident(name="林晓舟"))
    page = page_of(client, f"/events/{event.id}")
    assert "还剩 3 个名额" in card_of(page) and f'action="/events/{event.id}/signup"' in page
    response = post(client, f"/events/{event.id}/signup", token_from=f"/events/{event.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/events/{event.id}#signup"
    page = page_of(client, f"/events/{event.id}")
    assert "报名成功，活动见！" in page  # the flash, once
    card = text_of(card_of(page))
    assert "已确认" in card and "你的名额已确认" in card and "取消报名" in card and "立即报名" not in card
    assert "报名成功，活动见！" not in page_of(client, f"/events/{event.id}")  # a reload repeats nothing
    assert [r.status for r in registrations(event)] == ["confirmed"]


def test_a_double_submit_keeps_one_registration(client, salon, create_resident):
    event = salon(capacity=3)
    sign_in(client, create_resident())
    token = csrf_token_from(client, f"/events/{event.id}")
    first = client.post(f"/events/{event.id}/signup", data={"csrf_token": token})
    again = client.post(f"/events/{event.id}/signup", data={"csrf_token": token})
    assert first.status_code == again.status_code == 302
    assert "你已经报过名了" in page_of(client, f"/events/{event.id}")
    assert [r.status for r in registrations(event)] == ["confirmed"]
    db.session.refresh(event)
    assert event.seats_taken == 1


def test_without_the_csrf_token_nothing_is_signed_up(client, salon, create_resident):
    event = salon()
    sign_in(client, create_resident())
    response = client.post(f"/events/{event.id}/signup", data={})
    assert response.status_code == 400 and "请刷新页面后重试" in response.get_data(as_text=True)
    assert registrations(event) == []


# ---- questions: kept with the registration, mistakes explained next to the form --------------------------------------

def test_questions_are_asked_and_a_missing_answer_is_explained_with_the_answers_kept(client, salon, create_resident):
    event = salon(questions=QUESTIONS)
    sign_in(client, create_resident())
    form = card_of(page_of(client, f"/events/{event.id}"))
    assert form.count('type="radio" name="answer-track"') == 3  # a large tap target per choice
    assert 'name="answer-intro"' in form and 'type="url"' in form and "（选填）" in form
    typed = '<script>alert("x")</script> 用 RAG 做法律检索'
    response = post(client, f"/events/{event.id}/signup", {"answer-intro": typed, "answer-deck": "ftp://deck"},
                    token_from=f"/events/{event.id}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    card = card_of(html)
    assert "请修改标出的回答" in card and "请回答这个问题" in card and "请填写以 https:// 开头的链接" in card
    assert "&lt;script&gt;alert(" in card and "<script>alert" not in html  # kept, as text
    assert 'value="ftp://deck"' in card
    assert registrations(event) == []

    response = post(client, f"/events/{event.id}/signup", {"answer-track": "具身智能", "answer-intro": typed,
                                                           "answer-deck": "https://docs.example.cn/bp"},
                    token_from=f"/events/{event.id}")
    assert response.status_code == 302
    [registration] = registrations(event)
    assert registration.status == "confirmed"
    assert registration.answers == {"track": "具身智能", "intro": typed, "deck": "https://docs.example.cn/bp"}
    page = page_of(client, f"/events/{event.id}")
    assert "你的回答" in page and "具身智能" in page and "&lt;script&gt;" in page and "<script>alert" not in page


def test_a_choice_that_is_not_offered_is_refused(client, salon, create_resident):
    event = salon(questions=QUESTIONS)
    sign_in(client, create_resident())
    response = post(client, f"/events/{event.id}/signup", {"answer-track": "区块链"},
                    token_from=f"/events/{event.id}")
    assert response.status_code == 400 and "请选择一项" in response.get_data(as_text=True)
    assert registrations(event) == []


# ---- full, waitlist, cancel, promotion -----------------------------------------------------------------------------

def test_the_waitlist_shows_its_position_and_a_cancellation_promotes_the_next(app, salon, create_resident):
    event = salon(capacity=1)
    first = signed_in(app, create_resident(name="林晓舟"))
    second = signed_in(app, create_resident(name="赵一鸣"))
    post(first, f"/events/{event.id}/signup", token_from="/")

    card = text_of(card_of(page_of(second, f"/events/{event.id}")))
    assert "名额已满" in card and "加入候补" in card
    post(second, f"/events/{event.id}/signup", token_from="/")
    page = page_of(second, f"/events/{event.id}")
    assert "名额已满，你已进入候补，当前排第 1 位。" in page
    card = text_of(card_of(page))
    assert "候补中" in card and "候补第 1 位" in card and "退出候补" in card

    response = post(first, f"/events/{event.id}/signup/cancel", token_from="/")
    assert response.status_code == 302 and response.headers["Location"] == f"/events/{event.id}#signup"
    assert "已取消报名，你的名额将让给下一位候补。" in page_of(first, f"/events/{event.id}")
    again = post(first, f"/events/{event.id}/signup/cancel", token_from="/")  # a second tap
    assert again.status_code == 302 and "你的报名已经取消" in page_of(first, f"/events/{event.id}")
    assert [r.status for r in registrations(event)] == ["cancelled", "confirmed"]
    card = text_of(card_of(page_of(second, f"/events/{event.id}")))
    assert "已确认" in card and "候补第" not in card
    first_card = text_of(card_of(page_of(first, f"/events/{event.id}")))
    assert "你已取消报名" in first_card and "加入候补" in first_card  # may come back, to the end of the line


def test_leaving_the_waitlist(client, salon, residents, sign_up, create_resident):
    event = salon(capacity=1)
    sign_up(event, residents(1)[0])
    me = create_resident()
    sign_up(event, me)
    sign_in(client, me)
    post(client, f"/events/{event.id}/signup/cancel", token_from="/")
    assert "已退出候补" in page_of(client, f"/events/{event.id}")
    assert [r.status for r in registrations(event)] == ["confirmed", "cancelled"]


def test_cancelling_when_not_signed_up_is_explained(client, salon, create_resident):
    event = salon()
    sign_in(client, create_resident())
    post(client, f"/events/{event.id}/signup/cancel", token_from="/")
    assert "你没有报名这个活动" in page_of(client, f"/events/{event.id}")


def test_pending_approval(client, salon, create_resident):
    event = salon(requires_approval=True)
    sign_in(client, create_resident())
    assert "提交报名（需组织者审核）" in card_of(page_of(client, f"/events/{event.id}"))
    post(client, f"/events/{event.id}/signup", token_from="/")
    page = page_of(client, f"/events/{event.id}")
    assert "报名已提交，组织者审核后会通知你" in page
    card = text_of(card_of(page))
    assert "待审核" in card and "等待组织者审核" in card and "撤回报名" in card


def test_a_declined_person_cannot_sign_up_again(client, salon, create_resident, organizer, sign_up):
    event = salon(requires_approval=True)
    me = create_resident()
    registration = sign_up(event, me)
    services.reject_registration(registration.id, organizer, now=utcnow())
    db.session.commit()
    sign_in(client, me)
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert "组织者未通过你的报名" in card and "提交报名" not in card
    response = post(client, f"/events/{event.id}/signup", token_from="/")
    assert response.status_code == 409 and "组织者未通过你的报名" in response.get_data(as_text=True)


# ---- an offered seat -------------------------------------------------------------------------------------------------

@time_machine.travel(datetime(2031, 3, 1, 2, 0, tzinfo=UTC), tick=True)  # the deadline below is days ahead, every year
def test_an_offered_seat_shows_its_deadline_and_is_accepted_once(client, salon, residents, sign_up, create_resident):
    event = salon(capacity=1, waitlist_mode="offer", offer_hours=2)
    holder = residents(1)[0]
    first = sign_up(event, holder)
    me = create_resident()
    sign_up(event, me)
    services.cancel_registration(first.id, holder, now=utcnow())
    db.session.commit()
    [_, mine] = registrations(event)
    assert mine.status == "offered"
    mine.offer_expires_at = datetime(2031, 3, 7, 12, 30, tzinfo=UTC)  # 20:30 in Shanghai, a Friday
    db.session.commit()

    sign_in(client, me)
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert "有名额为你保留" in card and "请在 3月7日周五 20:30 前确认" in card and "放弃名额" in card
    assert "已为你保留名额至 3月7日周五 20:30" in text_of(page_of(client, "/me/events"))
    for _ in range(2):  # a double tap
        response = post(client, f"/events/{event.id}/signup/accept", token_from="/")
        assert response.status_code == 302
    assert "报名成功，活动见！" in page_of(client, f"/events/{event.id}")
    assert [r.status for r in registrations(event)] == ["cancelled", "confirmed"]


def test_an_expired_offer_cannot_be_accepted(client, salon, residents, sign_up, create_resident):
    event = salon(capacity=1, waitlist_mode="offer", offer_hours=2)
    holder = residents(1)[0]
    first = sign_up(event, holder)
    me = create_resident()
    sign_up(event, me)
    services.cancel_registration(first.id, holder, now=utcnow())
    db.session.commit()
    registrations(event)[1].offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    sign_in(client, me)
    card = card_of(page_of(client, f"/events/{event.id}"))
    assert "为你保留的名额已于" in card and "确认参加" not in card  # the worker has not moved it on yet
    post(client, f"/events/{event.id}/signup/accept", token_from="/")
    assert "该名额保留已过期" in page_of(client, f"/events/{event.id}")
    assert registrations(event)[1].status == "offered"  # the worker moves it on; the page only refused


# ---- the lottery -----------------------------------------------------------------------------------------------------

@pytest.fixture
def lottery_salon(organizer):
    def make(capacity=1):
        now = utcnow()
        event = services.create_event(organizer, now=now, status="published", kind="salon", title="抽签沙龙",
                                      starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                                      capacity=capacity, waitlist_mode="lottery",
                                      lottery_draw_at=now + timedelta(days=1))
        db.session.commit()
        return event
    return make


def test_a_lottery_entry_shows_the_draw_time_and_the_committed_seed_hash(client, lottery_salon, create_resident):
    event = lottery_salon()
    sign_in(client, create_resident())
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert "共 1 个名额，抽签决定" in card and "参加抽签" in card and event.lottery_seed_hash in card
    post(client, f"/events/{event.id}/signup", token_from="/")
    page = page_of(client, f"/events/{event.id}")
    assert "已参加抽签，将于" in page
    card = text_of(card_of(page))
    assert "已参加抽签" in card and "开奖" in card and "退出抽签" in card and event.lottery_seed_hash in card
    assert event.lottery_seed is None or event.lottery_seed not in card


def test_after_the_draw_the_seed_hash_and_my_rank_are_published_with_how_to_check(
        app, lottery_salon, create_resident, residents, sign_up):
    import hashlib

    event = lottery_salon(capacity=1)
    people = residents(2)
    me = create_resident()
    for person in [*people, me]:
        sign_up(event, person)
    services.draw_lottery(event.id, now=utcnow())
    db.session.commit()
    db.session.refresh(event)
    mine = services.registration_of(event.id, me.id)

    client = signed_in(app, me)
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert event.lottery_seed in card and event.lottery_seed_hash in card
    assert hashlib.sha256(event.lottery_seed.encode()).hexdigest() == event.lottery_seed_hash
    assert f"你的排名：第 {mine.lottery_rank} 位（共 3 人）" in card
    assert "如何核对" in card and f"你的报名编号是 {mine.id}" in card
    assert services.lottery_order_key(event.lottery_seed, mine.id) in card
    assert ("已确认" if mine.lottery_rank == 1 else "候补第") in card


# ---- when one cannot sign up -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "expected"), [
    ({"registration_opens_at": datetime(2030, 1, 2, 1, 0, tzinfo=UTC), "starts_in": None},
     "报名将于 1月2日周三 09:00 开始。"),  # Shanghai time
    ({"registration_closes_at": datetime(2020, 1, 1, tzinfo=UTC)}, "报名已截止。"),
    ({"status": "cancelled", "cancelled_reason": "场地维修"}, "该活动已取消。 场地维修"),
])
@time_machine.travel(datetime(2029, 12, 1, 2, 0, tzinfo=UTC), tick=True)  # sign-up opening in 2030 stays ahead
def test_closed_states_are_shown_and_a_post_is_refused_clearly(client, salon, create_resident, fields, expected):
    fields = dict(fields)
    if fields.pop("starts_in", 0) is None:
        fields["starts_in"] = datetime(2030, 2, 1, tzinfo=UTC) - utcnow()
    event = salon(**fields)
    sign_in(client, create_resident())
    card = card_of(page_of(client, f"/events/{event.id}"))
    assert expected in text_of(card) and "<form" not in card.split("signup-my-events")[0]
    response = post(client, f"/events/{event.id}/signup", token_from="/")  # a page left open, then tapped
    assert response.status_code == 409 and expected in text_of(card_of(response.get_data(as_text=True)))
    assert registrations(event) == []


def test_a_started_event_takes_no_sign_ups_and_no_cancellations(client, salon, create_resident, sign_up):
    event = salon(hours=3)
    attendee = create_resident()
    sign_up(event, attendee)
    event.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    sign_in(client, create_resident())
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert "活动已经开始或结束" in card and "立即报名" not in card
    response = post(client, f"/events/{event.id}/signup", token_from="/")
    assert response.status_code == 409
    assert re.search(r'data-testid="signup-closed" role="alert">活动已经开始或结束', response.get_data(as_text=True))
    sign_in(client, attendee)
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert "活动已经开始或结束。 已确认" in card and "取消报名" not in card


def test_a_draft_has_no_page(client, salon):
    event = salon(status="draft")
    assert client.get(f"/events/{event.id}").status_code == 404


# ---- my events -------------------------------------------------------------------------------------------------------

def test_my_events_lists_upcoming_and_past_registrations_with_their_status(client, salon, create_resident,
                                                                          residents, sign_up):
    me = create_resident()
    soon = salon(title="下周的沙龙", starts_in=timedelta(days=5))
    sooner = salon(title="明天的满员沙龙", capacity=1, starts_in=timedelta(days=1))
    gone = salon(title="上个月的沙龙", starts_in=timedelta(days=-30))
    left = salon(title="取消了的沙龙")
    other = salon(title="没报名的沙龙")
    sign_up(soon, me)
    sign_up(sooner, residents(1)[0])
    sign_up(sooner, me)
    db.session.add(Registration(event_id=gone.id, user_id=me.id, status="confirmed", waitlist_seq=1,
                                checked_in_at=gone.starts_at))
    cancelled = sign_up(left, me)
    services.cancel_registration(cancelled.id, me, now=utcnow())
    db.session.commit()
    assert other.id

    sign_in(client, me)
    html = page_of(client, "/me/events")
    upcoming = text_of(html.split('data-testid="my-upcoming"')[1].split('data-testid="my-past"')[0])
    past = text_of(html.split('data-testid="my-past"')[1])
    assert upcoming.index("明天的满员沙龙") < upcoming.index("下周的沙龙")  # soonest first
    assert "候补第 1 位" in upcoming and "已确认" in upcoming and "取消了的沙龙" in upcoming and "已取消" in upcoming
    assert "没报名的沙龙" not in html
    assert "上个月的沙龙" in past and "已签到" in past
    mine_chip = re.search(r'<a [^>]*data-testid="filter-mine"[^>]*>', html).group(0)
    assert "active" in mine_chip and 'aria-current="page"' in mine_chip


def test_english_labels(client, salon, create_resident, residents, sign_up):
    event = salon(capacity=1)
    sign_up(event, residents(1)[0])
    me = create_resident(locale="en")
    sign_in(client, me)
    card = text_of(card_of(page_of(client, f"/events/{event.id}")))
    assert "Full" in card and "Join the waitlist" in card
    post(client, f"/events/{event.id}/signup", token_from="/")
    page = page_of(client, f"/events/{event.id}")
    assert "The event is full: you are on the waitlist, number 1." in page
    card = text_of(card_of(page))
    assert "Waitlisted" in card and "Waitlist no. 1" in card and "Leave the waitlist" in card
    assert "Next 7 days" in page_of(client, "/") and "My events" in page_of(client, "/me/events")
