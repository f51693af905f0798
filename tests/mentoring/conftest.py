import pytest

from app.db_types import utcnow
from app.extensions import db


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
    names = ("mentor_matched", "match_accepted", "match_declined", "office_hour_booked", "office_hour_cancelled")
    handlers = []
    for name in names:
        def handler(sender, _name=name, **kwargs):
            log.append((_name, kwargs))
        getattr(signals, name).connect(handler)
        handlers.append((name, handler))
    yield log
    for name, handler in handlers:
        getattr(signals, name).disconnect(handler)
