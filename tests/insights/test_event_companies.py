"""An event's sign-ups by company: the top companies by sign-ups, the others summed as 其他公司, an empty company as
未填写公司; the API, the page's chart box and table, and the CSV / XLSX hold the same numbers, each recounted here
from the registrations one by one."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from events.models import Registration
from tests.conftest import sign_in

GROUPS = {"confirmed": {"confirmed"}, "waiting": {"waitlisted", "pending", "offered", "entered"},
          "cancelled": {"cancelled"}, "declined": {"rejected", "expired"}}


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


@pytest.fixture
def fair(create_event, create_resident):
    """Twelve companies (one written with spaces around it, one person with none), 1 to 6 people each."""
    event = create_event(title="路演日：硬科技", capacity=None, starts_in=timedelta(days=5))
    now = utcnow()
    plan = [(f"公司{chr(65 + i)}", 6 - i // 2) for i in range(11)] + [("", 2)]
    statuses = ("confirmed", "waitlisted", "cancelled", "rejected", "confirmed", "confirmed")
    seq = 0
    for company, people in plan:
        for n in range(people):
            written = f"  {company} " if company == "公司C" and n == 0 else company
            person = create_resident(name=f"{company}{n}", company=written)
            seq += 1
            db.session.add(Registration(event_id=event.id, user_id=person.id, status=statuses[n % 6],
                                        waitlist_seq=seq, created_at=now - timedelta(days=1)))
    db.session.commit()
    return event


def expected_companies(event_id: int) -> dict[str, Counter]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for registration in db.session.scalars(sa.select(Registration).where(Registration.event_id == event_id)):
        company = db.session.get(User, registration.user_id).company.strip()
        group = next(g for g, statuses in GROUPS.items() if registration.status in statuses)
        counts[company][group] += 1
    return counts


def test_the_top_companies_and_the_rest_match_the_registrations(client, fair, organizer):
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{fair.id}/insights/signups").get_json()
    expected = expected_companies(fair.id)
    ranked = sorted(expected, key=lambda c: (-sum(expected[c].values()), c))
    top, rest = ranked[:8], ranked[8:]
    assert [c["company"] for c in data["companies"]] == top + [None]
    for row in data["companies"]:
        names = [row["company"]] if row["company"] is not None else rest
        for group in GROUPS:
            assert row[group] == sum(expected[name][group] for name in names), (row["company"], group)
        assert row["total"] == sum(sum(expected[name].values()) for name in names)
    assert data["companies"][0]["company"] == "公司A" and data["companies"][0]["total"] == 6
    assert next(c for c in data["companies"] if c["company"] == "公司C")["total"] == 5  # the spaced one too
    assert data["companies"][-1]["label"] == "其他公司"
    assert sum(c["total"] for c in data["companies"]) == sum(p["total"] for p in data["personas"]) == 43
    assert "" in rest  # two people without a company, fewer than the top eight
    assert "未填写公司" not in [c["label"] for c in data["companies"]]


def test_an_empty_company_is_named_and_no_rest_row_when_few(client, create_event, create_resident, organizer):
    event = create_event()
    for i, company in enumerate(("甲公司", "", "")):
        db.session.add(Registration(event_id=event.id, user_id=create_resident(company=company).id,
                                    status="confirmed", waitlist_seq=i + 1))
    db.session.commit()
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{event.id}/insights/signups").get_json()
    assert [(c["label"], c["confirmed"]) for c in data["companies"]] == [("未填写公司", 2), ("甲公司", 1)]


def test_the_page_and_the_downloads_hold_the_same_numbers(client, fair, organizer):
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{fair.id}/insights/signups").get_json()
    html = client.get(f"/manage/events/{fair.id}/insights").get_data(as_text=True)
    assert 'data-testid="companies-chart"' in html and 'data-insights-chart="companies"' in html
    assert "报名者的公司" in html and 'data-testid="signups-companies"' in html
    table = list(csv.reader(io.StringIO(client.get(
        f"/manage/events/{fair.id}/insights/signups-by-company.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["公司", "已确认", "等候中", "已取消", "已拒绝或过期", "合计"]
    assert [[r[0]] + [int(v) for v in r[1:]] for r in table[1:]] == [
        [c["label"], c["confirmed"], c["waiting"], c["cancelled"], c["declined"], c["total"]]
        for c in data["companies"]]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/manage/events/{fair.id}/insights/signups.xlsx").get_data()))
    sheet = list(workbook["按公司"].iter_rows(values_only=True))
    assert [list(r) for r in sheet[1:]] == [[c["label"], c["confirmed"], c["waiting"], c["cancelled"],
                                             c["declined"], c["total"]] for c in data["companies"]]


def test_a_draft_says_why_there_are_no_companies(client, create_event, organizer):
    event = create_event(status="draft")
    sign_in(client, organizer)
    assert client.get(f"/api/v1/events/{event.id}/insights/signups").get_json()["companies"] == []
    html = client.get(f"/manage/events/{event.id}/insights").get_data(as_text=True)
    assert 'data-testid="companies-empty"' in html and "这个活动还是草稿" in html
