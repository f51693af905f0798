"""The town (admins): the companies that come most, the no-show rate by how long before the event people signed up,
and attendance per occurrence of the busiest series; an event's own series on its insights page. Every number is
recounted here from the registrations one by one."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from events.models import Event, EventSeries, Registration
from tests.conftest import sign_in

LEADS = (("under_1d", 1), ("1_3d", 3), ("3_7d", 7), ("1_2w", 14), ("over_2w", None))


@pytest.fixture
def admin(create_resident):
    return create_resident(name="镇管理员", roles=["admin"])


@pytest.fixture
def town(create_event, create_resident):
    """Two series (weekly salons, five occurrences, one still to come; a pair of roadshows), a one-off event, a draft;
    people of four companies (one with none) signing up from hours to weeks ahead, most of them coming."""
    weekly = EventSeries(title="周四技术沙龙", rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=5")
    pair = EventSeries(title="季度路演日", rrule="FREQ=MONTHLY;INTERVAL=3;COUNT=2")
    db.session.add_all([weekly, pair])
    db.session.commit()
    events = [create_event(title=f"周四技术沙龙 {n}", starts_in=timedelta(days=7 * n - 22), series_id=weekly.id)
              for n in range(5)]  # the last one starts in 6 days
    events += [create_event(title=f"季度路演日 {n}", kind="roadshow", starts_in=timedelta(days=-100 + 60 * n),
                            series_id=pair.id) for n in range(2)]
    events.append(create_event(title="一次性活动", starts_in=timedelta(days=-3)))
    events.append(create_event(title="草稿", status="draft", starts_in=timedelta(days=-2), series_id=weekly.id))
    companies = ["星河智能", "星河智能", " 星河智能", "云帆资本", "云帆资本", "北杨实验室", "", "北杨实验室"]
    people = [create_resident(name=f"居民{i}", company=c) for i, c in enumerate(companies)]
    leads = [timedelta(hours=5), timedelta(days=2), timedelta(days=5), timedelta(days=10), timedelta(days=20),
             timedelta(days=1), timedelta(days=3), timedelta(days=14)]
    seq = 0
    for e, event in enumerate(events):
        for p, person in enumerate(people):
            if (e + p) % 3 == 0:
                continue
            seq += 1
            status = "cancelled" if (e * p) % 7 == 5 else "confirmed"
            db.session.add(Registration(
                event_id=event.id, user_id=person.id, status=status, waitlist_seq=seq,
                created_at=event.starts_at - leads[(e + p) % len(leads)], confirmed_at=event.starts_at,
                checked_in_at=event.starts_at if (e + 2 * p) % 4 and event.starts_at < utcnow() else None))
    db.session.commit()
    return {"weekly": weekly, "pair": pair, "events": events}


def past_confirmed():
    now = utcnow()
    return [r for r in db.session.scalars(sa.select(Registration))
            if r.status == "confirmed" and r.event.status == "published" and r.event.ends_at < now]


def test_the_companies_that_come_most_match_the_check_ins(client, admin, town):
    sign_in(client, admin)
    data = client.get("/api/v1/insights/town").get_json()
    now = utcnow()
    came = [r for r in db.session.scalars(sa.select(Registration))
            if r.checked_in_at is not None and r.event.status == "published" and r.event.starts_at <= now]
    attendances, people, events = Counter(), {}, {}
    for r in came:
        company = db.session.get(User, r.user_id).company.strip()
        if company:
            attendances[company] += 1
            people.setdefault(company, set()).add(r.user_id)
            events.setdefault(company, set()).add(r.event_id)
    expected = [{"company": c, "attendances": n, "people": len(people[c]), "events": len(events[c])}
                for c, n in sorted(attendances.items(), key=lambda item: (-item[1], item[0]))]
    assert data["companies"] == expected
    assert [c["company"] for c in data["companies"]][0] == "星河智能" and len(expected) == 3


def test_no_shows_by_lead_time_match_the_registrations(client, admin, town):
    sign_in(client, admin)
    data = client.get("/api/v1/insights/town").get_json()
    rows = past_confirmed()

    def band(r):
        ahead = r.event.starts_at - r.created_at
        return next(key for key, days in LEADS if days is None or ahead < timedelta(days=days))

    assert [r["lead"] for r in data["lead_times"]] == [key for key, _ in LEADS]
    for row in data["lead_times"]:
        mine = [r for r in rows if band(r) == row["lead"]]
        attended = sum(1 for r in mine if r.checked_in_at is not None)
        assert (row["confirmed"], row["attended"], row["no_shows"]) == (len(mine), attended, len(mine) - attended)
        assert row["rate"] == (round(100 * (len(mine) - attended) / len(mine), 1) if mine else None)
    assert sum(r["confirmed"] for r in data["lead_times"]) == len(rows) > 0
    assert all(r["confirmed"] for r in data["lead_times"])  # every band has people here


def expected_occurrences(series_id: int, until=None):
    now = utcnow()
    events = sorted((e for e in db.session.scalars(sa.select(Event).where(Event.series_id == series_id))
                     if e.status == "published" and (until is None or e.starts_at <= until)),
                    key=lambda e: (e.starts_at, e.id))
    out = []
    for e in events:
        confirmed = [r for r in db.session.scalars(sa.select(Registration).where(Registration.event_id == e.id))
                     if r.status == "confirmed"]
        came = sum(1 for r in confirmed if r.checked_in_at is not None)
        past = e.ends_at < now
        out.append({"event_id": e.id, "confirmed": len(confirmed), "came": came, "past": past,
                    "rate": round(100 * came / len(confirmed), 1) if past and confirmed else None})
    return out


def test_attendance_per_occurrence_of_the_busiest_series(client, admin, town):
    sign_in(client, admin)
    data = client.get("/api/v1/insights/town").get_json()
    assert [s["title"] for s in data["series"]] == ["周四技术沙龙", "季度路演日"]
    for series in data["series"]:
        got = [{k: o[k] for k in ("event_id", "confirmed", "came", "past", "rate")} for o in series["occurrences"]]
        assert got == expected_occurrences(series["series_id"], until=utcnow())
    assert len(data["series"][0]["occurrences"]) == 4  # the one in six days and the draft are not in


def test_the_event_page_draws_its_series(client, create_resident, town):
    organizer = create_resident(roles=["organizer"])
    sign_in(client, organizer)
    event = town["events"][2]
    data = client.get(f"/api/v1/events/{event.id}/insights/series").get_json()
    assert data["empty_reason"] is None and data["series"]["title"] == "周四技术沙龙"
    got = [{k: o[k] for k in ("event_id", "confirmed", "came", "past", "rate")} for o in data["series"]["occurrences"]]
    assert got == expected_occurrences(town["weekly"].id)
    assert got[-1]["past"] is False and got[-1]["came"] == 0 and got[-1]["rate"] is None
    html = client.get(f"/manage/events/{event.id}/insights").get_data(as_text=True)
    assert 'data-testid="series-chart"' in html and "本系列每一场的到场人数" in html
    table = list(csv.reader(io.StringIO(client.get(
        f"/manage/events/{event.id}/insights/series.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["系列", "开始时间", "已确认", "已到", "到场率（%）"]
    assert [int(r[2]) for r in table[1:]] == [o["confirmed"] for o in got]
    assert [r[3] for r in table[1:]] == [str(o["came"]) if o["past"] else "" for o in got]


def test_an_event_outside_any_series_says_so(client, create_event, create_resident):
    organizer = create_resident(roles=["organizer"])
    event = create_event()
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{event.id}/insights/series").get_json()
    assert data == {"event_id": event.id, "series": None, "empty_reason": "not_recurring"}
    html = client.get(f"/manage/events/{event.id}/insights").get_data(as_text=True)
    assert 'data-testid="series-empty"' in html and "不属于任何系列" in html


def test_the_town_page_and_downloads_hold_the_new_numbers(client, admin, town):
    sign_in(client, admin)
    data = client.get("/api/v1/insights/town").get_json()
    html = client.get("/insights/town").get_data(as_text=True)
    for key in ("lead-times", "companies", "series"):
        assert f'data-testid="town-{key}-chart"' in html
    table = list(csv.reader(io.StringIO(client.get("/insights/town/companies.csv").get_data().decode("utf-8-sig"))))
    assert [[r[0]] + [int(v) for v in r[1:]] for r in table[1:]] == [
        [c["company"], c["attendances"], c["people"], c["events"]] for c in data["companies"]]
    table = list(csv.reader(io.StringIO(client.get("/insights/town/lead-times.csv").get_data().decode("utf-8-sig"))))
    assert [r[0] for r in table[1:]] == ["提前不到 1 天", "提前 1–3 天", "提前 3–7 天", "提前 1–2 周",
                                         "提前 2 周以上"]
    assert [int(r[1]) for r in table[1:]] == [r["confirmed"] for r in data["lead_times"]]
    table = list(csv.reader(io.StringIO(client.get("/insights/town/series.csv").get_data().decode("utf-8-sig"))))
    assert len(table) - 1 == sum(len(s["occurrences"]) for s in data["series"])
    import openpyxl
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/insights/town/town.xlsx").get_data()))
    assert {"公司", "系列"} <= set(workbook.sheetnames)


@pytest.mark.parametrize("path", ["/insights/town/companies.csv", "/insights/town/lead-times.csv",
                                  "/insights/town/series.csv"])
def test_only_admins_get_the_new_town_downloads(client, create_resident, path):
    sign_in(client, create_resident(name="组织者", roles=["organizer"]))
    response = client.get(path)
    assert response.status_code == 403 and "你没有权限进行此操作。" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/events/{id}/insights/series", "/manage/events/{id}/insights/series.csv"])
def test_the_series_numbers_are_for_the_events_organizers(client, create_resident, town, path):
    sign_in(client, create_resident(name="路人"))
    response = client.get(path.format(id=town["events"][0].id))
    assert response.status_code == 403
    body = response.get_json()["error"]["message"] if response.is_json else response.get_data(as_text=True)
    assert "你没有权限进行此操作。" in body


def test_the_series_endpoint_is_in_the_openapi_document(client):
    assert "/api/v1/events/{event_id}/insights/series" in client.get("/api/v1/openapi.json").get_json()["paths"]
