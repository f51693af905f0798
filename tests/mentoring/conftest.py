from zoneinfo import ZoneInfo

import pytest

from app.db_types import utcnow
from app.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


@pytest.fixture
def create_mentor(create_resident):
    from mentoring.services import save_mentor_profile

    def factory(name="导师", *, expertise=("fundraising",), industries=("医疗AI",), stages=("seed",),
                languages=("zh",), capacity=2, company=None):
        user = create_resident(name=name, persona="mentor", roles=["mentor"], company=company or f"{name}的公司")
        save_mentor_profile(user, bio=f"{name}的简介", expertise=list(expertise), industries=list(industries),
                            stages=list(stages), languages=list(languages), capacity=capacity)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def create_cycle(organizer):
    from mentoring.services import create_cycle

    def factory(name="2026 冬季导师匹配", **options):
        cycle = create_cycle(organizer, name=name, now=utcnow(), **options)
        db.session.commit()
        return cycle

    return factory


@pytest.fixture
def ask():
    from mentoring.services import submit_request

    def do(cycle, founder, needs=("fundraising",), industry="医疗AI", stage="seed", **fields):
        request = submit_request(cycle.id, founder, needs=list(needs), industry=industry, stage=stage, now=utcnow(),
                                 **fields)
        db.session.commit()
        return request

    return do


@pytest.fixture
def received():
    """Every mentoring signal sent during the test: [(name, kwargs)]."""
    from mentoring import signals

    log = []
    names = ("mentor_matched", "match_accepted", "match_declined", "office_hour_booked", "office_hour_cancelled",
             "office_hour_reminder", "feedback_given", "roadshow_meetings_published")
    handlers = []
    for name in names:
        def handler(sender, _name=name, **kwargs):
            log.append((_name, kwargs))
        getattr(signals, name).connect(handler)
        handlers.append((name, handler))
    yield log
    for name, handler in handlers:
        getattr(signals, name).disconnect(handler)


@pytest.fixture
def matched(organizer, create_cycle, create_mentor, create_resident, ask):
    """A mentor (capacity n) with n founders whose matches are accepted."""
    from mentoring import office_hours, services

    def make(n=1):
        cycle = create_cycle()
        mentor = create_mentor("约谈导师", capacity=n)
        founders = [create_resident(name=f"创业者{i}") for i in range(n)]
        for founder in founders:
            ask(cycle, founder)
        services.run_matching(cycle.id, organizer, now=utcnow())
        services.publish_cycle(cycle.id, organizer, now=utcnow())
        for match in services.my_mentees(mentor):
            services.respond_to_match(match.id, mentor, accept=True, now=utcnow())
        tomorrow = (utcnow().astimezone(SHANGHAI).weekday() + 1) % 7
        office_hours.add_availability(mentor, weekday=tomorrow,
                                      start="14:00", end="16:00", slot_minutes=30, location="模速空间 3F",
                                      now=utcnow())
        db.session.commit()
        return mentor, founders

    return make
