"""An event's insights: sign-ups per day (cumulative, confirmed, waiting, cancelled) and by persona, through the JSON
API, the page and the CSV / XLSX downloads. Every number is checked against counts computed here, row by row, from
the registrations; only the event's organizers may see them. SQLite and PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from events import services
from events.models import Registration
from tests.conftest import sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERSONAS = ("founder", "investor", "engineer", "other")
PERSONA_LABELS = {"founder": "创业者", "investor": "投资人", "engineer": "工程师", "other": "其他"}


# ---- an event whose sign-ups span several days -----------------------------------------------------------------

@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=[("organizer", "event:0")])


@pytest.fixture
def salon(create_event, create_resident, organizer):
    """Three seats, automatic waitlist. Over four days: five sign up, a confirmed one and a waitlisted one cancel
    (the first frees a seat that goes to the next in line), two more sign up, an organizer refuses one."""
    from app.accounts.services import grant_role

    event = create_event(title="技术沙龙：评测与对齐", capacity=3, starts_in=timedelta(days=3))
    grant_role(organizer, "organizer", f"event:{event.id}")
    db.session.commit()
    now = utcnow()
    people = [create_resident(name=f"居民{i}", persona=PERSONAS[i % 4]) for i in range(7)]

    def sign_up(user, when):
        registration, _created = services.register_for_event(event.id, user, now=when)
        db.session.commit()
        return registration

    first = [sign_up(person, now - timedelta(days=4, hours=i)) for i, person in enumerate(people[:5])]
    services.cancel_registration(first[0].id, people[0], now=now - timedelta(days=2))  # confirmed: #4 moves up
    db.session.commit()
    services.cancel_registration(first[4].id, people[4], now=now - timedelta(days=1, hours=2))  # waitlisted
    db.session.commit()
    sign_up(people[5], now - timedelta(days=1))
    late = sign_up(people[6], now - timedelta(hours=1))
    services.reject_registration(late.id, organizer, now=now)
    db.session.commit()
    return event


def rows_of(event_id: int) -> list[Registration]:
    return list(db.session.scalars(sa.select(Registration).where(Registration.event_id == event_id)))


def town_day(moment: datetime):
    return moment.astimezone(SHANGHAI).date()


def expected_day(rows: list[Registration], day) -> dict:
    """Counted person by person at the end of `day` in Shanghai (not from the service's grouped counts)."""
    end = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC) + timedelta(days=1)

    def before(moment):
        return moment is not None and moment < end

    def gone(r):
        if r.status == "cancelled":
            return before(r.cancelled_at)
        return r.status in ("rejected", "expired") and before(r.updated_at)

    signed = [r for r in rows if before(r.created_at)]
    return {
        "date": day.isoformat(),
        "signed_up": len(signed),
        "confirmed": sum(1 for r in signed if before(r.confirmed_at) and not gone(r)),
        "waiting": sum(1 for r in signed if not before(r.confirmed_at) and not gone(r)),
        "cancelled": sum(1 for r in signed if r.status == "cancelled" and before(r.cancelled_at)),
    }


def expected_personas(event_id: int) -> dict[str, dict[str, int]]:
    groups = {"confirmed": {"confirmed"}, "waiting": {"waitlisted", "pending", "offered", "entered"},
              "cancelled": {"cancelled"}, "declined": {"rejected", "expired"}}
    counts = {p: dict.fromkeys(groups, 0) for p in PERSONAS}
    for registration in rows_of(event_id):
        persona = db.session.get(User, registration.user_id).persona
        group = next(name for name, statuses in groups.items() if registration.status in statuses)
        counts[persona][group] += 1
    return counts


# ---- the numbers ---------------------------------------------------------------------------------------------------

def test_sign_ups_per_day_match_the_registrations_counted_one_by_one(client, salon, organizer):
    sign_in(client, organizer)
    today_before = town_day(utcnow())
    response = client.get(f"/api/v1/events/{salon.id}/insights/signups")
    today_after = town_day(utcnow())
    assert response.status_code == 200
    data = response.get_json()
    rows = rows_of(salon.id)
    first = min(town_day(r.created_at) for r in rows)
    assert data["days"][0]["date"] == first.isoformat()
    assert data["days"][-1]["date"] in (today_before.isoformat(), today_after.isoformat())
    days = [first + timedelta(days=n) for n in range(len(data["days"]))]
    assert data["days"] == [expected_day(rows, day) for day in days]
    assert data["capacity"] == 3 and data["timezone"] == "Asia/Shanghai" and data["empty_reason"] is None
    # Today's end is now: the last day is where everyone stands.
    last = data["days"][-1]
    assert last["confirmed"] == sum(r.status == "confirmed" for r in rows) == 3
    assert last["waiting"] == sum(r.status == "waitlisted" for r in rows) == 1
    assert last["cancelled"] == 2 and last["signed_up"] == 7
    # The seat freed by the first cancellation went to the next in line: confirmed never exceeds the capacity.
    assert max(day["confirmed"] for day in data["days"]) <= 3


def test_sign_ups_by_persona_match_the_registrations(client, salon, organizer):
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{salon.id}/insights/signups").get_json()
    expected = expected_personas(salon.id)
    assert [p["persona"] for p in data["personas"]] == list(PERSONAS)
    for entry in data["personas"]:
        groups = expected[entry["persona"]]
        assert {k: entry[k] for k in groups} == groups
        assert entry["total"] == sum(groups.values())
        assert entry["label"] == PERSONA_LABELS[entry["persona"]]
    assert data["totals"] == {"confirmed": 3, "waiting": 1, "cancelled": 2, "declined": 1}


def test_downloads_hold_the_same_numbers_as_the_api(client, salon, organizer):
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{salon.id}/insights/signups").get_json()
    base = f"/manage/events/{salon.id}/insights"

    response = client.get(base + "/signups-by-day.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0] == ["日期", "累计报名", "已确认", "等候中（候补、待审核、待抽签、待接受）", "累计取消", "人数上限"]
    assert [[r[0]] + [int(v) for v in r[1:]] for r in table[1:]] == [
        [d["date"], d["signed_up"], d["confirmed"], d["waiting"], d["cancelled"], 3] for d in data["days"]]

    table = list(csv.reader(io.StringIO(client.get(base + "/signups-by-persona.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["我是", "已确认", "等候中", "已取消", "已拒绝或过期", "合计"]
    assert [[r[0]] + [int(v) for v in r[1:]] for r in table[1:]] == [
        [PERSONA_LABELS[p["persona"]], p["confirmed"], p["waiting"], p["cancelled"], p["declined"], p["total"]]
        for p in data["personas"]]

    response = client.get(base + "/signups.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["按日", "按身份", "按公司"]
    by_day = list(workbook["按日"].iter_rows(values_only=True))
    assert [list(r[:5]) for r in by_day[1:]] == [
        [d["date"], d["signed_up"], d["confirmed"], d["waiting"], d["cancelled"]] for d in data["days"]]
    by_persona = list(workbook["按身份"].iter_rows(values_only=True))
    assert [r[-1] for r in by_persona[1:]] == [p["total"] for p in data["personas"]]


def test_the_page_shows_the_chart_box_the_tables_and_the_downloads(client, salon, organizer):
    sign_in(client, organizer)
    manage = client.get(f"/manage/events/{salon.id}").get_data(as_text=True)
    assert f'href="/manage/events/{salon.id}/insights"' in manage
    response = client.get(f"/manage/events/{salon.id}/insights")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "报名走势" in html and f'data-url="/api/v1/events/{salon.id}/insights/signups"' in html
    assert "vendor/uplot/uPlot.iife.min.js" in html and "js/insights.js" in html
    assert 'data-testid="signups-days"' in html and 'data-testid="signups-personas"' in html
    assert "<script>" not in html and " style=" not in html  # CSP: scripts are static files


def test_the_chart_library_is_loaded_only_on_insights_pages(client, salon, organizer):
    sign_in(client, organizer)
    for path in ("/", f"/events/{salon.id}", f"/manage/events/{salon.id}"):
        assert "uplot" not in client.get(path).get_data(as_text=True).lower(), path


# ---- empty states ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "reason", "message"), [
    ("draft", "draft", "这个活动还是草稿"),
    ("published", "no_signups", "还没有人报名"),
])
def test_an_event_without_sign_ups_says_why_its_charts_are_empty(client, create_event, create_resident, status,
                                                                  reason, message):
    organizer = create_resident(roles=["organizer"])
    event = create_event(status=status)
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{event.id}/insights/signups").get_json()
    assert data["days"] == [] and data["empty_reason"] == reason
    assert all(p["total"] == 0 for p in data["personas"])
    html = client.get(f"/manage/events/{event.id}/insights").get_data(as_text=True)
    assert 'data-testid="signups-empty"' in html and message in html
    assert 'data-testid="signups-chart"' not in html
    # A draft has nothing to draw nor to follow live: no chart library; a published event's arrivals may start.
    assert ("uPlot.iife.min.js" in html) is (status == "published")
    table = list(csv.reader(io.StringIO(
        client.get(f"/manage/events/{event.id}/insights/signups-by-day.csv").get_data().decode("utf-8-sig"))))
    assert len(table) == 1  # the header only


# ---- who may see ---------------------------------------------------------------------------------------------------

INSIGHTS_PATHS = ("/manage/events/{id}/insights", "/manage/events/{id}/insights/signups-by-day.csv",
                  "/manage/events/{id}/insights/signups-by-persona.csv", "/manage/events/{id}/insights/signups.xlsx",
                  "/manage/events/{id}/insights/signups-by-company.csv",
                  "/api/v1/events/{id}/insights/signups")


@pytest.mark.parametrize("path", INSIGHTS_PATHS)
def test_residents_who_do_not_organize_the_event_get_403_in_chinese(client, salon, create_resident, path):
    sign_in(client, create_resident(name="路人"))
    response = client.get(path.format(id=salon.id))
    assert response.status_code == 403
    if response.is_json:
        assert response.get_json()["error"] == {"code": "forbidden", "message": "你没有权限进行此操作。"}
    else:
        assert "你没有权限进行此操作。" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", INSIGHTS_PATHS)
def test_an_organizer_of_another_event_gets_403(client, salon, create_event, create_resident, path):
    from app.accounts.services import grant_role

    other = create_event(title="另一个沙龙")
    someone = create_resident(name="别的组织者")
    grant_role(someone, "organizer", f"event:{other.id}")
    db.session.commit()
    sign_in(client, someone)
    assert client.get(path.format(id=salon.id)).status_code == 403
    assert client.get(path.format(id=other.id)).status_code == 200


def test_signed_out_visitors_are_asked_to_sign_in(client, salon):
    assert client.get(f"/api/v1/events/{salon.id}/insights/signups").status_code == 401
    response = client.get(f"/manage/events/{salon.id}/insights")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next=/manage/events/{salon.id}/insights"


def test_an_unknown_event_is_404(client, organizer):
    sign_in(client, organizer)
    response = client.get("/api/v1/events/999999/insights/signups")
    assert response.status_code == 404 and response.get_json()["error"]["message"]
    assert client.get("/manage/events/999999/insights").status_code == 404


def test_the_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/events/{event_id}/insights/signups"]["get"]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])
    assert "SignupInsights" in spec["components"]["schemas"]
