"""Scores are never lost nor counted twice: seven judges submit at the same moment, each submission racing its own
retry, over real HTTP from real threads, on SQLite and (TEST_DATABASE=postgres) PostgreSQL; and an organizer closing
a team's scoring while judges submit lets no score in after the close."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from judging import services
from judging.models import Scorecard, Submission
from tests.judging.conftest import CRITERIA
from tests.live_server import live_server


def fire_together(jobs):
    """POST every (url, token, body) at once (a barrier releases all threads together); responses in order."""
    barrier = threading.Barrier(len(jobs))

    def send(job):
        url, token, body = job
        session = requests.Session()
        barrier.wait(timeout=30)
        response = session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(send, jobs))


def tokens_of(users):
    tokens = [issue_api_token(u, now=utcnow()) for u in users]
    db.session.commit()
    return tokens


def test_seven_judges_racing_their_own_retries_count_once_each(app, make_competition, organizer, judge_users):
    _, prelim, _, _ = make_competition(teams=4, judges=7)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    judges = judge_users(prelim)
    tokens = tokens_of(judges)
    teams = services.teams_of(prelim.id)
    jobs = []
    for token, judge_index in zip(tokens, range(len(judges)), strict=True):
        for team in teams:
            body = {"round_team_id": team.id, "submission_id": str(uuid.uuid4()), "base_revision": 0,
                    "scores": {c["key"]: float(judge_index % 5 + 5) for c in CRITERIA}}
            jobs += [(None, token, body), (None, token, body)]  # the submission and its retry, at the same moment
    with live_server(app) as base:
        url = f"{base}/api/v1/rounds/{prelim.id}/scores"
        results = fire_together([(url, token, body) for _, token, body in jobs])

    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 201}, [r for r in results if r[0] not in (200, 201)][:3]
    pairs = list(zip(results[::2], results[1::2], strict=True))
    assert all(sorted([a[0], b[0]]) == [200, 201] for a, b in pairs)  # one applied, the other answered the same
    assert all(a[1]["revision"] == b[1]["revision"] == 1 for a, b in pairs)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Scorecard)) == 7 * 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 7 * 4
    assert all(r["judges_counted"] == 7 for r in services.results_table(services.get_round(prelim.id)))


def test_closing_a_team_while_judges_submit_lets_nothing_in_after_the_close(app, make_competition, organizer,
                                                                             judge_users):
    _, prelim, _, _ = make_competition(teams=1, judges=7)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    tokens = tokens_of(judge_users(prelim))
    organizer_token = tokens_of([organizer])[0]
    team = services.teams_of(prelim.id)[0]
    with live_server(app) as base:
        jobs = [(f"{base}/api/v1/rounds/{prelim.id}/scores", token,
                 {"round_team_id": team.id, "submission_id": str(uuid.uuid4()), "base_revision": 0,
                  "scores": {c["key"]: 6 for c in CRITERIA}}) for token in tokens]
        jobs.insert(3, (f"{base}/api/v1/rounds/{prelim.id}/teams/{team.id}/close", organizer_token, {}))
        results = fire_together(jobs)
    close = results.pop(3)
    assert close[0] == 200 and close[1]["scoring_state"] == "closed"
    accepted = [body for status, body in results if status == 201]
    refused = [body["error"]["code"] for status, body in results if status != 201]
    assert set(refused) <= {"scoring_closed"} and len(accepted) + len(refused) == 7
    db.session.expire_all()
    cards = db.session.scalars(sa.select(Scorecard)).all()
    assert len(cards) == len(accepted)  # every accepted score is kept, no refused one slipped in
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == len(accepted)
    assert services.round_team(services.get_round(prelim.id), team.id).scoring_state == "closed"


def test_one_judge_scoring_a_team_from_two_phones_at_once_keeps_one_and_refuses_the_other(
        app, make_competition, organizer, judge_users):
    """Two different first scores of the same team by the same judge, at the same moment (two devices): exactly one
    is kept (201); the other is told the scores changed on another device (409 stale_revision), nothing half-saved."""
    _, prelim, _, _ = make_competition(teams=2, judges=3)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    token = tokens_of(judge_users(prelim)[:1])[0]
    team = services.teams_of(prelim.id)[0]
    bodies = [{"round_team_id": team.id, "submission_id": str(uuid.uuid4()), "base_revision": 0,
               "scores": {c["key"]: value for c in CRITERIA}} for value in (6.0, 9.0)]
    with live_server(app) as base:
        url = f"{base}/api/v1/rounds/{prelim.id}/scores"
        results = fire_together([(url, token, body) for body in bodies] * 4)  # 8 phones' worth, 2 different scores

    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1 and statuses.count(200) <= 3, results
    refused = [answer for status, answer in results if status == 409]
    assert refused and all(a["error"]["code"] == "stale_revision" for a in refused), refused
    db.session.expire_all()
    cards = db.session.scalars(sa.select(Scorecard).where(Scorecard.round_team_id == team.id)).all()
    assert len(cards) == 1 and cards[0].revision == 1
    kept = next(answer for status, answer in results if status == 201)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission).where(
        Submission.round_team_id == team.id)) == 1
    assert {s.value for s in cards[0].scores} == set(kept["scores"].values())
