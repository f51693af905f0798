"""Mentor matching as the services run it: profiles, requests, pins and forbidden pairs, priority groups, running,
publishing, and mentors' answers; bad input is a clear error and leaves nothing half-applied."""

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from mentoring import services
from mentoring.models import MentoringRequest, MentorMatch


def run(cycle, organizer, **kwargs):
    services.run_matching(cycle.id, organizer, now=utcnow(), **kwargs)
    db.session.commit()
    return {(m.founder_id, m.mentor_id): m for m in services.matches_of_cycle(cycle.id)}


def error_of(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


# ---- profiles and requests ---------------------------------------------------------------------------------------

def test_a_mentor_profile_needs_a_capacity_of_at_least_one(create_resident):
    mentor = create_resident(name="李导师", roles=["mentor"])
    error = error_of(services.save_mentor_profile, mentor, expertise=["fundraising"], capacity=0)
    assert error.code == "invalid_profile" and "capacity" in error.details["fields"]
    assert services.mentor_profile_of(mentor.id) is None


def test_only_mentors_keep_a_mentor_profile(create_resident):
    founder = create_resident()
    assert error_of(services.save_mentor_profile, founder, expertise=["product"], capacity=2).code == "forbidden"


def test_unknown_expertise_and_stages_are_refused_and_codes_are_normalised(create_resident):
    mentor = create_resident(roles=["mentor"])
    assert error_of(services.save_mentor_profile, mentor, expertise=["astrology"], capacity=2).code \
        == "invalid_profile"
    profile = services.save_mentor_profile(mentor, expertise=["Go_To_Market"], stages=["series_a"], capacity=2)
    assert profile.expertise == ["go-to-market"] and profile.stages == ["series-a"]


def test_a_founder_asks_once_per_cycle(create_cycle, create_resident, ask):
    cycle = create_cycle()
    founder = create_resident()
    ask(cycle, founder, needs=("fundraising", "legal"))
    error = error_of(services.submit_request, cycle.id, founder, needs=["product"], industry="医疗AI", stage="seed",
                     now=utcnow())
    assert error.code == "already_requested" and error.status == 409
    requests = db.session.scalars(sa.select(MentoringRequest)).all()
    assert len(requests) == 1 and requests[0].needs == ["fundraising", "legal"]


def test_a_request_names_real_mentors_and_not_one_both_preferred_and_avoided(create_cycle, create_resident,
                                                                             create_mentor):
    cycle = create_cycle()
    founder, mentor = create_resident(), create_mentor()
    error = error_of(services.submit_request, cycle.id, founder, needs=["fundraising"], industry="医疗AI",
                     stage="seed", prefer_ids=[mentor.id], avoid_ids=[mentor.id], now=utcnow())
    assert error.code == "invalid_request" and "avoid_ids" in error.details["fields"]
    error = error_of(services.submit_request, cycle.id, founder, needs=["fundraising"], industry="医疗AI",
                     stage="seed", prefer_ids=[founder.id], now=utcnow())
    assert "prefer_ids" in error.details["fields"]


# ---- running the matching ----------------------------------------------------------------------------------------

def test_a_cycle_without_requests_or_without_mentors_cannot_run(create_cycle, create_resident, create_mentor, ask,
                                                                organizer):
    cycle = create_cycle()
    assert error_of(services.run_matching, cycle.id, organizer, now=utcnow()).code == "no_requests"
    ask(cycle, create_resident())
    assert error_of(services.run_matching, cycle.id, organizer, now=utcnow()).code == "no_mentors"
    assert services.get_cycle(cycle.id).status == "open"


def test_the_proposal_is_optimal_and_says_why_each_pair_fits(create_cycle, create_resident, create_mentor, ask,
                                                            organizer):
    cycle = create_cycle()
    both = create_mentor("全能导师", expertise=("fundraising", "product"), capacity=1)
    product = create_mentor("产品导师", expertise=("product",), capacity=1)
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a, needs=("fundraising", "product"))
    ask(cycle, b, needs=("fundraising",))
    matches = run(cycle, organizer)
    # Greedy would give 全能导师 to 甲 (fit 85 vs 85: tie) or leave 乙 without anyone; the optimum matches both.
    assert set(matches) == {(a.id, product.id), (b.id, both.id)}
    reasons = matches[(b.id, both.id)].reasons
    assert reasons["needs"] == ["fundraising"] and reasons["industry"] and reasons["stage"]
    cycle = services.get_cycle(cycle.id)
    assert cycle.status == "proposed" and cycle.total_score == sum(m.score for m in matches.values())
    assert cycle.total_score >= cycle.greedy_score


def test_pins_are_kept_forbidden_pairs_avoided_and_a_rerun_replaces_the_draft(create_cycle, create_resident,
                                                                              create_mentor, ask, organizer):
    cycle = create_cycle()
    good, other = create_mentor("好导师", capacity=1), create_mentor("另一位", expertise=("legal",), capacity=1)
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a)
    ask(cycle, b)
    first = run(cycle, organizer)
    assert (a.id, good.id) in first or (b.id, good.id) in first
    services.set_pair_rule(cycle.id, organizer, founder_id=a.id, mentor_id=good.id, kind="forbid",
                           reason="同一家公司", now=utcnow())
    services.set_pair_rule(cycle.id, organizer, founder_id=a.id, mentor_id=other.id, kind="pin", now=utcnow())
    db.session.commit()
    second = run(cycle, organizer)
    assert set(second) == {(a.id, other.id), (b.id, good.id)}
    assert second[(a.id, other.id)].pinned and second[(a.id, other.id)].reasons["pinned"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MentorMatch)) == 2


def test_pins_that_cannot_all_hold_are_refused_and_the_old_proposal_stays(create_cycle, create_resident,
                                                                          create_mentor, ask, organizer):
    cycle = create_cycle()
    mentor = create_mentor(capacity=1)
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a)
    ask(cycle, b)
    before = run(cycle, organizer)
    for founder in (a, b):
        services.set_pair_rule(cycle.id, organizer, founder_id=founder.id, mentor_id=mentor.id, kind="pin",
                               now=utcnow())
    db.session.commit()
    error = error_of(services.run_matching, cycle.id, organizer, now=utcnow())
    assert error.code == "pins_over_capacity" and error.status == 409
    assert error.details["mentor_ids"] == [mentor.id]
    after = {(m.founder_id, m.mentor_id): m.id for m in services.matches_of_cycle(cycle.id)}
    assert after == {pair: m.id for pair, m in before.items()}


def test_a_priority_group_gets_the_scarce_mentor(create_cycle, create_resident, create_mentor, ask, organizer):
    cycle = create_cycle()
    mentor = create_mentor(capacity=1)
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a)
    ask(cycle, b)
    services.set_priority_group(cycle.id, organizer, name="决赛团队", weight=1.5, founder_ids=[b.id])
    db.session.commit()
    matches = run(cycle, organizer)
    assert list(matches) == [(b.id, mentor.id)]
    assert matches[(b.id, mentor.id)].reasons["priority_weight"] == 1.5


def test_only_organizers_run_and_publish(create_cycle, create_resident, create_mentor, ask):
    cycle = create_cycle()
    founder = create_resident()
    ask(cycle, founder)
    assert error_of(services.run_matching, cycle.id, founder, now=utcnow()).code == "forbidden"
    assert error_of(services.publish_cycle, cycle.id, founder, now=utcnow()).code == "forbidden"


# ---- publishing and answers --------------------------------------------------------------------------------------

def test_publishing_asks_each_mentor_and_a_decline_offers_the_next_best(create_cycle, create_resident, create_mentor,
                                                                        ask, organizer, received):
    cycle = create_cycle()
    best = create_mentor("最合适", expertise=("fundraising", "legal"), capacity=1)
    second = create_mentor("次合适", expertise=("fundraising",), capacity=1)
    founder = create_resident()
    ask(cycle, founder, needs=("fundraising", "legal"))
    assert error_of(services.publish_cycle, cycle.id, organizer, now=utcnow()).code == "not_proposed"
    run(cycle, organizer)
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    [offer] = services.my_mentees(best)
    assert offer.status == "offered" and services.my_matches(founder) == [offer]
    assert received == [("mentor_matched", {"match_id": offer.id, "cycle_id": cycle.id, "founder_id": founder.id,
                                            "mentor_id": best.id, "score": offer.score})]

    services.respond_to_match(offer.id, best, accept=False, reason="本期时间不够", now=utcnow())
    db.session.commit()
    [new_offer] = services.my_matches(founder)
    assert new_offer.mentor_id == second.id and new_offer.status == "offered"
    assert [name for name, _ in received[1:]] == ["match_declined", "mentor_matched"]
    assert received[1][1]["next_match_id"] == new_offer.id
    assert services.my_mentees(best) == []

    services.respond_to_match(new_offer.id, second, accept=True, now=utcnow())
    services.respond_to_match(new_offer.id, second, accept=True, now=utcnow())  # a retry changes nothing
    db.session.commit()
    assert services.get_match(new_offer.id).status == "accepted"
    assert error_of(services.respond_to_match, new_offer.id, second, accept=False, now=utcnow()).code \
        == "already_answered"
    assert error_of(services.run_matching, cycle.id, organizer, now=utcnow()).code == "cycle_published"


def test_a_decline_never_offers_a_full_forbidden_or_avoided_mentor(create_cycle, create_resident, create_mentor, ask,
                                                                    organizer):
    cycle = create_cycle()
    first = create_mentor("第一", capacity=1)
    full = create_mentor("已满", capacity=1)
    banned = create_mentor("回避", capacity=1)
    avoided = create_mentor("不想要", capacity=1)
    founder, other = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, founder, needs=("fundraising", "legal"), avoid_ids=[avoided.id])
    ask(cycle, other)
    services.set_pair_rule(cycle.id, organizer, founder_id=founder.id, mentor_id=first.id, kind="pin", now=utcnow())
    services.set_pair_rule(cycle.id, organizer, founder_id=other.id, mentor_id=full.id, kind="pin", now=utcnow())
    services.set_pair_rule(cycle.id, organizer, founder_id=founder.id, mentor_id=banned.id, kind="forbid",
                           now=utcnow())
    run(cycle, organizer)
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    [offer] = services.my_matches(founder)
    services.respond_to_match(offer.id, first, accept=False, now=utcnow())
    db.session.commit()
    assert services.my_matches(founder) == []  # nobody fit with room is left: no offer rather than a bad one


def test_a_founder_sees_only_their_match_and_a_mentor_only_their_mentees(create_cycle, create_resident,
                                                                         create_mentor, ask, organizer):
    cycle = create_cycle()
    m1, m2 = create_mentor("一号", capacity=1), create_mentor("二号", capacity=1)
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a)
    ask(cycle, b)
    matches = run(cycle, organizer)
    draft = next(iter(matches.values()))
    for person in (a, b, m1, m2):  # nobody but organizers sees the draft
        assert error_of(services.visible_match, draft.id, person).code == "match_not_found"
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    [mine_a], [mine_b] = services.my_matches(a), services.my_matches(b)
    assert mine_a.founder_id == a.id and mine_b.founder_id == b.id
    assert services.visible_match(mine_a.id, a) == mine_a
    assert error_of(services.visible_match, mine_a.id, b).code == "match_not_found"
    mentor_of_a = m1 if mine_a.mentor_id == m1.id else m2
    other_mentor = m2 if mentor_of_a is m1 else m1
    assert [m.founder_id for m in services.my_mentees(mentor_of_a)] == [a.id]
    assert error_of(services.visible_match, mine_a.id, other_mentor).code == "match_not_found"
    assert error_of(services.respond_to_match, mine_a.id, other_mentor, accept=True, now=utcnow()).code \
        == "match_not_found"
