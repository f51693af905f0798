"""Nobody in two places at once on a roadshow day (issue 23): a founder never meets an investor while pitching, whatever
changes afterwards: the line-up's order or times, the pitches' length, the meeting plan, someone's availability.
A change that would cross a published meeting is refused with a message naming who and when; one that crosses a
draft meeting takes it out of the draft; the planner leaves out each founder's pitch time. All through HTTP."""

from datetime import timedelta

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from mentoring import meetings
from mentoring.models import RoadshowMeeting
from tests.conftest import csrf_token_from, sign_in
from tests.mentoring.test_meetings import roadshow, set_up  # noqa: F401  (the fixture)

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def api(client, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    tokens = {p.id: issue_api_token(p, now=utcnow()) for p in (organizer, *founders, *investors)}
    db.session.commit()

    def call(method, path, person, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[person.id]}", **ZH}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def hm(value):
    return value.astimezone(meetings.SHANGHAI).strftime("%H:%M")


def build(api, event, organizer, wishes, *, publish):
    """Wishes [(investor, founder)] -> the schedule built (and published), its meetings by founder id."""
    for investor, founder in wishes:
        assert api("PUT", f"/api/v1/mentoring/roadshow/{event.id}/wishes/{founder.id}", investor).status_code == 204
    assert api("POST", f"/api/v1/mentoring/roadshow/{event.id}/schedule", organizer).status_code == 200
    if publish:
        assert api("POST", f"/api/v1/mentoring/roadshow/{event.id}/schedule/publish", organizer).status_code == 200
    db.session.expire_all()
    return {m.founder_id: m for m in meetings.meetings_of_event(event.id)}


def lineup(api, event, organizer):
    return api("GET", f"/api/v1/events/{event.id}/lineup", organizer).json["slots"]


def put_lineup(api, event, organizer, slots):
    return api("PUT", f"/api/v1/events/{event.id}/lineup", organizer,
               json=[{"application_id": s["application_id"], "starts_at": s["starts_at"], "ends_at": s["ends_at"]}
                     for s in slots])


def test_new_pitch_times_over_a_published_meeting_are_refused_naming_who_and_when(api, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    set_up(event, organizer)
    mine = build(api, event, organizer, [(investors[0], founders[0])], publish=True)[founders[0].id]
    before = lineup(api, event, organizer)
    moved = [dict(s) for s in before]
    moved[0]["starts_at"] = (mine.starts_at - timedelta(minutes=5)).isoformat()  # 项目0 pitches into its meeting
    moved[0]["ends_at"] = (mine.starts_at + timedelta(minutes=10)).isoformat()
    moved = moved[1:] + moved[:1]  # keep time order
    answer = put_lineup(api, event, organizer, moved)
    assert answer.status_code == 409, answer.json
    error = answer.json["error"]
    assert error["code"] == "meeting_clash"
    assert "创始人0" in error["message"] and "项目0" in error["message"] and "投资人0" in error["message"]
    assert "路演" in error["message"] and "约见已发布" in error["message"]  # in the caller's language
    assert f"{hm(mine.starts_at - timedelta(minutes=5))}–{hm(mine.starts_at + timedelta(minutes=10))}" \
        in error["message"]
    assert f"{hm(mine.starts_at)}–{hm(mine.ends_at)}" in error["message"]
    assert error["details"]["founder_id"] == founders[0].id and error["details"]["investor_id"] == investors[0].id
    assert lineup(api, event, organizer) == before  # nothing changed


def test_longer_pitches_that_run_into_a_published_meeting_are_refused(api, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    set_up(event, organizer)
    mine = build(api, event, organizer, [(investors[0], founders[2])], publish=True)[founders[2].id]
    before = lineup(api, event, organizer)
    # the same order on a grid, longer pitches: the third (项目2) now starts at its meeting's time or a bit before
    minutes = int((mine.starts_at - event.starts_at).total_seconds() // 60) // 2
    answer = api("PUT", f"/api/v1/events/{event.id}/lineup", organizer,
                 json={"application_ids": [s["application_id"] for s in before],
                       "starts_at": event.starts_at.isoformat(), "slot_minutes": minutes, "gap_minutes": 0})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "meeting_clash"
    assert "项目2" in answer.json["error"]["message"]
    assert lineup(api, event, organizer) == before


def test_a_new_order_that_puts_a_founder_on_stage_during_their_meeting_is_refused_on_the_page(
        api, client, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    set_up(event, organizer)
    mine = build(api, event, organizer, [(investors[0], founders[0])], publish=True)[founders[0].id]
    slots = lineup(api, event, organizer)
    # 项目2 (no meeting) moves to the time of 项目0's meeting: allowed
    slots[2]["starts_at"] = mine.starts_at.isoformat()
    slots[2]["ends_at"] = (mine.starts_at + timedelta(minutes=10)).isoformat()
    assert put_lineup(api, event, organizer, slots).status_code == 200
    # then 项目0 moves down (up first: already the first, nothing moves): past 项目1 it may go, past 项目2 it would
    # take 项目2's window, on stage during its own meeting
    sign_in(client, organizer)
    page = f"/events/{event.id}/pitch/lineup"
    applications = [s["application_id"] for s in slots]
    answer = client.post(f"{page}/up", data={"csrf_token": csrf_token_from(client, page),
                                             "application_id": applications[0]}, headers=ZH)
    assert answer.status_code == 302
    answer = client.post(f"{page}/down", data={"csrf_token": csrf_token_from(client, page),
                                               "application_id": applications[0]}, headers=ZH)
    assert answer.status_code == 302
    answer = client.post(f"{page}/down", data={"csrf_token": csrf_token_from(client, page),
                                               "application_id": applications[0]}, headers=ZH)
    html = client.get(page, headers=ZH).get_data(as_text=True)
    assert "创始人0" in html and "投资人0" in html and f"{hm(mine.starts_at)}–{hm(mine.ends_at)}" in html
    db.session.expire_all()
    order = [s["application_id"] for s in lineup(api, event, organizer)]
    assert order.index(applications[0]) != 2  # 项目0 never took the 15:xx window


def test_a_line_up_change_over_a_draft_meeting_takes_it_out_of_the_draft(api, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    set_up(event, organizer)
    draft = build(api, event, organizer, [(investors[0], founders[0]), (investors[1], founders[1])], publish=False)
    mine = draft[founders[0].id]
    mine_starts, mine_ends = mine.starts_at, mine.ends_at  # plain values: the rebuild deletes the draft's rows
    slots = lineup(api, event, organizer)
    slots[0]["starts_at"] = mine_starts.isoformat()
    slots[0]["ends_at"] = mine_ends.isoformat()
    assert put_lineup(api, event, organizer, slots[1:] + slots[:1]).status_code == 200
    schedule = api("GET", f"/api/v1/mentoring/roadshow/{event.id}/schedule", organizer).json
    assert [m["founder_id"] for m in schedule["meetings"]] == [founders[1].id]
    assert schedule["unmet"] == [[investors[0].id, founders[0].id]]
    # built again, the planner leaves out 项目0's pitch time
    rebuilt = api("POST", f"/api/v1/mentoring/roadshow/{event.id}/schedule", organizer).json
    again = next(m for m in rebuilt["meetings"] if m["founder_id"] == founders[0].id)
    assert again["starts_at"] != schedule["plan"]["starts_at"] or mine_starts != event.starts_at
    db.session.expire_all()
    for m in meetings.meetings_of_event(event.id):
        if m.founder_id == founders[0].id:
            assert not (m.starts_at < mine_ends and mine_starts < m.ends_at)


def test_the_planner_never_puts_a_founder_in_a_meeting_while_pitching(api, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    plan = set_up(event, organizer)
    # after the meetings were set up, 项目0 moves to the first half of the meetings' window (nothing planned yet)
    slots = lineup(api, event, organizer)
    slots[0]["starts_at"] = plan.starts_at.isoformat()
    slots[0]["ends_at"] = (plan.starts_at + timedelta(minutes=25)).isoformat()
    assert put_lineup(api, event, organizer, slots[1:] + slots[:1]).status_code == 200
    built = build(api, event, organizer, [(investor, founders[0]) for investor in investors], publish=True)
    rows = [m for m in meetings.meetings_of_event(event.id) if m.founder_id == founders[0].id]
    assert len(rows) == 2 and built  # three investors, four slots, two of them on stage
    assert all(m.starts_at >= plan.starts_at + timedelta(minutes=30) for m in rows)


def test_availability_and_slot_length_cannot_break_a_schedule(api, roadshow, organizer):  # noqa: F811
    event, founders, investors = roadshow
    plan = set_up(event, organizer)
    draft = build(api, event, organizer, [(investors[0], f) for f in founders[:3]], publish=False)
    assert len(draft) == 3
    last = max(m.starts_at for m in draft.values())
    # the investor must leave before their last draft meeting: it leaves the draft
    answer = api("PUT", f"/api/v1/mentoring/roadshow/{event.id}/availability", investors[0],
                 json={"available_from": plan.starts_at.isoformat(), "available_until": last.isoformat()})
    assert answer.status_code == 204
    db.session.expire_all()
    left = meetings.meetings_of_event(event.id)
    assert len(left) == 2 and all(m.ends_at <= last for m in left)
    assert api("POST", f"/api/v1/mentoring/roadshow/{event.id}/schedule/publish", organizer).status_code == 200
    # published: neither availability nor the slot length may change any more
    answer = api("PUT", f"/api/v1/mentoring/roadshow/{event.id}/availability", investors[0],
                 json={"available_from": plan.starts_at.isoformat(),
                       "available_until": (plan.starts_at + timedelta(minutes=15)).isoformat()})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "meetings_published"
    answer = api("PUT", f"/api/v1/mentoring/roadshow/{event.id}/meeting-plan", organizer,
                 json={"starts_at": plan.starts_at.isoformat(), "ends_at": plan.ends_at.isoformat(),
                       "slot_minutes": 30, "tables": plan.tables})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "meetings_published"
    assert db.session.query(RoadshowMeeting).filter_by(event_id=event.id).count() == 2
