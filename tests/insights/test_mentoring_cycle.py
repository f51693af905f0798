"""A mentoring cycle, drawn (organizers): a histogram of its matches' fit scores, each mentor's load against their
capacity with the meetings booked, and the feedback ratings by founders and by mentors. Every number is recounted
here from the rows one by one; the page, the CSVs and the XLSX hold the same; others get a 403 in Chinese."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from mentoring.models import Booking, Feedback, MentorMatch, MentorProfile, OfficeHourSlot
from tests.conftest import sign_in
from tests.mentoring.conftest import create_cycle, create_mentor, organizer  # noqa: F401  (fixtures)


@pytest.fixture
def cycle(create_cycle, create_mentor, create_resident):  # noqa: F811
    return build_cycle(create_cycle, create_mentor, create_resident)


def build_cycle(create_cycle, create_mentor, create_resident):  # noqa: F811
    """Four mentors (capacity 2, 1, 3, 2) and nine founders; matches of every status with scores 3..47, office hours
    booked (one cancelled), and feedback from both sides; another cycle's rows that must not count."""
    this, other = create_cycle(), create_cycle(name="别的一轮")
    mentors = [create_mentor(f"导师{i}", capacity=c) for i, c in enumerate((2, 1, 3, 2))]
    founders = [create_resident(name=f"创业者{i}") for i in range(9)]
    plan = [  # (founder, mentor, status, score)
        (0, 0, "accepted", 47), (1, 0, "offered", 41), (2, 0, "proposed", 35), (3, 1, "accepted", 22),
        (4, 1, "declined", 18), (5, 2, "accepted", 30), (6, 2, "declined", 3), (7, 3, "proposed", 12),
        (8, 3, "accepted", 29),
    ]
    matches = []
    for founder, mentor, status, score in plan:
        match = MentorMatch(cycle_id=this.id, founder_id=founders[founder].id, mentor_id=mentors[mentor].id,
                            status=status, score=score)
        db.session.add(match)
        matches.append(match)
    db.session.add(MentorMatch(cycle_id=other.id, founder_id=founders[0].id, mentor_id=mentors[1].id,
                               status="accepted", score=99))
    db.session.flush()
    start = utcnow() - timedelta(days=3)
    meetings = [(0, "booked", [(True, 5), (False, 4)]), (0, "booked", [(True, 3)]), (3, "booked", [(False, 2)]),
                (3, "cancelled", []), (5, "booked", [(True, 5), (False, 5)]), (8, "booked", [])]
    for n, (index, status, feedback) in enumerate(meetings):
        match = matches[index]
        slot = OfficeHourSlot(mentor_id=match.mentor_id, starts_at=start + timedelta(hours=n),
                              ends_at=start + timedelta(hours=n, minutes=30), booked_by_id=match.founder_id)
        db.session.add(slot)
        db.session.flush()
        booking = Booking(slot_id=slot.id, match_id=match.id, founder_id=match.founder_id,
                          mentor_id=match.mentor_id, status=status)
        db.session.add(booking)
        db.session.flush()
        for by_founder, rating in feedback:
            db.session.add(Feedback(booking_id=booking.id, rating=rating,
                                    author_id=match.founder_id if by_founder else match.mentor_id))
    db.session.commit()
    return this


def rows(model, **where):
    return list(db.session.scalars(sa.select(model).filter_by(**where)))


def test_the_fit_scores_histogram_matches_the_matches(client, cycle, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/mentoring/cycles/{cycle.id}/insights").get_json()
    matches = rows(MentorMatch, cycle_id=cycle.id)
    assert data["empty_reason"] is None and len(data["scores"]) <= 10
    assert data["scores"][0]["low"] <= 3 and data["scores"][-1]["high"] >= 47
    assert all(b["high"] - b["low"] == data["scores"][0]["high"] - data["scores"][0]["low"] for b in data["scores"])
    for b in data["scores"]:
        inside = [m for m in matches if b["low"] <= m.score <= b["high"]]
        assert b["current"] == sum(1 for m in inside if m.status in ("proposed", "offered", "accepted"))
        assert b["declined"] == sum(1 for m in inside if m.status == "declined")
    assert sum(b["current"] + b["declined"] for b in data["scores"]) == len(matches) == 9


def test_each_mentors_load_matches_the_rows(client, cycle, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/mentoring/cycles/{cycle.id}/insights").get_json()
    matches = rows(MentorMatch, cycle_id=cycle.id)
    ours = {m.id for m in matches}
    assert len(data["mentors"]) == 4
    for load in data["mentors"]:
        mine = [m for m in matches if m.mentor_id == load["mentor_id"]]
        capacity = db.session.scalar(sa.select(MentorProfile.capacity)
                                     .where(MentorProfile.user_id == load["mentor_id"]))
        meetings = [b for b in rows(Booking, mentor_id=load["mentor_id"])
                    if b.match_id in ours and b.status == "booked"]
        assert load["capacity"] == capacity
        assert load["live"] == sum(1 for m in mine if m.status in ("offered", "accepted"))
        assert load["proposed"] == sum(1 for m in mine if m.status == "proposed")
        assert load["meetings"] == len(meetings)
        assert load["over"] is (load["live"] + load["proposed"] > capacity)
    first = data["mentors"][0]
    assert (first["name"], first["live"], first["proposed"], first["meetings"], first["over"]) == (
        "导师0", 2, 1, 2, True)


def test_the_feedback_ratings_match_the_rows(client, cycle, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/mentoring/cycles/{cycle.id}/insights").get_json()
    bookings = {b.id: b for b in db.session.scalars(sa.select(Booking))}
    ours = {m.id for m in rows(MentorMatch, cycle_id=cycle.id)}
    expected = {"founder": [0] * 5, "mentor": [0] * 5}
    for feedback in db.session.scalars(sa.select(Feedback)):
        booking = bookings[feedback.booking_id]
        if booking.match_id in ours:
            side = "founder" if feedback.author_id == booking.founder_id else "mentor"
            expected[side][feedback.rating - 1] += 1
    assert data["ratings"] == expected == {"founder": [0, 0, 1, 0, 2], "mentor": [0, 1, 0, 1, 1]}


def test_the_page_and_the_downloads_hold_the_same_numbers(client, cycle, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/mentoring/cycles/{cycle.id}/insights").get_json()
    assert f'href="/mentoring/cycles/{cycle.id}/insights"' in client.get(
        f"/mentoring/cycles/{cycle.id}").get_data(as_text=True)
    html = client.get(f"/mentoring/cycles/{cycle.id}/insights").get_data(as_text=True)
    for key in ("scores", "load", "ratings"):
        assert f'data-testid="mentoring-{key}-chart"' in html
    base = f"/mentoring/cycles/{cycle.id}/insights"
    table = list(csv.reader(io.StringIO(client.get(base + "/load.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["导师", "人数上限", "已配对（已邀请或已接受）", "已提议，未发布", "已预约面谈", "超出名额"]
    assert [[r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])] for r in table[1:]] == [
        [m["name"], m["capacity"], m["live"], m["proposed"], m["meetings"]] for m in data["mentors"]]
    table = list(csv.reader(io.StringIO(client.get(base + "/scores.csv").get_data().decode("utf-8-sig"))))
    assert [[int(r[1]), int(r[2])] for r in table[1:]] == [[b["current"], b["declined"]] for b in data["scores"]]
    table = list(csv.reader(io.StringIO(client.get(base + "/ratings.csv").get_data().decode("utf-8-sig"))))
    assert [[int(v) for v in r] for r in table[1:]] == [
        [stars, data["ratings"]["founder"][stars - 1], data["ratings"]["mentor"][stars - 1]] for stars in range(1, 6)]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(base + "/cycle.xlsx").get_data()))
    assert workbook.sheetnames == ["匹配分", "导师负荷", "反馈评分"]


def test_a_cycle_before_matching_says_why(client, create_cycle, organizer):  # noqa: F811
    fresh = create_cycle(name="新一轮")
    sign_in(client, organizer)
    data = client.get(f"/api/v1/mentoring/cycles/{fresh.id}/insights").get_json()
    assert data["empty_reason"] == "no_matches" and data["scores"] == [] and data["mentors"] == []
    html = client.get(f"/mentoring/cycles/{fresh.id}/insights").get_data(as_text=True)
    assert 'data-testid="mentoring-empty"' in html and "本轮还没有进行匹配" in html and "insights.js" not in html


@pytest.mark.parametrize("path", ["/api/v1/mentoring/cycles/{id}/insights", "/mentoring/cycles/{id}/insights",
                                  "/mentoring/cycles/{id}/insights/load.csv",
                                  "/mentoring/cycles/{id}/insights/cycle.xlsx"])
def test_mentors_and_residents_get_403_in_chinese(client, cycle, create_mentor, create_resident, path):  # noqa: F811
    for user in (create_mentor("别的导师"), create_resident(name="路人")):
        sign_in(client, user)
        response = client.get(path.format(id=cycle.id))
        assert response.status_code == 403
        body = response.get_json()["error"]["message"] if response.is_json else response.get_data(as_text=True)
        assert "你没有权限进行此操作。" in body


def test_an_unknown_cycle_is_404_and_the_endpoint_is_documented(client, organizer):  # noqa: F811
    sign_in(client, organizer)
    assert client.get("/api/v1/mentoring/cycles/999999/insights").status_code == 404
    assert "/api/v1/mentoring/cycles/{cycle_id}/insights" in client.get("/api/v1/openapi.json").get_json()["paths"]
