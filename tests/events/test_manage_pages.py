"""Organizers' pages: my events, creating and editing events (and weekly series), publishing, cancelling with a
reason, the registrations list (filters, search, no-shows, bulk approval), live updates over Socket.IO, and the
CSV / XLSX exports. Plain forms with CSRF; SQLite and PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import contextvars
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db, socketio
from events import services, signals
from events.manage_views import no_show_counts, parse_local
from events.models import Event, Registration
from tests.conftest import csrf_token_from, sign_in

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")

QUESTIONS = [
    {"id": "track", "label": "你关注哪个方向？", "kind": "choice", "required": True,
     "choices": ["大模型应用", "AI 基础设施"]},
    {"id": "deck", "label": "BP 链接", "kind": "url", "required": False},
]


# ---- helpers ---------------------------------------------------------------------------------------------------------

def text_of(html: str) -> str:
    without_scripts = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", without_scripts)))


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, *, csrf_page: str = "/manage"):
    return client.post(path, data={"csrf_token": csrf_token_from(client, csrf_page), **(data or {})})


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'data-error-for="{re.escape(name)}">(.*?)</p>', html, flags=re.S)
    return unescape(match.group(1)).strip() if match else None


def input_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def local(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def next_weekday_at(weekday: int, hour: int, *, weeks_ahead: int = 1) -> datetime:
    """A Shanghai wall-clock time on the given weekday (0 = Monday), at least `weeks_ahead` weeks from now."""
    today = datetime.now(SHANGHAI).replace(hour=hour, minute=0, second=0, microsecond=0)
    day = today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)
    return day


def event_form(**overrides) -> dict:
    start = next_weekday_at(3, 19)  # a Thursday, 19:00 in Shanghai
    data = {"kind": "salon", "title": "技术沙龙：大模型推理优化", "title_en": "Salon: LLM inference", "summary": "",
            "description": "", "venue": "模速空间 2 楼", "starts_at": local(start),
            "ends_at": local(start + timedelta(hours=2)), "capacity": "30", "waitlist_mode": "auto",
            "offer_hours": "12", "lottery_draw_at": "", "registration_opens_at": "", "registration_closes_at": "",
            "pitch_slots_capacity": "", "question_rows": "0"}
    data.update(overrides)
    return data


def reload(event: Event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


def statuses(event) -> list[str]:
    db.session.expire_all()
    return [r.status for r in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.waitlist_seq))]


@pytest.fixture
def captured():
    """Signals sent while the test runs: name -> list of kwargs."""
    seen: dict[str, list[dict]] = {}
    receivers = []
    for name in ("event_published", "event_changed", "event_cancelled", "registration_approved",
                 "registration_rejected", "registration_promoted"):
        def receiver(sender, _name=name, **kwargs):
            seen.setdefault(_name, []).append(kwargs)
        receivers.append(receiver)
        getattr(signals, name).connect(receiver)
    yield seen
    for name, receiver in zip(("event_published", "event_changed", "event_cancelled", "registration_approved",
                                "registration_rejected", "registration_promoted"), receivers, strict=True):
        getattr(signals, name).disconnect(receiver)


@pytest.fixture
def salon(create_event, organizer):
    """A published salon organized by `organizer` (an event-scoped grant, as create_event would give)."""
    from app.accounts.services import grant_role
    from app.authz import scope_key

    def make(**fields):
        values = {"title": "技术沙龙：RAG 落地实践", "capacity": 30}
        values.update(fields)
        event = create_event(**values)
        return event

    make.grant = lambda user, event: (grant_role(user, "organizer", scope_key("event", event.id)),
                                      db.session.commit())
    return make


# ---- who may come in -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/manage", "/manage/events/new", "/manage/events/{id}",
                                  "/manage/events/{id}/edit", "/manage/events/{id}/registrations",
                                  "/manage/events/{id}/registrations.csv", "/manage/events/{id}/cancel"])
def test_anonymous_visitors_are_sent_to_sign_in(client, salon, path):
    event = salon()
    response = client.get(path.format(id=event.id))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/manage", "/manage/events/new", "/manage/events/{id}",
                                  "/manage/events/{id}/edit", "/manage/events/{id}/registrations",
                                  "/manage/events/{id}/registrations.xlsx",
                                  "/manage/events/{id}/registrations/rows?ids=1"])
def test_residents_who_organize_nothing_get_403(client, salon, create_resident, path):
    event = salon()
    sign_in(client, create_resident())
    response = client.get(path.format(id=event.id))
    assert response.status_code == 403
    assert "你没有权限进行此操作。" in response.get_data(as_text=True)


def test_an_organizer_of_one_event_manages_only_that_event(client, salon, create_resident):
    mine, other = salon(title="我的沙龙"), salon(title="别人的沙龙")
    host = create_resident(name="周航")
    salon.grant(host, mine)
    sign_in(client, host)

    html = page(client, "/manage")
    assert "我的沙龙" in html and "别人的沙龙" not in html
    assert "/manage/events/new" not in html  # creating events takes a town-wide organizer grant
    assert client.get(f"/manage/events/{other.id}/registrations").status_code == 403
    assert client.get(f"/manage/events/{mine.id}/registrations").status_code == 200
    assert post(client, f"/manage/events/{other.id}/publish").status_code == 403
    assert client.get("/manage/events/new").status_code == 403


def test_my_events_has_drafts_upcoming_and_past_with_counts(client, create_event, organizer, residents, sign_up):
    draft = create_event(title="草稿：下月路演日", kind="roadshow", status="draft")
    upcoming = create_event(title="本周技术沙龙", capacity=1)
    create_event(title="上月沙龙", starts_in=timedelta(days=-30))
    create_event(title="取消的沙龙", status="cancelled")
    for person in residents(3):
        sign_up(upcoming, person)
    sign_in(client, organizer)

    html = page(client, "/manage")
    sections = {key: text_of(body) for key, body in re.findall(
        r'data-testid="manage-(drafts|upcoming|past|cancelled)">(.*?)</ul>', html, flags=re.S)}
    assert "草稿：下月路演日" in sections["drafts"]
    assert "本周技术沙龙" in sections["upcoming"] and "上月沙龙" in sections["past"]
    assert "取消的沙龙" in sections["cancelled"]
    assert "已确认 1 / 1" in sections["upcoming"] and "候补中 2" in sections["upcoming"]
    assert draft.id and "新建活动" in html


# ---- creating an event -----------------------------------------------------------------------------------------------

def test_an_organizer_creates_a_draft_in_shanghai_time_then_publishes_it(client, organizer, captured):
    sign_in(client, organizer)
    start = next_weekday_at(3, 19)
    response = post(client, "/manage/events/new", event_form(starts_at=local(start),
                                                            ends_at=local(start + timedelta(hours=2, minutes=30)),
                                                            requires_approval="1", draft="1"),
                    csrf_page="/manage/events/new")
    assert response.status_code == 302
    event = db.session.scalars(sa.select(Event)).one()
    assert response.headers["Location"].endswith(f"/manage/events/{event.id}")
    assert event.status == "draft" and event.requires_approval and event.capacity == 30
    assert event.starts_at == start.astimezone(UTC) and event.starts_at.hour == 11  # 19:00 in Shanghai = 11:00 UTC
    assert event.ends_at - event.starts_at == timedelta(hours=2, minutes=30)
    assert event.venue == "模速空间 2 楼" and event.created_by_id == organizer.id
    assert "已存为草稿" in page(client, f"/manage/events/{event.id}")

    assert post(client, f"/manage/events/{event.id}/publish").status_code == 302
    assert reload(event).status == "published"
    assert [c["event_id"] for c in captured["event_published"]] == [event.id]
    assert "已发布" in page(client, f"/manage/events/{event.id}")


def test_save_and_publish_at_once(client, organizer):
    sign_in(client, organizer)
    post(client, "/manage/events/new", event_form(publish="1"), csrf_page="/manage/events/new")
    assert db.session.scalars(sa.select(Event.status)).one() == "published"


def test_mistakes_come_back_in_chinese_next_to_their_fields_with_everything_typed_kept(client, organizer):
    sign_in(client, organizer)
    start = next_weekday_at(3, 19)
    typed = event_form(title="", venue="<b>模速空间</b>", summary="x" * 301, starts_at=local(start),
                       ends_at=local(start - timedelta(hours=1)), capacity="三十", description="第一行\n<script>")
    response = post(client, "/manage/events/new", {**typed, "draft": "1"}, csrf_page="/manage/events/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "capacity") == "请填写整数；不限人数请留空。"
    assert input_value(html, "venue") == "<b>模速空间</b>" and "<b>模速空间</b>" not in html  # kept, as text
    assert input_value(html, "capacity") == "三十"
    assert "第一行\n&lt;script&gt;" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0

    # the form's own check passes now; the service's rules come back per field
    response = post(client, "/manage/events/new", {**typed, "capacity": "30", "draft": "1"},
                    csrf_page="/manage/events/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请修改标出的字段。" in html
    assert field_error(html, "title") == "请输入标题。"
    assert field_error(html, "ends_at") == "结束时间必须晚于开始时间。"
    assert field_error(html, "summary") == "最多 300 个字符。"
    assert input_value(html, "starts_at") == local(start)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_a_lottery_needs_a_draw_time_and_an_offer_window_needs_hours(client, organizer):
    sign_in(client, organizer)
    html = post(client, "/manage/events/new", event_form(waitlist_mode="lottery", draft="1"),
                csrf_page="/manage/events/new").get_data(as_text=True)
    assert field_error(html, "lottery_draw_at")
    html = post(client, "/manage/events/new", event_form(waitlist_mode="offer", offer_hours="500", draft="1"),
                csrf_page="/manage/events/new").get_data(as_text=True)
    assert field_error(html, "offer_hours")

    start = next_weekday_at(3, 19)
    post(client, "/manage/events/new", event_form(waitlist_mode="lottery", lottery_draw_at=local(start - timedelta(
        days=1)), starts_at=local(start), ends_at=local(start + timedelta(hours=2)), draft="1"),
        csrf_page="/manage/events/new")
    event = db.session.scalars(sa.select(Event)).one()
    assert event.waitlist_mode == "lottery" and event.lottery_draw_at == (start - timedelta(days=1)).astimezone(UTC)
    assert event.lottery_seed_hash


def test_the_questions_editor_keeps_ids_and_checks_each_row(client, organizer):
    sign_in(client, organizer)
    rows = {"question_rows": "3",
            "q-0-id": "", "q-0-label": "你关注哪个方向？", "q-0-kind": "choice", "q-0-required": "1",
            "q-0-choices": "大模型应用\n\nAI 基础设施\n大模型应用",
            "q-1-id": "", "q-1-label": "BP 链接", "q-1-kind": "url",
            "q-2-id": "", "q-2-label": "", "q-2-kind": "text"}
    # one more row, nothing saved, nothing lost
    html = post(client, "/manage/events/new", event_form(**rows, add_question="1"),
                csrf_page="/manage/events/new").get_data(as_text=True)
    assert html.count("data-question-row") == 4 and input_value(html, "q-0-label") == "你关注哪个方向？"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0

    bad = {**rows, "q-1-kind": "choice"}
    html = post(client, "/manage/events/new", event_form(**bad, draft="1"),
                csrf_page="/manage/events/new").get_data(as_text=True)
    assert "选择题需要提供选项。" in html and input_value(html, "q-1-label") == "BP 链接"

    post(client, "/manage/events/new", event_form(**rows, draft="1"), csrf_page="/manage/events/new")
    event = db.session.scalars(sa.select(Event)).one()
    assert event.questions == [
        {"id": "q1", "label": "你关注哪个方向？", "kind": "choice", "required": True,
         "choices": ["大模型应用", "AI 基础设施"]},
        {"id": "q2", "label": "BP 链接", "kind": "url", "required": False}]

    # editing keeps the ids (answers are stored by id); a removed question goes, a new one gets a fresh id
    edit = page(client, f"/manage/events/{event.id}/edit")
    assert input_value(edit, "q-0-id") == "q1"
    response = post(client, f"/manage/events/{event.id}/edit", event_form(
        sequence=input_value(edit, "sequence"), question_rows="3",
        **{"q-0-id": "q1", "q-0-label": "你关注哪个方向？（可改）", "q-0-kind": "choice", "q-0-required": "1",
           "q-0-choices": "大模型应用\nAI 基础设施", "q-1-id": "q2", "q-1-label": "BP 链接", "q-1-kind": "url",
           "q-1-remove": "1", "q-2-id": "", "q-2-label": "团队几个人？", "q-2-kind": "text"}),
        csrf_page=f"/manage/events/{event.id}/edit")
    assert response.status_code == 302
    assert [(q["id"], q["label"]) for q in reload(event).questions] == [("q1", "你关注哪个方向？（可改）"),
                                                                         ("q3", "团队几个人？")]


def test_a_weekly_series_is_created_once_from_weekday_time_and_weeks(client, organizer):
    sign_in(client, organizer)
    start = next_weekday_at(3, 19)  # Thursday 19:00
    form = event_form(starts_at=local(start), ends_at=local(start + timedelta(hours=2)), repeat="1",
                      repeat_weekday="TH", repeat_weeks="4",
                      registration_opens_at=local(start - timedelta(days=7)),
                      registration_closes_at=local(start - timedelta(hours=2)), publish="1")
    response = post(client, "/manage/events/new", form, csrf_page="/manage/events/new")
    assert response.status_code == 302
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_at)).all()
    assert len(events) == 4 and len({e.series_id for e in events}) == 1 and events[0].series_id
    assert events[0].series.rrule == "FREQ=WEEKLY;BYDAY=TH;COUNT=4"
    for week, event in enumerate(events):
        when = event.starts_at.astimezone(SHANGHAI)
        assert (when.weekday(), when.hour, when.minute) == (3, 19, 0)
        assert event.starts_at == (start + timedelta(weeks=week)).astimezone(UTC)
        assert event.registration_opens_at == event.starts_at - timedelta(days=7)  # moves with each occurrence
        assert event.registration_closes_at == event.starts_at - timedelta(hours=2)
        assert event.status == "published" and event.recurrence_id is not None
    assert "每周一场，共 4 场" in page(client, response.headers["Location"])

    bad = post(client, "/manage/events/new", {**form, "repeat_weeks": "99"}, csrf_page="/manage/events/new")
    assert bad.status_code == 400 and field_error(bad.get_data(as_text=True), "repeat_weeks") == "请填写 2 到 52 周。"


def test_parse_local_reads_shanghai_wall_clock_time():
    assert parse_local("2026-12-03T19:00") == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert parse_local("2026-12-03 19:00:30") == datetime(2026, 12, 3, 11, 0, 30, tzinfo=UTC)
    for bad in ("", "03/12/2026 19:00", "2026-13-03T19:00", "明天晚上"):
        with pytest.raises(ValueError):
            parse_local(bad)


# ---- editing --------------------------------------------------------------------------------------------------------

def test_moving_a_published_event_tells_everyone_signed_up(client, organizer, salon, residents, sign_up, captured):
    event = salon()
    for person in residents(2):
        sign_up(event, person)
    sign_in(client, organizer)
    form = page(client, f"/manage/events/{event.id}/edit")
    assert "已有 2 人报名" in text_of(form)
    new_start = event.starts_at + timedelta(days=1)
    response = post(client, f"/manage/events/{event.id}/edit", event_form(
        title=event.title, venue="北杨小镇会客厅", starts_at=local(new_start),
        ends_at=local(new_start + timedelta(hours=2)), sequence=input_value(form, "sequence")),
        csrf_page=f"/manage/events/{event.id}/edit")
    assert response.status_code == 302
    changes = captured["event_changed"][0]["changes"]
    assert set(changes) == {"starts_at", "ends_at", "venue"} and changes["venue"] == ("北杨小镇", "北杨小镇会客厅")
    assert reload(event).sequence == 1
    assert "已报名的 2 人会收到时间或地点变更通知" in page(client, response.headers["Location"])


def test_raising_capacity_moves_the_waitlist_up_and_lowering_below_seats_is_refused(client, organizer, salon,
                                                                                     residents, sign_up):
    event = salon(capacity=1)
    for person in residents(3):
        sign_up(event, person)
    sign_in(client, organizer)
    form = page(client, f"/manage/events/{event.id}/edit")
    base = event_form(title=event.title, venue=event.venue, starts_at=local(event.starts_at),
                      ends_at=local(event.ends_at))

    response = post(client, f"/manage/events/{event.id}/edit",
                    {**base, "capacity": "2", "sequence": input_value(form, "sequence")},
                    csrf_page=f"/manage/events/{event.id}/edit")
    assert response.status_code == 302
    assert statuses(event) == ["confirmed", "confirmed", "waitlisted"]

    form = page(client, f"/manage/events/{event.id}/edit")
    response = post(client, f"/manage/events/{event.id}/edit",
                    {**base, "capacity": "1", "venue": "改了地点", "sequence": input_value(form, "sequence")},
                    csrf_page=f"/manage/events/{event.id}/edit")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(html, "capacity") == "已有 2 个席位被占用，容量不能再低于此数。"
    assert input_value(html, "venue") == "改了地点" and reload(event).venue == "北杨小镇"


def test_a_stale_form_does_not_undo_another_organizers_change(client, organizer, salon):
    event = salon()
    sign_in(client, organizer)
    form = page(client, f"/manage/events/{event.id}/edit")
    services.update_event(event.id, organizer, now=utcnow(), venue="另一位组织者改的地点")
    db.session.commit()

    typed = event_form(title="我改的标题", venue="北杨小镇", starts_at=local(event.starts_at),
                       ends_at=local(event.ends_at), sequence=input_value(form, "sequence"))
    response = post(client, f"/manage/events/{event.id}/edit", typed, csrf_page=f"/manage/events/{event.id}/edit")
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "其他人修改了这个活动" in html
    assert input_value(html, "title") == "我改的标题"
    assert reload(event).venue == "另一位组织者改的地点" and reload(event).title == "技术沙龙：RAG 落地实践"
    # a second save, having seen the warning, goes through
    assert post(client, f"/manage/events/{event.id}/edit", {**typed, "sequence": input_value(html, "sequence")},
                csrf_page=f"/manage/events/{event.id}/edit").status_code == 302
    assert reload(event).title == "我改的标题"


# ---- cancelling -----------------------------------------------------------------------------------------------------

def test_cancelling_asks_for_a_reason_and_a_confirmation_then_tells_everyone(client, organizer, salon, residents,
                                                                             sign_up, captured):
    event = salon()
    for person in residents(3):
        sign_up(event, person)
    sign_in(client, organizer)
    assert "已有 3 人报名" in text_of(page(client, f"/manage/events/{event.id}/cancel"))

    path = f"/manage/events/{event.id}/cancel"
    response = post(client, path, {"reason": "", "confirm": "yes"}, csrf_page=path)
    assert response.status_code == 400 and "请写明取消原因" in response.get_data(as_text=True)
    response = post(client, path, {"reason": "嘉宾临时生病"}, csrf_page=path)
    assert response.status_code == 400 and "嘉宾临时生病" in response.get_data(as_text=True)
    assert reload(event).status == "published" and "event_cancelled" not in captured

    response = post(client, path, {"reason": "嘉宾临时生病", "confirm": "yes"}, csrf_page=path)
    assert response.status_code == 302
    event = reload(event)
    assert event.status == "cancelled" and event.cancelled_reason == "嘉宾临时生病"
    assert captured["event_cancelled"] == [{"event_id": event.id, "reason": "嘉宾临时生病"}]
    html = page(client, response.headers["Location"])
    assert "活动已取消，已通知报名的 3 人。" in html and "/edit" not in html
    # a cancelled event cannot be edited
    assert client.get(f"/manage/events/{event.id}/edit").status_code == 302


# ---- registrations ---------------------------------------------------------------------------------------------------

def test_the_list_shows_people_answers_positions_and_no_shows(client, organizer, salon, create_resident, sign_up):
    event = salon(capacity=1, questions=QUESTIONS)
    lin = create_resident(name="林晓舟", company="星河智算", persona="founder")
    zhao = create_resident(name="赵一鸣", company="深言科技", persona="investor")
    sign_up(event, lin, answers={"track": "大模型应用", "deck": "https://example.com/bp.pdf"})
    sign_up(event, zhao, answers={"track": "AI 基础设施"})
    # 赵一鸣 missed a past salon where check-in was run
    past = salon(title="上月沙龙")
    for person in (lin, zhao):
        sign_up(past, person)
    db.session.execute(sa.update(Registration).where(Registration.event_id == past.id,
                                                     Registration.user_id == lin.id)
                       .values(checked_in_at=past.starts_at))
    db.session.execute(sa.update(Event).where(Event.id == past.id)
                       .values(starts_at=utcnow() - timedelta(days=30), ends_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    sign_in(client, organizer)

    html = page(client, f"/manage/events/{event.id}/registrations")
    rows = re.findall(r'<li class="reg-row.*?</li>', html, flags=re.S)
    assert len(rows) == 2
    first, second = map(text_of, rows)
    assert "林晓舟" in first and "星河智算" in first and "创业者" in first and "已确认" in first
    assert "大模型应用" in first and "爽约 0 次" in first
    assert 'href="https://example.com/bp.pdf"' in rows[0] and 'rel="noopener noreferrer nofollow"' in rows[0]
    assert "赵一鸣" in second and "投资人" in second and "候补第 1 位" in second and "爽约 1 次" in second
    assert "AI 基础设施" in second and zhao.phone not in html and "139****" in html  # phones masked on screen
    assert no_show_counts([lin.id, zhao.id], now=utcnow()) == {
        zhao.id: services.no_show_count(zhao.id, now=utcnow())} == {zhao.id: 1}

    waitlisted = page(client, f"/manage/events/{event.id}/registrations?status=waitlisted")
    assert "赵一鸣" in waitlisted and "林晓舟" not in waitlisted
    found = page(client, f"/manage/events/{event.id}/registrations?q=星河")
    assert "林晓舟" in found and "赵一鸣" not in found
    assert "没有符合条件的报名" in page(client, f"/manage/events/{event.id}/registrations?q=100%25_")


def test_bulk_approval_in_arrival_order_and_all_or_nothing(client, organizer, salon, residents, sign_up, captured):
    event = salon(capacity=2, requires_approval=True)
    people = residents(4)
    regs = [sign_up(event, p) for p in people]
    assert [r.status for r in regs] == ["pending"] * 4
    sign_in(client, organizer)
    path = f"/manage/events/{event.id}/registrations"

    # approve three (submitted out of order): the two earliest get the seats, the third waits
    response = post(client, path, {"decision": "approve", "registration_ids": [regs[2].id, regs[0].id, regs[1].id]},
                    csrf_page=path)
    assert response.status_code == 302
    assert statuses(event) == ["confirmed", "confirmed", "waitlisted", "pending"]
    assert "已通过 3 人：2 人获得名额，1 人进入候补。" in page(client, response.headers["Location"])

    # approving one that is no longer pending changes nothing at all
    response = post(client, path, {"decision": "approve", "registration_ids": [regs[3].id, regs[0].id]},
                    csrf_page=path)
    assert response.status_code == 409 and "本次未做任何更改" in response.get_data(as_text=True)
    assert statuses(event) == ["confirmed", "confirmed", "waitlisted", "pending"]
    assert re.search(rf'value="{regs[3].id}" checked', response.get_data(as_text=True))  # selection kept

    # rejecting a confirmed person gives the seat to the first waiting
    response = post(client, path + "?status=confirmed", {"decision": "reject", "registration_ids": [regs[0].id]},
                    csrf_page=path)
    assert response.status_code == 302 and response.headers["Location"].endswith("status=confirmed")
    assert statuses(event) == ["rejected", "confirmed", "confirmed", "pending"]
    assert [c["registration_id"] for c in captured["registration_promoted"]] == [regs[2].id]

    assert post(client, path, {"decision": "approve"}, csrf_page=path).status_code == 400
    assert post(client, path, {"decision": "maybe", "registration_ids": [regs[3].id]},
                csrf_page=path).status_code == 400


def test_another_events_registrations_cannot_be_decided_here(client, organizer, salon, residents, sign_up):
    event, other = salon(requires_approval=True), salon(requires_approval=True)
    person = residents(1)[0]
    foreign = sign_up(other, person)
    sign_in(client, organizer)
    path = f"/manage/events/{event.id}/registrations"
    response = post(client, path, {"decision": "approve", "registration_ids": [foreign.id]}, csrf_page=path)
    assert response.status_code in (404, 409)
    assert statuses(other) == ["pending"]


def test_rows_for_live_updates_follow_the_page_filters(client, organizer, salon, residents, sign_up):
    event = salon(capacity=1)
    first, second = (sign_up(event, p) for p in residents(2))
    sign_in(client, organizer)
    base = f"/manage/events/{event.id}/registrations/rows"
    html = page(client, f"{base}?ids={first.id},{second.id}")
    assert html.count('data-testid="registration-row"') == 2
    html = page(client, f"{base}?ids={first.id},{second.id}&status=waitlisted")
    assert f'data-registration-id="{second.id}"' in html and f'data-registration-id="{first.id}"' not in html
    assert page(client, f"{base}?ids=").strip() == ""


# ---- exports --------------------------------------------------------------------------------------------------------

def test_csv_export_opens_in_excel_and_wps_with_chinese_intact(client, organizer, salon, create_resident, sign_up):
    event = salon(questions=QUESTIONS)
    person = create_resident(name="林晓舟", company="=HYPERLINK(\"x\")", persona="founder")
    sign_up(event, person, answers={"track": "大模型应用"})
    sign_in(client, organizer)
    response = client.get(f"/manage/events/{event.id}/registrations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # said once (issue 23)
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.startswith("序号,姓名,手机号码,公司") and "你关注哪个方向？" in header
    assert "林晓舟" in row and "创业者" in row and "已确认" in row and "大模型应用" in row
    national = person.phone[3:]
    assert f"{national[:3]} {national[3:7]} {national[7:]}" in row  # as people write it; not a figure in Excel
    assert "'=HYPERLINK" in row  # a formula is kept as text


def test_xlsx_export_loads_with_openpyxl(client, organizer, salon, create_resident, sign_up):
    from openpyxl import load_workbook

    event = salon(questions=QUESTIONS)
    person = create_resident(name="赵一鸣", company="深言科技")
    person.title = '=HYPERLINK("http://evil.example")'
    db.session.commit()
    sign_up(event, person, answers={"track": "AI 基础设施"})
    sign_in(client, organizer)
    response = client.get(f"/manage/events/{event.id}/registrations.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.title == "报名名单"
    values = list(sheet.values)
    assert values[0][:4] == ("序号", "姓名", "手机号码", "公司") and values[0][-2:] == ("你关注哪个方向？", "BP 链接")
    assert values[1][1] == "赵一鸣" and values[1][3] == "深言科技" and "AI 基础设施" in values[1]
    assert values[1][2] == f"{person.phone[3:6]} {person.phone[6:10]} {person.phone[10:]}"
    title = sheet.cell(row=2, column=5)
    assert title.value == '=HYPERLINK("http://evil.example")' and title.data_type == "s"  # text, exactly, not run


# ---- live updates over Socket.IO -------------------------------------------------------------------------------------

def forget_earlier_announcements(sio):
    """Announcements go out in batches a moment after commit: let those of earlier changes arrive, then drop them."""
    import time

    from events.realtime import ANNOUNCE_DELAY_SECONDS

    time.sleep(ANNOUNCE_DELAY_SECONDS * 3)
    sio.get_received()


def received(sio, name, wait=1.0):
    """Announcements are sent from a background thread after commit: wait a moment for them."""
    import time

    deadline, events = time.monotonic() + wait, []
    while True:
        events += [event for event in sio.get_received() if event["name"] == name]
        if events or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    time.sleep(0.05)
    events += [event for event in sio.get_received() if event["name"] == name]
    return [e["args"][0] if isinstance(e["args"], list) else e["args"] for e in events]


def connect(app, http):
    """Each connection and each of its messages in a context of its own, as in a real server."""
    return contextvars.Context().run(socketio.test_client, app, flask_test_client=http)


def join(sio, event_id):
    return contextvars.Context().run(sio.emit, "join_event_organizers", {"event_id": event_id}, callback=True)


def test_an_organizer_sees_a_sign_up_live_and_a_resident_cannot_listen_in(app, client, organizer, salon,
                                                                           create_resident, residents, sign_up):
    event = salon(capacity=1)
    sign_in(client, organizer)
    watcher = connect(app, client)
    ack = join(watcher, event.id)
    assert ack["ok"] and ack["room"] == f"event:{event.id}:organizers" and ack["counts"]["confirmed"] == 0

    snoop_http = app.test_client()
    sign_in(snoop_http, create_resident(name="路人"))
    snoop = connect(app, snoop_http)
    refused = join(snoop, event.id)
    assert refused["ok"] is False and refused["code"] == "forbidden"
    assert received(snoop, "error")[0]["code"] == "forbidden"
    assert join(snoop, 999999)["code"] == "event_not_found" and join(snoop, "x")["ok"] is False
    forget_earlier_announcements(watcher)
    forget_earlier_announcements(snoop)

    # a resident signs up through the JSON API, as the phone app does
    first = residents(1)[0]
    http = app.test_client()
    sign_in(http, first)
    response = http.post(f"/api/v1/events/{event.id}/registrations", json={},
                         headers={"X-CSRFToken": csrf_token_from(http)})
    assert response.status_code == 201
    registration_id = response.get_json()["id"]
    changed = received(watcher, "registration_changed")
    assert changed == [{"event_id": event.id, "registration_id": registration_id, "status": "confirmed",
                        "counts": {**dict.fromkeys(changed[0]["counts"], 0), "confirmed": 1}}]
    assert not received(snoop, "registration_changed")

    # a cancellation that promotes the next in line: both changes, in one transaction, announced in order
    second = residents(1)[0]
    waiting = sign_up(event, second)
    assert [m["status"] for m in received(watcher, "registration_changed")] == ["waitlisted"]
    services.cancel_registration(registration_id, first, now=utcnow())
    db.session.commit()
    moves = received(watcher, "registration_changed")
    assert [(m["registration_id"], m["status"]) for m in moves] == [(registration_id, "cancelled"),
                                                                    (waiting.id, "confirmed")]
    assert moves[-1]["counts"]["confirmed"] == 1 and moves[-1]["counts"]["cancelled"] == 1


def test_nothing_is_announced_for_a_sign_up_that_rolls_back(app, client, organizer, salon, residents):
    event = salon()
    sign_in(client, organizer)
    watcher = connect(app, client)
    assert join(watcher, event.id)["ok"]
    forget_earlier_announcements(watcher)
    services.register_for_event(event.id, residents(1)[0], now=utcnow())
    db.session.rollback()
    db.session.commit()  # a later, empty commit announces nothing either
    assert not received(watcher, "registration_changed")


def test_a_bulk_approval_is_announced_once_per_registration(app, client, organizer, salon, residents, sign_up):
    event = salon(capacity=5, requires_approval=True)
    regs = [sign_up(event, p) for p in residents(3)]
    sign_in(client, organizer)
    watcher = connect(app, client)
    assert join(watcher, event.id)["ok"]
    forget_earlier_announcements(watcher)
    path = f"/manage/events/{event.id}/registrations"
    post(client, path, {"decision": "approve", "registration_ids": [r.id for r in regs]}, csrf_page=path)
    moves = received(watcher, "registration_changed")
    assert [(m["registration_id"], m["status"]) for m in moves] == [(r.id, "confirmed") for r in regs]
    assert moves[-1]["counts"]["confirmed"] == 3 and moves[-1]["counts"]["pending"] == 0
