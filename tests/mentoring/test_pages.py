"""The mentoring pages, as people use them on a phone: a mentor's profile, a founder's request, the organizers'
cycle page (run, pin/forbid, publish), a mentor's answer; and what each person may see."""

import re

import sqlalchemy as sa

from app.extensions import db
from mentoring import services
from mentoring.models import MentoringRequest, MentorMatch, PairRule
from tests.conftest import csrf_token_from, sign_in


def post(client, path, data, page="/mentoring/"):
    return client.post(path, data={"csrf_token": csrf_token_from(client, page), **data})


def test_pages_need_a_signed_in_person(client):
    answer = client.get("/mentoring/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_mentor_fills_in_their_profile(client, create_resident):
    mentor = create_resident(name="陈导师", roles=["mentor"])
    sign_in(client, mentor)
    page = client.get("/mentoring/profile")
    assert page.status_code == 200 and 'name="expertise"' in page.get_data(as_text=True)
    bad = post(client, "/mentoring/profile", {"expertise": ["legal"], "capacity": "0"}, "/mentoring/profile")
    assert bad.status_code == 200 and 'role="alert"' in bad.get_data(as_text=True)
    assert services.mentor_profile_of(mentor.id) is None
    good = post(client, "/mentoring/profile", {"expertise": ["legal", "fundraising"], "industries": "医疗AI，企业服务",
                                               "stages": ["seed"], "languages": ["zh"], "capacity": "3"},
                "/mentoring/profile")
    assert good.status_code == 302
    profile = services.mentor_profile_of(mentor.id)
    assert profile.expertise == ["legal", "fundraising"] and profile.industries == ["医疗AI", "企业服务"]


def test_a_founder_asks_once_from_the_request_page(client, create_resident, create_cycle, create_mentor):
    cycle = create_cycle()
    mentor = create_mentor("陈导师")
    founder = create_resident(name="创业者甲")
    sign_in(client, founder)
    assert cycle.name in client.get("/mentoring/").get_data(as_text=True)
    form = client.get(f"/mentoring/cycles/{cycle.id}/request").get_data(as_text=True)
    assert "陈导师" in form  # mentors to prefer or avoid
    missing = post(client, f"/mentoring/cycles/{cycle.id}/request", {"industry": "医疗AI", "stage": "seed"})
    assert 'data-testid="form-error"' in missing.get_data(as_text=True)
    sent = post(client, f"/mentoring/cycles/{cycle.id}/request",
                {"need-0": "legal", "need-1": "fundraising", "need-2": "", "industry": "医疗AI", "stage": "seed",
                 "languages": ["zh"], "prefer_ids": [str(mentor.id)]})
    assert sent.status_code == 302
    request = db.session.scalars(sa.select(MentoringRequest)).one()
    assert request.needs == ["legal", "fundraising"] and request.prefer_ids == [mentor.id]
    again = client.get(f"/mentoring/cycles/{cycle.id}/request").get_data(as_text=True)
    assert 'data-testid="already-requested"' in again


def test_organizers_run_pin_and_publish_and_each_side_sees_only_their_own(client, organizer, create_resident,
                                                                          create_cycle, create_mentor, ask):
    cycle = create_cycle()
    m1, m2 = create_mentor("一号导师", capacity=1), create_mentor("二号导师", capacity=1)
    a, b = create_resident(name="创业者甲"), create_resident(name="创业者乙")
    ask(cycle, a)
    ask(cycle, b)

    sign_in(client, a)
    assert client.get(f"/mentoring/cycles/{cycle.id}").status_code == 403

    sign_in(client, organizer)
    page = f"/mentoring/cycles/{cycle.id}"
    assert post(client, f"{page}/rules", {"founder_id": a.id, "mentor_id": m2.id, "kind": "pin",
                                          "reason": "老同事"}, page).status_code == 302
    assert db.session.scalars(sa.select(PairRule)).one().kind == "pin"
    assert post(client, f"{page}/run", {"mode": "optimal"}, page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert html.count('data-testid="pair"') == 2 and 'data-testid="total-score"' in html
    assert post(client, f"{page}/publish", {}, page).status_code == 302
    db.session.expire_all()
    assert services.get_cycle(cycle.id).status == "published"

    sign_in(client, a)
    mine = client.get("/mentoring/").get_data(as_text=True)
    assert "二号导师" in mine and "一号导师" not in mine and "创业者乙" not in mine
    sign_in(client, m1)
    home = client.get("/mentoring/").get_data(as_text=True)
    assert "创业者乙" in home and "创业者甲" not in home
    match = db.session.scalars(sa.select(MentorMatch).where(MentorMatch.mentor_id == m1.id)).one()
    assert post(client, f"/mentoring/matches/{match.id}/answer", {"answer": "accept"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(MentorMatch, match.id).status == "accepted"
    other = db.session.scalars(sa.select(MentorMatch).where(MentorMatch.mentor_id == m2.id)).one()
    assert post(client, f"/mentoring/matches/{other.id}/answer", {"answer": "decline"}).status_code == 404


def test_the_pages_fit_a_phone_and_extend_the_base_layout(client, create_resident, create_cycle):
    create_cycle()
    sign_in(client, create_resident())
    html = client.get("/mentoring/").get_data(as_text=True)
    assert re.search(r'<meta name="viewport"[^>]*width=device-width', html)
    assert 'data-testid="open-cycles"' in html and 'class="subnav"' in html


def test_a_founder_sees_changes_and_withdraws_a_pending_request(client, create_resident, create_cycle,
                                                                create_mentor, ask, organizer):
    cycle = create_cycle()
    founder = create_resident(name="创业者甲")
    ask(cycle, founder)
    sign_in(client, founder)
    home = client.get("/mentoring/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f'data-testid="my-request-{cycle.id}"' in home and "等待匹配" in home
    form = client.get(f"/mentoring/cycles/{cycle.id}/request").get_data(as_text=True)
    assert 'data-testid="withdraw-request"' in form and 'name="industry"' in form
    changed = post(client, f"/mentoring/cycles/{cycle.id}/request",
                   {"need-0": "product", "industry": "企业服务", "stage": "seed", "languages": ["zh"]})
    assert changed.status_code == 302
    request = db.session.scalars(sa.select(MentoringRequest)).one()
    db.session.refresh(request)
    assert request.needs == ["product"] and request.industry == "企业服务"

    withdrawn = post(client, f"/mentoring/cycles/{cycle.id}/request/withdraw", {})
    assert withdrawn.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MentoringRequest)) == 0
    assert f'data-testid="my-request-{cycle.id}"' not in client.get("/mentoring/").get_data(as_text=True)


def test_a_request_cannot_change_once_the_matching_is_published(client, create_resident, create_cycle,
                                                                 create_mentor, ask, organizer):
    from app.db_types import utcnow

    cycle = create_cycle()
    create_mentor("一号导师", capacity=1)
    founder = create_resident(name="创业者甲")
    ask(cycle, founder)
    services.run_matching(cycle.id, organizer, now=utcnow())
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    sign_in(client, founder)
    home = client.get("/mentoring/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已匹配" in home or "本期未匹配" in home
    refused = post(client, f"/mentoring/cycles/{cycle.id}/request/withdraw", {})
    assert refused.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MentoringRequest)) == 1
