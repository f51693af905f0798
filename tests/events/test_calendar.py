"""Calendars: one event's .ics, the town's public feed (?kind=), a person's private feed with a rotatable secret
token, the "my calendar" page and its JSON API. Every document is parsed back with icalendar and checked against
RFC 5545's required structure (no offline validator is installed: `check_rfc5545` below does the checks). SQLite and
PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import icalendar
import pytest
import time_machine

from app.db_types import utcnow
from app.extensions import db
from events import calendar, services
from events.models import PitchApplication, PitchSlot
from tests.conftest import csrf_token_from, sign_in

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = "Asia/Shanghai"


# ---- helpers ---------------------------------------------------------------------------------------------------------

def check_rfc5545(body: bytes) -> icalendar.Calendar:
    """Parse the document back and check what RFC 5545 (and the calendar apps) require of it."""
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "content lines are folded at 75 octets"
    cal = icalendar.Calendar.from_ical(body)
    cal.validate()
    assert cal["VERSION"] == "2.0" and cal["PRODID"].startswith("-//Beiyang")
    assert cal["CALSCALE"] == "GREGORIAN" and cal["X-WR-TIMEZONE"] == SHANGHAI and cal["X-WR-CALNAME"]
    timezones = {tz["TZID"] for tz in cal.walk("VTIMEZONE")}
    assert SHANGHAI in timezones
    for tz in cal.walk("VTIMEZONE"):
        assert tz.walk("STANDARD") or tz.walk("DAYLIGHT")
    for vevent in cal.walk("VEVENT"):
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS", "URL", "LAST-MODIFIED"):
            assert name in vevent, f"{name} missing in {vevent.get('UID')}"
        assert vevent.decoded("DTSTAMP").tzinfo is not None and vevent.decoded("DTSTAMP").utcoffset() == timedelta(0)
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            if name in vevent:
                assert vevent[name].params["TZID"] == SHANGHAI
        assert vevent.decoded("DTEND") > vevent.decoded("DTSTART")
        assert vevent["STATUS"] in ("CONFIRMED", "TENTATIVE", "CANCELLED")
        assert urlsplit(str(vevent["URL"])).scheme in ("http", "https")
        for alarm in vevent.walk("VALARM"):
            assert alarm["ACTION"] == "DISPLAY" and "DESCRIPTION" in alarm and "TRIGGER" in alarm
    assert cal.get_missing_tzids() == set()
    return cal


def get_ics(client, path: str, status: int = 200, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:300])
    if status == 200:
        assert response.content_type == "text/calendar; charset=utf-8"
    return response


def vevents(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    """Events by UID (+ RECURRENCE-ID for the occurrences of a series)."""
    result = {}
    for vevent in cal.walk("VEVENT"):
        key = str(vevent["UID"])
        if "RECURRENCE-ID" in vevent:
            key += "|" + vevent.decoded("RECURRENCE-ID").astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        result[key] = vevent
    return result


def feed(client, path: str = "/calendar.ics", **kwargs) -> icalendar.Calendar:
    return check_rfc5545(get_ics(client, path, **kwargs).data)


def uid(event) -> str:
    return f"event-{event.id}@beiyang-events"


def feed_path(user) -> str:
    return f"/calendar/{calendar.calendar_token(user)}.ics"


def thursday_evening(weeks_ahead: int = 1) -> datetime:
    """A Thursday 19:00 in Shanghai, as UTC (11:00Z)."""
    today = utcnow().date()
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 + 7 * weeks_ahead)
    return datetime(thursday.year, thursday.month, thursday.day, 11, 0, tzinfo=UTC)


@pytest.fixture
def create_event(create_event):
    """The shared factory, plus a venue of one's choice."""
    def make(*, venue: str | None = None, **fields):
        event = create_event(**fields)
        if venue is not None:
            event.venue = venue
            db.session.commit()
        return event
    return make


@pytest.fixture
def pitch_slot(create_event):
    """A published pitch slot of `founder` at a roadshow day (rows written directly: the pitching module has its
    own tests)."""
    def make(founder, *, project="灵犀法务", published=True, event=None):
        event = event or create_event(title="模速路演日 · 第 12 期", kind="roadshow", hours=4)
        application = PitchApplication(event_id=event.id, applicant_id=founder.id, project_name=project,
                                       one_liner="法律检索的 RAG", stage="seed", status="accepted")
        db.session.add(application)
        db.session.flush()
        position = db.session.query(PitchSlot).filter_by(event_id=event.id).count() + 1
        start = event.starts_at + timedelta(minutes=12 * position)
        slot = PitchSlot(event_id=event.id, application_id=application.id, position=position, starts_at=start,
                         ends_at=start + timedelta(minutes=10), published=published)
        db.session.add(slot)
        db.session.commit()
        return slot
    return make


# ---- one event -------------------------------------------------------------------------------------------------------

def test_an_event_downloads_as_a_valid_ics_with_timezone_reminders_and_a_chinese_file_name(client, create_event):
    event = create_event(title="技术沙龙：<b>RAG</b> 落地, 实践; 第 3 期", summary="从检索到生成",
                         description="第一行\n第二行", venue="北杨小镇 A2 栋 3 楼")
    response = get_ics(client, f"/events/{event.id}.ics")
    cal = check_rfc5545(response.data)

    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="beiyang-event-{event.id}.ics"; filename*=UTF-8\'\'')
    assert unquote(disposition.split("''", 1)[1]) == "技术沙龙： b RAG b 落地, 实践; 第 3 期.ics"
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers["ETag"]

    assert cal["X-WR-CALNAME"] == event.title
    (vevent,) = cal.walk("VEVENT")
    assert vevent["UID"] == uid(event)
    assert vevent["SUMMARY"] == "技术沙龙：<b>RAG</b> 落地, 实践; 第 3 期"  # escaped by icalendar, kept as text
    assert b"SUMMARY:\xe6\x8a\x80\xe6\x9c\xaf\xe6\xb2\x99\xe9\xbe\x99\xef\xbc\x9a<b>RAG</b>" in response.data
    assert b"\\, " in response.data and b"\\;" in response.data
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert vevent.decoded("DTEND") == event.ends_at.replace(microsecond=0)
    assert str(vevent.decoded("DTSTART").tzinfo) == SHANGHAI
    assert vevent["SEQUENCE"] == 0 and vevent["STATUS"] == "CONFIRMED"
    assert vevent["LOCATION"] == "北杨小镇 A2 栋 3 楼"
    assert vevent["URL"] == f"http://localhost/events/{event.id}"
    assert vevent["DESCRIPTION"] == f"从检索到生成\n\n第一行\n第二行\n\nhttp://localhost/events/{event.id}"
    assert vevent.decoded("LAST-MODIFIED") == event.updated_at.replace(microsecond=0)
    assert sorted(a.decoded("TRIGGER") for a in vevent.walk("VALARM")) == [timedelta(days=-1), timedelta(hours=-1)]
    assert "技术沙龙" in vevent["CATEGORIES"].cats


def test_a_draft_has_no_ics_and_an_unknown_event_neither(client, create_event):
    draft = create_event(status="draft")
    get_ics(client, f"/events/{draft.id}.ics", status=404)
    get_ics(client, "/events/999999.ics", status=404)


def test_uids_and_bytes_are_stable_across_requests_and_a_304_answers_a_known_etag(client, create_event):
    event = create_event()
    first, second = get_ics(client, f"/events/{event.id}.ics"), get_ics(client, f"/events/{event.id}.ics")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]

    cached = client.get(f"/events/{event.id}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304 and cached.data == b""
    stale = client.get(f"/events/{event.id}.ics", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_sequence_rises_and_times_move_when_the_organizer_changes_time_or_place(client, create_event, organizer):
    event = create_event(venue="北杨小镇 A2 栋")
    before = get_ics(client, f"/events/{event.id}.ics")
    (old,) = check_rfc5545(before.data).walk("VEVENT")

    new_start = event.starts_at + timedelta(days=1)
    services.update_event(event.id, organizer, now=utcnow(), starts_at=new_start,
                          ends_at=new_start + timedelta(hours=2), venue="模速空间 1 楼路演厅")
    db.session.commit()
    after = get_ics(client, f"/events/{event.id}.ics", headers={"If-None-Match": before.headers["ETag"]})
    (new,) = check_rfc5545(after.data).walk("VEVENT")
    assert new["UID"] == old["UID"]
    assert new["SEQUENCE"] > old["SEQUENCE"]
    assert new.decoded("DTSTART") == new_start.replace(microsecond=0)
    assert new["LOCATION"] == "模速空间 1 楼路演厅"
    assert after.headers["ETag"] != before.headers["ETag"]

    services.update_event(event.id, organizer, now=utcnow(), venue="北杨小镇 B1 栋")
    db.session.commit()
    (again,) = feed(client, f"/events/{event.id}.ics").walk("VEVENT")
    assert again["SEQUENCE"] > new["SEQUENCE"]


def test_a_cancelled_event_says_so_everywhere_and_keeps_no_reminder(client, create_event, organizer):
    event = create_event(title="技术沙龙：具身智能")
    services.cancel_event(event.id, organizer, reason="台风停课", now=utcnow())
    db.session.commit()
    for path in (f"/events/{event.id}.ics", "/calendar.ics"):
        vevent = vevents(feed(client, path))[uid(event)]
        assert vevent["STATUS"] == "CANCELLED"
        assert vevent["SUMMARY"] == "【已取消】技术沙龙：具身智能"
        assert vevent["DESCRIPTION"].startswith("该活动已取消：台风停课")
        assert vevent["SEQUENCE"] == 1
        assert not vevent.walk("VALARM")


def test_english_readers_get_english_names(client, create_event):
    event = create_event(title="技术沙龙：RAG", title_en="Salon: RAG")
    cal = feed(client, "/calendar.ics?lang=en")
    assert cal["X-WR-CALNAME"] == "Beiyang Events"
    assert vevents(cal)[uid(event)]["SUMMARY"] == "Salon: RAG"
    assert feed(client, "/calendar.ics")["X-WR-CALNAME"] == "北杨小镇活动"


# ---- the public feed -------------------------------------------------------------------------------------------------

def test_the_public_feed_has_published_and_recently_cancelled_events_never_drafts(client, create_event, organizer):
    published = create_event(title="公开沙龙")
    draft = create_event(title="草稿", status="draft")
    cancelled = create_event(title="取消的沙龙")
    services.cancel_event(cancelled.id, organizer, now=utcnow())
    long_past = create_event(title="两个月前", starts_in=timedelta(days=-60))
    db.session.commit()

    response = get_ics(client, "/calendar.ics")
    assert response.headers["Content-Disposition"].startswith('inline; filename="beiyang-events.ics"')
    cal = check_rfc5545(response.data)
    shown = vevents(cal)
    assert set(shown) == {uid(published), uid(cancelled)}
    assert uid(draft) not in shown and uid(long_past) not in shown
    assert cal["X-WR-CALNAME"] == "北杨小镇活动"
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"


def test_an_empty_feed_is_still_a_valid_calendar(client):
    cal = feed(client)
    assert not cal.walk("VEVENT") and cal.walk("VTIMEZONE")


def test_the_public_feed_filters_by_kind_and_refuses_an_unknown_kind(client, create_event):
    salon = create_event(title="沙龙", kind="salon")
    roadshow = create_event(title="路演日", kind="roadshow")
    competition = create_event(title="大赛", kind="competition")

    assert set(vevents(feed(client, "/calendar.ics?kind=salon"))) == {uid(salon)}
    assert feed(client, "/calendar.ics?kind=salon")["X-WR-CALNAME"] == "北杨小镇活动 · 技术沙龙"
    assert set(vevents(feed(client, "/calendar.ics?kind=roadshow"))) == {uid(roadshow)}
    assert set(vevents(feed(client, "/calendar.ics?kind=salon,competition"))) == {uid(salon), uid(competition)}
    assert len(vevents(feed(client, "/calendar.ics"))) == 3

    bad = client.get("/calendar.ics?kind=party", headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["code"] == "invalid_kind"
    assert "party" in bad.get_json()["error"]["message"] and "salon" in bad.get_json()["error"]["message"]
    page = client.get("/calendar.ics?kind=<script>")
    assert page.status_code == 400 and "<script>" not in page.get_data(as_text=True)


def test_the_public_feed_answers_304_until_something_changes(client, create_event, organizer):
    event = create_event()
    first = get_ics(client, "/calendar.ics")
    assert client.get("/calendar.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    services.update_event(event.id, organizer, now=utcnow(), venue="新地点")
    db.session.commit()
    changed = client.get("/calendar.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


# ---- recurring series ------------------------------------------------------------------------------------------------

def make_series(organizer, *, count=4, title="周四 AI 夜谈"):
    start = thursday_evening()
    series, events = services.create_series(organizer, rrule=f"FREQ=WEEKLY;BYDAY=TH;COUNT={count}", now=utcnow(),
                                            status="published", kind="salon", title=title, venue="北杨小镇咖啡馆",
                                            starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.commit()
    return series, events


def instances_of(master: icalendar.Event) -> set[datetime]:
    """What a calendar app expands the master to: its RRULE from DTSTART, minus EXDATE."""
    from dateutil.rrule import rrulestr

    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=master.decoded("DTSTART"))
    excluded = {d.dt for d in master["EXDATE"].dts} if "EXDATE" in master else set()
    return {start for start in rule if start not in excluded}


def overrides_of(shown: dict, series_uid: str) -> set[datetime]:
    return {v.decoded("RECURRENCE-ID") for key, v in shown.items() if key.startswith(series_uid + "|")}


def rid(event) -> str:
    return event.recurrence_id.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def test_a_series_is_one_recurring_event_with_its_occurrences_as_overrides(client, organizer):
    series, events = make_series(organizer)
    cal = feed(client)
    series_uid = f"series-{series.id}@beiyang-events"
    shown = vevents(cal)
    master = shown[series_uid]
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4;BYDAY=TH"
    assert master.decoded("DTSTART") == events[0].starts_at
    assert master["DTSTART"].params["TZID"] == SHANGHAI
    assert master.decoded("DTSTART").astimezone(calendar.TZ).hour == 19
    assert "EXDATE" not in master
    assert set(shown) == {series_uid} | {f"{series_uid}|{rid(e)}" for e in events}
    assert instances_of(master) == overrides_of(shown, series_uid)  # no phantom, none missing
    for event in events:
        override = shown[f"{series_uid}|{rid(event)}"]
        assert override.decoded("DTSTART") == event.starts_at
        assert override["URL"] == f"http://localhost/events/{event.id}"


def test_a_moved_cancelled_or_draft_occurrence_keeps_the_series_consistent(client, organizer):
    series, events = make_series(organizer)
    moved, cancelled, hidden = events[1], events[2], events[3]
    services.update_event(moved.id, organizer, now=utcnow(), starts_at=moved.starts_at + timedelta(hours=1),
                          ends_at=moved.ends_at + timedelta(hours=1), venue="模速空间")
    services.cancel_event(cancelled.id, organizer, now=utcnow())
    hidden.status = "draft"  # e.g. an occurrence never published
    db.session.commit()

    shown = vevents(feed(client))
    series_uid = f"series-{series.id}@beiyang-events"
    master = shown[series_uid]
    assert [d.dt for d in master["EXDATE"].dts] == [hidden.recurrence_id]
    assert master["SEQUENCE"] == max(e.sequence for e in events)
    override = shown[f"{series_uid}|{rid(moved)}"]  # the RECURRENCE-ID stays the rule's start
    assert override.decoded("DTSTART") == moved.recurrence_id + timedelta(hours=1)
    assert override["LOCATION"] == "模速空间" and override["SEQUENCE"] == 1
    assert shown[f"{series_uid}|{rid(cancelled)}"]["STATUS"] == "CANCELLED"
    assert f"{series_uid}|{rid(hidden)}" not in shown
    assert instances_of(master) == overrides_of(shown, series_uid) == {e.recurrence_id for e in events[:3]}


def test_a_series_ending_on_a_date_is_written_with_the_count_we_expanded(client, organizer):
    start = thursday_evening()
    until = (start + timedelta(weeks=2)).astimezone(calendar.TZ)  # the third Thursday, 19:00 in Shanghai
    series, events = services.create_series(
        organizer, rrule=f"FREQ=WEEKLY;UNTIL={until:%Y%m%dT%H%M%S}", now=utcnow(), status="published", kind="salon",
        title="三周沙龙", starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.commit()
    shown = vevents(feed(client))
    master = shown[f"series-{series.id}@beiyang-events"]
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=3"
    assert instances_of(master) == {e.recurrence_id for e in events}


def test_an_occurrence_downloaded_alone_is_a_plain_event(client, organizer):
    _, events = make_series(organizer)
    (vevent,) = feed(client, f"/events/{events[1].id}.ics").walk("VEVENT")
    assert vevent["UID"] == uid(events[1])
    assert "RRULE" not in vevent and "RECURRENCE-ID" not in vevent


# ---- the private feed ------------------------------------------------------------------------------------------------

def test_my_feed_has_my_active_sign_ups_and_my_published_pitch_slot_and_nothing_of_others(
        client, create_event, create_resident, sign_up, pitch_slot):
    me, other = create_resident(name="林晓舟"), create_resident(name="赵一鸣")
    confirmed = create_event(title="确认的沙龙")
    waitlisted = create_event(title="候补的沙龙", capacity=1)
    pending = create_event(title="待审核的沙龙", requires_approval=True)
    left = create_event(title="已退出的沙龙")
    not_mine = create_event(title="别人的沙龙")
    sign_up(waitlisted, other)
    for event in (confirmed, waitlisted, pending, left):
        sign_up(event, me)
    sign_up(not_mine, other)
    services.cancel_registration(services.registration_of(left.id, me.id).id, me, now=utcnow())
    my_slot = pitch_slot(me)
    others_slot = pitch_slot(other, project="深言科技", event=my_slot.application.event)
    unpublished = pitch_slot(me, project="未公布", published=False)
    path = feed_path(me)
    db.session.commit()

    response = get_ics(client, path)  # no cookie: calendar apps have none
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["Content-Disposition"].startswith("inline;")
    cal = check_rfc5545(response.data)
    assert cal["X-WR-CALNAME"] == "我的北杨小镇活动"
    shown = vevents(cal)
    assert set(shown) == {uid(confirmed), uid(waitlisted), uid(pending), f"pitch-slot-{my_slot.id}@beiyang-events"}
    slot = shown[f"pitch-slot-{my_slot.id}@beiyang-events"]
    assert slot["SUMMARY"] == "路演：灵犀法务 @ 模速路演日 · 第 12 期"
    assert slot.decoded("DTSTART") == my_slot.starts_at.replace(microsecond=0)
    assert slot.decoded("DTEND") == my_slot.ends_at.replace(microsecond=0)
    assert slot["LOCATION"] == "北杨小镇" and slot.walk("VALARM")
    assert f"pitch-slot-{others_slot.id}@beiyang-events" not in shown
    assert f"pitch-slot-{unpublished.id}@beiyang-events" not in shown


def test_a_moved_pitch_slot_raises_its_sequence_so_calendar_apps_take_the_new_time(
        client, create_resident, pitch_slot, organizer):
    from events import pitching

    me = create_resident()
    slot = pitch_slot(me)
    path = feed_path(me)
    db.session.commit()
    uid_of_slot = f"pitch-slot-{slot.id}@beiyang-events"
    before = vevents(feed(client, path))[uid_of_slot]

    later = slot.starts_at + timedelta(minutes=30)
    pitching.set_lineup(slot.event_id, organizer, now=utcnow(),
                        slots=[pitching.SlotPlan(slot.application_id, later, later + timedelta(minutes=10))])
    db.session.commit()
    after = vevents(feed(client, path))[uid_of_slot]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.decoded("DTSTART") == later.replace(microsecond=0)
    assert after.decoded("LAST-MODIFIED") >= before.decoded("LAST-MODIFIED")


def test_my_feed_shows_a_cancelled_event_as_cancelled(client, create_event, create_resident, sign_up, organizer,
                                                      pitch_slot):
    me = create_resident()
    event = create_event()
    sign_up(event, me)
    slot = pitch_slot(me)
    for cancelled in (event, slot.application.event):
        services.cancel_event(cancelled.id, organizer, now=utcnow())
    path = feed_path(me)
    db.session.commit()
    shown = vevents(feed(client, path))
    assert shown[uid(event)]["STATUS"] == "CANCELLED"
    assert shown[f"pitch-slot-{slot.id}@beiyang-events"]["STATUS"] == "CANCELLED"


@time_machine.travel(datetime(2031, 3, 1, 2, 0, tzinfo=UTC), tick=True)  # the draw below is days ahead, every year
def test_my_feed_shows_a_seat_not_yet_mine_as_tentative_with_where_i_stand_and_no_reminder(
        client, create_event, create_resident, sign_up, organizer):
    """Issue 23, item 5: waitlisted, pending, offered and lottery sign-ups are TENTATIVE (their title and description
    say where the person stands) with no alarm; a confirmed seat is CONFIRMED with the day-before and hour-before
    alarms; a cancelled event is CANCELLED; a sign-up the person cancelled leaves the feed."""
    me, first, second = create_resident(name="林晓舟"), create_resident(name="赵一鸣"), create_resident(name="钱多多")
    confirmed = create_event(title="确认的沙龙")
    waitlisted = create_event(title="候补的沙龙", capacity=1)
    pending = create_event(title="待审核的沙龙", requires_approval=True)
    offered = create_event(title="保留名额的沙龙", capacity=1, waitlist_mode="offer", offer_hours=12)
    draw_at = datetime(2031, 3, 6, 4, 0, tzinfo=UTC)  # a Thursday, 12:00 in Shanghai; the salon is the day after
    lottery = create_event(title="抽签的沙龙", capacity=1, waitlist_mode="lottery", lottery_draw_at=draw_at,
                           starts_in=draw_at + timedelta(days=1) - utcnow())
    cancelled = create_event(title="取消的沙龙", capacity=1)
    left = create_event(title="我退出的沙龙", capacity=1)
    for event in (waitlisted, cancelled, left):
        sign_up(event, first)
    sign_up(waitlisted, second)
    holder = sign_up(offered, first)
    for event in (confirmed, waitlisted, pending, offered, lottery, cancelled, left):
        sign_up(event, me)
    services.cancel_registration(holder.id, first, now=utcnow())  # my waitlist place becomes an offer
    services.cancel_registration(services.registration_of(left.id, me.id).id, me, now=utcnow())
    services.cancel_event(cancelled.id, organizer, now=utcnow())
    mine = services.registration_of(offered.id, me.id)
    assert mine.status == "offered"
    path = feed_path(me)
    db.session.commit()

    shown = vevents(feed(client, path))
    assert set(shown) == {uid(e) for e in (confirmed, waitlisted, pending, offered, lottery, cancelled)}
    assert shown[uid(confirmed)]["STATUS"] == "CONFIRMED" and shown[uid(confirmed)]["SUMMARY"] == "确认的沙龙"
    triggers = sorted(alarm.decoded("TRIGGER") for alarm in shown[uid(confirmed)].walk("VALARM"))
    assert triggers == [timedelta(days=-1), timedelta(hours=-1)]
    expected = {
        waitlisted: ("【候补】候补的沙龙", "你在候补名单第 2 位，尚未获得座位"),
        pending: ("【待审核】待审核的沙龙", "等待组织者审核，尚未获得座位"),
        offered: ("【待确认名额】保留名额的沙龙", "已为你保留名额至 "),
        lottery: ("【抽签中】抽签的沙龙", "你已参加抽签，3月6日周四 12:00 开奖，尚未获得座位"),
    }
    for event, (summary, standing) in expected.items():
        vevent = shown[uid(event)]
        assert vevent["STATUS"] == "TENTATIVE", event.title
        assert vevent["SUMMARY"] == summary
        assert standing in str(vevent["DESCRIPTION"]), str(vevent["DESCRIPTION"])
        assert not vevent.walk("VALARM"), f"no reminder for {event.title}"
    assert shown[uid(cancelled)]["STATUS"] == "CANCELLED" and not shown[uid(cancelled)].walk("VALARM")

    # the public feed knows no person: every event there stays CONFIRMED with its reminders
    public = vevents(feed(client, "/calendar.ics"))
    assert public[uid(waitlisted)]["STATUS"] == "CONFIRMED" and public[uid(waitlisted)].walk("VALARM")


def test_my_feed_says_where_i_stand_in_my_language(client, create_event, create_resident, sign_up):
    me, first = create_resident(locale="en"), create_resident()
    event = create_event(title="技术沙龙", title_en="Tech salon", capacity=1)
    sign_up(event, first)
    sign_up(event, me)
    path = feed_path(me)
    db.session.commit()
    vevent = vevents(feed(client, path))[uid(event)]
    assert vevent["STATUS"] == "TENTATIVE" and vevent["SUMMARY"] == "Waitlisted: Tech salon"
    assert "You are on the waitlist, no. 1 in line" in str(vevent["DESCRIPTION"]) and not vevent.walk("VALARM")


def test_a_series_occurrence_i_am_waitlisted_for_is_tentative_master_included(
        client, create_resident, sign_up, organizer):
    me, first = create_resident(), create_resident()
    series, events = make_series(organizer)
    events[1].capacity = 1
    db.session.commit()
    sign_up(events[1], first)
    sign_up(events[1], me)
    path = feed_path(me)
    db.session.commit()
    shown = vevents(feed(client, path))
    series_uid = f"series-{series.id}@beiyang-events"
    for key in (series_uid, f"{series_uid}|{rid(events[1])}"):
        assert shown[key]["STATUS"] == "TENTATIVE" and not shown[key].walk("VALARM")


def test_my_feed_shows_only_the_occurrences_of_a_series_i_signed_up_for(client, create_resident, sign_up, organizer):
    me = create_resident()
    series, events = make_series(organizer)
    sign_up(events[1], me)
    path = feed_path(me)
    db.session.commit()
    shown = vevents(feed(client, path))
    series_uid = f"series-{series.id}@beiyang-events"
    assert set(shown) == {series_uid, f"{series_uid}|{rid(events[1])}"}
    excluded = [d.dt for d in shown[series_uid]["EXDATE"].dts]
    assert excluded == [events[0].recurrence_id, events[2].recurrence_id, events[3].recurrence_id]
    assert instances_of(shown[series_uid]) == overrides_of(shown, series_uid) == {events[1].recurrence_id}


def test_my_feed_follows_my_language(client, create_resident, create_event, sign_up):
    me = create_resident(locale="en")
    event = create_event(title="技术沙龙", title_en="Tech salon")
    sign_up(event, me)
    path = feed_path(me)
    db.session.commit()
    cal = feed(client, path)
    assert cal["X-WR-CALNAME"] == "My Beiyang events"
    assert vevents(cal)[uid(event)]["SUMMARY"] == "Tech salon"


def test_my_feed_answers_304_and_changes_when_i_sign_up(client, create_resident, create_event, sign_up):
    me = create_resident()
    path = feed_path(me)
    db.session.commit()
    first = get_ics(client, path)
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    sign_up(create_event(), me)
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_an_unknown_or_malformed_token_is_a_plain_404(client, create_resident):
    me = create_resident()
    real = calendar.calendar_token(me)
    db.session.commit()
    for token in ("x" * 32, real[:-1] + ("A" if real[-1] != "A" else "B"), "short", real.upper() + "!"):
        response = client.get(f"/calendar/{token}.ics", headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] in ("calendar_not_found", "not_found")


def test_a_deactivated_account_has_no_feed(client, create_resident):
    me = create_resident()
    path = feed_path(me)
    me.is_active_account = False
    db.session.commit()
    get_ics(client, path, status=404)


# ---- tokens: the page, the API, rotation -----------------------------------------------------------------------------

def test_the_token_is_long_random_created_once_and_unique(app, create_resident):
    me, other = create_resident(), create_resident()
    token = calendar.calendar_token(me)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert calendar.calendar_token(me) == token
    assert calendar.calendar_token(other) != token
    db.session.commit()
    assert calendar.user_for_calendar_token(token).id == me.id


def test_the_api_gives_my_feed_urls_and_rotation_kills_the_old_one(client, create_resident):
    me = create_resident()
    assert client.get("/api/v1/me/calendar").status_code == 401
    sign_in(client, me)

    first = client.get("/api/v1/me/calendar").get_json()
    assert client.get("/api/v1/me/calendar").get_json() == first
    assert re.fullmatch(r"http://localhost/calendar/[A-Za-z0-9_-]{32}\.ics", first["feed_url"])
    assert first["webcal_url"] == "webcal://" + first["feed_url"].removeprefix("http://")
    old_path = urlsplit(first["feed_url"]).path
    sign_out_client = client.application.test_client()
    get_ics(sign_out_client, old_path)

    csrf = csrf_token_from(client, "/me/calendar")
    assert client.post("/api/v1/me/calendar/rotate").status_code == 400  # a cookie write needs the CSRF header
    rotated = client.post("/api/v1/me/calendar/rotate", headers={"X-CSRFToken": csrf})
    assert rotated.status_code == 200
    new = rotated.get_json()
    assert new["feed_url"] != first["feed_url"]
    get_ics(sign_out_client, old_path, status=404)
    get_ics(sign_out_client, urlsplit(new["feed_url"]).path)
    assert client.get("/api/v1/me/calendar").get_json() == new


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/me/calendar"] and "post" in paths["/api/v1/me/calendar/rotate"]


def test_my_calendar_page_shows_both_links_and_replaces_the_token(client, create_resident):
    me = create_resident()
    assert client.get("/me/calendar").status_code == 302  # to sign in
    sign_in(client, me)
    html = client.get("/me/calendar").get_data(as_text=True)
    db.session.expire_all()
    token = me.calendar_token
    assert token and f"http://localhost/calendar/{token}.ics" in html
    assert f"webcal://localhost/calendar/{token}.ics" in html
    assert "订阅" in html and "iPhone" in html and "Outlook" in html and "Google" in html
    google = re.search(r'href="(https://calendar\.google\.com/calendar/r\?[^"]+)"', html).group(1)
    assert parse_qs(urlsplit(google.replace("&amp;", "&")).query)["cid"] == [f"webcal://localhost/calendar/{token}.ics"]
    assert "http://localhost/calendar.ics" in html

    assert client.post("/me/calendar/rotate").status_code == 400  # no CSRF token
    db.session.expire_all()
    assert me.calendar_token == token
    response = client.post("/me/calendar/rotate", data={"csrf_token": csrf_token_from(client, "/me/calendar")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/calendar")
    page = client.get("/me/calendar").get_data(as_text=True)
    assert "日历链接已更换" in page
    db.session.expire_all()
    assert me.calendar_token != token and me.calendar_token in page
    get_ics(client, f"/calendar/{token}.ics", status=404)
    get_ics(client, f"/calendar/{me.calendar_token}.ics")


def test_my_calendar_page_says_unconfirmed_seats_come_without_reminders(client, create_resident):
    me = create_resident()
    sign_in(client, me)
    html = client.get("/me/calendar").get_data(as_text=True)
    assert "前一天和前一小时提醒" in html and "显示为“暂定”" in html and "不设提醒" in html
    english = client.get("/me/calendar", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "shows as tentative" in english and "no reminder" in english


def test_links_use_the_public_address_when_one_is_configured(app, client, create_event):
    app.config["SERVER_NAME_FOR_LINKS"] = "https://events.beiyang.example"
    event = create_event()
    (vevent,) = feed(client, f"/events/{event.id}.ics").walk("VEVENT")
    assert vevent["URL"] == f"https://events.beiyang.example/events/{event.id}"


# ---- the event page --------------------------------------------------------------------------------------------------

def test_the_event_page_offers_ics_and_google_calendar(client, create_event, create_resident, organizer):
    event = create_event(title="技术沙龙：RAG", venue="北杨小镇 A2 栋")
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'href="/events/{event.id}.ics"' in html and "添加到日历" in html
    google = re.search(r'href="(https://calendar\.google\.com/calendar/render\?[^"]+)"', html).group(1)
    query = parse_qs(urlsplit(google.replace("&amp;", "&")).query)
    assert query["text"] == ["技术沙龙：RAG"] and query["location"] == ["北杨小镇 A2 栋"]
    assert query["dates"] == [f"{event.starts_at:%Y%m%dT%H%M%SZ}/{event.ends_at:%Y%m%dT%H%M%SZ}"]
    assert "订阅我的全部活动" not in html

    sign_in(client, create_resident())
    assert "订阅我的全部活动" in client.get(f"/events/{event.id}").get_data(as_text=True)

    services.cancel_event(event.id, organizer, now=utcnow())
    db.session.commit()
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "更新我的日历" in html and "calendar.google.com/calendar/render" not in html
