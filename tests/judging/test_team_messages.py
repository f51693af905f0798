"""The team signals (judging/signals.py) reach notifications: a decided application is a message to every member
with an account, once."""

from __future__ import annotations

from app.authz import scope_key
from app.db_types import utcnow
from app.extensions import db
from judging import teams
from tests.judging.test_teams import competition, founders, valid  # noqa: F401  (fixtures)
from tests.notifications.conftest import messages_of


def test_deciding_a_team_tells_each_member_with_an_account(competition, founders, create_resident):  # noqa: F811
    comp = competition()
    founder, teammate = founders(2)
    organizer = create_resident(name="黄蕾", roles=[("organizer", scope_key("competition", comp.id))])
    application, _ = teams.submit_application(comp.id, founder, now=utcnow(), **valid(
        members=[{"name": "钱佳", "phone": teammate.phone, "role": "COO"}]))
    db.session.commit()
    teams.decide_applications(comp.id, [application.id], organizer, decision="accept", note="恭喜", now=utcnow())
    db.session.commit()
    for person in (founder, teammate):
        assert [(m.kind, m.link) for m in messages_of(person.id)] == [("team_decided", f"/teams/{application.id}")]
    assert messages_of(organizer.id) == []
