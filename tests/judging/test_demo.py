"""The demo town has judging to try: the preliminary open online with criteria, judges (the demo judge has
scored nothing yet) and the accepted teams; the live final open and ready to run from the console."""

import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from judging import presenters, services
from judging.models import Competition
from tests.conftest import sign_in


def person(phone):
    return db.session.scalars(sa.select(User).where(User.phone == phone)).one()


def test_the_demo_has_a_competition_to_judge_and_a_final_to_run(client):
    from app.demo import seed_demo

    assert seed_demo(now=utcnow())
    db.session.commit()
    competition = db.session.scalars(sa.select(Competition)).one()
    prelim, semifinal, final = competition.rounds
    assert [len(r.criteria) for r in (prelim, semifinal, final)] == [4, 4, 4]
    assert sum(c.weight for c in prelim.criteria) == 100
    assert (prelim.mode, prelim.state) == ("online", "open") and (final.mode, final.state) == ("live", "open")
    assert final.current_team_id is None and final.leaderboard_mode == "hidden"
    judge = person("+8613800000003")  # "Try as… judge"
    view = presenters.judge_view(prelim.id, judge, now=utcnow())
    assert view["progress"] == {"scored": 0, "total": 2}
    assert {t["team_name"] for t in view["teams"]} == {"灵犀医疗", "算力港"}
    assert len(services.judges_of(prelim.id)) == 4 and sum(j.is_shadow for j in services.judges_of(prelim.id)) == 1
    assert len(services.teams_of(final.id)) == 2 and len(services.judges_of(final.id)) == 3
    organizer = person("+8613800000002")
    console = presenters.console_view(prelim.id, organizer, now=utcnow())
    assert sum(t["submitted"] for t in console["teams"]) == 3

    sign_in(client, judge)
    home = client.get("/judging/").get_data(as_text=True)
    assert f'data-testid="judge-round-{prelim.id}"' in home and f'data-testid="judge-round-{final.id}"' in home
    assert client.get(f"/judging/rounds/{final.id}/judge").status_code == 200
    sign_in(client, organizer)
    assert client.get(f"/judging/rounds/{final.id}/console").status_code == 200
    assert f'data-testid="console-{final.id}"' in client.get("/judging/").get_data(as_text=True)
    assert not seed_demo(now=utcnow())  # once
