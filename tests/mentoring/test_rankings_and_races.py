"""Mentors rank founders for the stable mode; declines racing over real HTTP never push a mentor above capacity
(the cycle's lock serialises them, on SQLite and with TEST_DATABASE=postgres on PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from mentoring import services
from mentoring.models import LIVE_MATCH_STATUSES, MentorMatch
from tests.live_server import live_server


def error_of(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


def test_a_mentors_own_ranking_decides_the_stable_mode(create_cycle, create_mentor, create_resident, ask, organizer):
    cycle = create_cycle(mode="stable")
    mentor = create_mentor("排序导师", capacity=1)
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a)
    ask(cycle, b)  # the same fit as a's: without a ranking the first request wins the tie
    services.run_matching(cycle.id, organizer, now=utcnow())
    assert [m.founder_id for m in services.matches_of_cycle(cycle.id)] == [a.id]
    services.set_ranking(cycle.id, mentor, founder_ids=[b.id], now=utcnow())
    db.session.commit()
    assert services.ranking_of(cycle.id, mentor.id) == [b.id]
    services.run_matching(cycle.id, organizer, now=utcnow())
    db.session.commit()
    assert [m.founder_id for m in services.matches_of_cycle(cycle.id)] == [b.id]


def test_a_ranking_names_only_founders_who_asked_and_only_mentors_rank(create_cycle, create_mentor, create_resident,
                                                                       ask, organizer):
    cycle = create_cycle(mode="stable")
    mentor = create_mentor("排序导师")
    a, stranger = create_resident(name="甲"), create_resident(name="路人")
    ask(cycle, a)
    assert error_of(services.set_ranking, cycle.id, mentor, founder_ids=[stranger.id], now=utcnow()).code \
        == "invalid_ranking"
    assert error_of(services.set_ranking, cycle.id, mentor, founder_ids=[a.id, a.id], now=utcnow()).code \
        == "invalid_ranking"
    assert error_of(services.set_ranking, cycle.id, a, founder_ids=[a.id], now=utcnow()).code == "forbidden"
    assert services.ranking_of(cycle.id, mentor.id) == []
    services.run_matching(cycle.id, organizer, now=utcnow())
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    assert error_of(services.set_ranking, cycle.id, mentor, founder_ids=[a.id], now=utcnow()).code \
        == "cycle_published"


def test_ranking_over_the_api(client, create_cycle, create_mentor, create_resident, ask):
    cycle = create_cycle(mode="stable")
    mentor = create_mentor("排序导师")
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a, description="医疗影像")
    ask(cycle, b)
    token = issue_api_token(mentor, now=utcnow())
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    seen = client.get(f"/api/v1/mentoring/cycles/{cycle.id}/ranking", headers=headers).json
    assert seen["founder_ids"] == [] and [r["founder_name"] for r in seen["requests"]] == ["甲", "乙"]
    saved = client.put(f"/api/v1/mentoring/cycles/{cycle.id}/ranking", json={"founder_ids": [b.id, a.id]},
                       headers=headers)
    assert saved.status_code == 200 and saved.json == {"founder_ids": [b.id, a.id]}
    bad = client.put(f"/api/v1/mentoring/cycles/{cycle.id}/ranking", json={"founder_ids": [mentor.id]},
                     headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_ranking"


def test_declines_racing_over_http_never_put_the_next_mentor_above_capacity(app, create_cycle, create_mentor,
                                                                            create_resident, ask, organizer):
    """Eight mentors decline at the same moment; each founder's next best is the same spare mentor with room for
    two: exactly two founders get that mentor, the others are told nobody is left."""
    pairs = 8
    cycle = create_cycle()
    spare = create_mentor("备选导师", expertise=("fundraising",), capacity=2)
    mentors = [create_mentor(f"导师{i}", expertise=("hiring",), industries=("机器人",), stages=("series-a",),
                             capacity=1) for i in range(pairs)]  # pinned to their founder, fit for nobody else
    founders = [create_resident(name=f"创业者{i}") for i in range(pairs)]
    for founder, mentor in zip(founders, mentors, strict=True):
        ask(cycle, founder)
        services.set_pair_rule(cycle.id, organizer, founder_id=founder.id, mentor_id=mentor.id, kind="pin",
                               now=utcnow())
    services.run_matching(cycle.id, organizer, now=utcnow())
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    offers = [services.my_mentees(m)[0].id for m in mentors]
    tokens = [issue_api_token(m, now=utcnow()) for m in mentors]
    db.session.commit()
    assert services.my_mentees(spare) == []
    barrier = threading.Barrier(pairs)

    def decline(base, match_id, token):
        session = requests.Session()
        barrier.wait(timeout=30)
        answer = session.post(f"{base}/api/v1/mentoring/matches/{match_id}/decline", json={"reason": "没时间"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=60)
        return answer.status_code, answer.json()

    with live_server(app) as base, ThreadPoolExecutor(max_workers=pairs) as pool:
        results = list(pool.map(lambda job: decline(base, *job), zip(offers, tokens, strict=True)))
    assert [status for status, _ in results] == [200] * pairs, results
    db.session.expire_all()
    live = db.session.scalars(sa.select(MentorMatch).where(MentorMatch.cycle_id == cycle.id,
                                                           MentorMatch.status.in_(LIVE_MATCH_STATUSES))).all()
    assert [m.mentor_id for m in live] == [spare.id, spare.id]
    assert len({m.founder_id for m in live}) == 2
    declined = db.session.scalar(sa.select(sa.func.count()).select_from(MentorMatch)
                                 .where(MentorMatch.cycle_id == cycle.id, MentorMatch.status == "declined"))
    assert declined == pairs
