"""Fixtures of judging: a competition set up in one call (tracks, a preliminary and a live final, criteria, judges,
teams), its organizer and judges, and a helper to score."""

from __future__ import annotations

import uuid

import pytest

from app.db_types import utcnow
from app.extensions import db

CRITERIA = [
    {"key": "innovation", "label": "创新性", "label_en": "Innovation", "weight": 30, "min": 0, "max": 10, "step": 0.5},
    {"key": "market", "label": "市场", "label_en": "Market", "weight": 25, "min": 0, "max": 10, "step": 0.5},
    {"key": "team", "label": "团队", "label_en": "Team", "weight": 25, "min": 0, "max": 10, "step": 0.5},
    {"key": "feasibility", "label": "可行性", "label_en": "Feasibility", "weight": 20, "min": 0, "max": 10,
     "step": 0.5},
]
JUDGE_PHONES = [f"+8613700000{i:03d}" for i in range(1, 8)]


def setup_payload(*, teams: int = 6, judges: int = 3, shadow: int = 0, final_judges: int = 3) -> dict:
    return {
        "name": "港科大百万元奖金创业大赛",
        "prize_pool_yuan": 1_000_000,
        "tracks": [{"key": "ai", "label": "AI+制造"}, {"key": "health", "label": "AI+医疗"}],
        "rounds": [
            {"kind": "preliminary", "name": "初赛", "mode": "online", "criteria": [dict(c) for c in CRITERIA],
             "judges": [{"phone": p, "name": f"评委{i + 1}", "shadow": i >= judges}
                        for i, p in enumerate(JUDGE_PHONES[:judges + shadow])]},
            {"kind": "final", "name": "决赛", "mode": "live", "criteria": [dict(c) for c in CRITERIA],
             "judges": [{"phone": p, "name": f"评委{i + 1}"} for i, p in enumerate(JUDGE_PHONES[:final_judges])]},
        ],
        "teams": [{"team_name": f"队伍{i + 1}", "track": "ai" if i % 2 == 0 else "health",
                   "project_name": f"项目{i + 1}",
                   "members": [{"name": f"队长{i + 1}", "phone": f"+8613600000{i:03d}"}]} for i in range(teams)],
    }


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


@pytest.fixture
def make_competition(organizer):
    """Create a competition through the setup service; returns (competition, prelim, final, tokens)."""
    from judging import services

    def make(**kwargs):
        competition, tokens = services.create_setup(setup_payload(**kwargs), organizer, now=utcnow())
        db.session.commit()
        prelim, final = competition.rounds
        return competition, prelim, final, tokens

    return make


@pytest.fixture
def judge_users():
    """The user accounts of a round's judges, in invitation order."""
    from app.accounts.models import User
    from judging import services

    def get(round_):
        return [db.session.get(User, j.user_id) for j in services.judges_of(round_.id)]

    return get


@pytest.fixture
def score():
    """Submit scores as a judge through the service and commit. values: a number for every criterion, or a dict."""
    from judging import services

    def submit(round_, user, team, values, *, base_revision=0, submission_id=None, **extra):
        if not isinstance(values, dict):
            values = {c["key"]: values for c in CRITERIA}
        outcome = services.submit_score(round_.id, user, round_team_id=team.id,
                                        submission_id=submission_id or str(uuid.uuid4()),
                                        base_revision=base_revision, scores=values, now=utcnow(), **extra)
        db.session.commit()
        return outcome

    return submit


@pytest.fixture(autouse=True)
def _announcements_finish(app):
    """Live announcements are read in a background thread after commit; let them finish before the tables are
    emptied (a TRUNCATE racing a reader deadlocks on PostgreSQL)."""
    yield
    from judging.realtime import wait_until_announced

    assert wait_until_announced(10)


def invite_path_sent_to(phone: str) -> str:
    """The invitation link in the last SMS to this phone (the development outbox), as the judge would open it."""
    import re

    import sqlalchemy as sa

    from app.accounts.models import DevSmsMessage

    message = db.session.scalars(sa.select(DevSmsMessage).where(DevSmsMessage.phone == phone)
                                 .order_by(DevSmsMessage.id.desc())).first()
    assert message is not None, f"no SMS sent to {phone}"
    return re.search(r"(/judging/invite/[A-Za-z0-9_-]+)", message.body).group(1)
