"""Poll answers and people's-choice votes decided in batches (live/vote_batches.py): each item of a batch gets its own
answer (its options, its error, or "decide it alone"), nothing counts after the close, and racing requests of many
people over real HTTP are decided together and counted exactly once, on SQLite and (TEST_DATABASE=postgres)
PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from live import vote_batches
from live.models import AudienceVote, PollBallot, PollChoice
from live.services import peoples_choice
from live.vote_batches import _Answer
from tests.live.test_peoples_choice import admitted, final, on_stage, organizer, teams  # noqa: F401  (fixtures)
from tests.live.test_votes_under_concurrency import an_open_poll, bearer
from tests.live_server import live_server

RACERS = 20


def decide(group, key, items) -> None:
    """Decide `items` as one batch, as a leader does (decided, then committed or rolled back)."""
    group._decide_and_commit(key, items)


def batch_sizes(monkeypatch, group) -> list[int]:
    sizes, decide_batch = [], group._decide

    def recording(key, batch):
        sizes.append(len(batch))
        return decide_batch(key, batch)

    monkeypatch.setattr(group, "_decide", recording)
    return sizes


def ballots() -> list[tuple[int, int]]:
    db.session.rollback()
    return sorted(db.session.execute(sa.select(PollChoice.user_id, PollChoice.option_id)).all())


def test_a_batch_of_answers_answers_each_on_its_own(app, room_event, attendee, event_organizer, create_resident):
    host = event_organizer(room_event)
    pid, options = an_open_poll(room_event, host)
    first, second = attendee(room_event, name="观众甲"), attendee(room_event, name="观众乙")
    outsider = create_resident(name="没报名的人")
    now = utcnow()
    items = [_Answer(first.id, [options[1]], now), _Answer(second.id, [options[0], options[1]], now),
             _Answer(first.id, [options[2]], now), _Answer(outsider.id, [options[0]], now),
             _Answer(host.id, [options[0]], now), _Answer(None, [options[0]], now, bearer="not-a-token")]
    decide(vote_batches._answers, pid, items)
    assert items[0].outcome == [options[1]] and items[0].error is None
    assert items[1].outcome is None and items[1].error.code == "one_option_only"
    # the same person again, someone not signed up, an organizer, a token not valid: each decided alone
    assert all(item.outcome is None and item.error is None for item in items[2:])
    assert ballots() == [(first.id, options[1])]


def test_a_batch_after_the_close_counts_nothing(app, room_event, attendee, event_organizer):
    from live.services import polls

    host = event_organizer(room_event)
    pid, options = an_open_poll(room_event, host)
    people = [attendee(room_event, name=f"观众{i}") for i in range(3)]
    polls.close_poll(pid, host, now=utcnow())
    db.session.commit()
    items = [_Answer(person.id, [options[0]], utcnow()) for person in people]
    decide(vote_batches._answers, pid, items)
    assert [item.error.code for item in items] == ["poll_closed"] * 3
    assert ballots() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollBallot)) == 0


def test_many_people_answering_at_once_are_decided_together_and_counted_once(app, room_event, attendee,
                                                                            event_organizer, monkeypatch):
    pid, options = an_open_poll(room_event, event_organizer(room_event))
    tokens = [bearer(attendee(room_event, name=f"观众{i}")) for i in range(RACERS)]
    sizes = batch_sizes(monkeypatch, vote_batches._answers)
    with live_server(app) as base:
        barrier = threading.Barrier(RACERS)

        def send(i):
            barrier.wait(timeout=30)
            response = requests.post(f"{base}/api/v1/polls/{pid}/answers", timeout=60,
                                     json={"option_ids": [options[i % 3]]},
                                     headers={"Authorization": f"Bearer {tokens[i]}"})
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            answers = list(pool.map(send, range(RACERS)))
    assert answers == [(200, {"option_ids": [options[i % 3]]}) for i in range(RACERS)]
    assert sum(sizes) == RACERS and max(sizes) > 1, sizes  # batches, not one by one
    assert len(ballots()) == RACERS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollBallot)) == RACERS


def test_the_page_answers_in_a_batch_too(app, client, room_event, attendee, event_organizer, monkeypatch):
    from tests.conftest import csrf_token_from, sign_in

    pid, options = an_open_poll(room_event, event_organizer(room_event))
    person = attendee(room_event, name="用网页的人")
    sizes = batch_sizes(monkeypatch, vote_batches._answers)
    sign_in(client, person)
    token = csrf_token_from(client)
    response = client.post(f"/api/v1/polls/{pid}/answers", json={"option_ids": [options[2]]},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json() == {"option_ids": [options[2]]}
    assert sizes == [1] and ballots() == [(person.id, options[2])]


def test_racing_votes_of_many_people_count_once_each_and_refuse_the_rest_clearly(
        app, final, teams, organizer, admitted, attendee, room_event, monkeypatch):  # noqa: F811  (fixtures)
    peoples_choice.open_vote(final.id, organizer, now=utcnow())
    on_stage(final, organizer, teams[0])
    on_stage(final, organizer, teams[1])
    voters = [admitted(f"入场观众{i}") for i in range(RACERS)]
    outsider = attendee(room_event, name="没入场的人")
    tokens = [issue_api_token(person, name="phone", now=utcnow()) for person in [*voters, outsider]]
    tokens.append(tokens[0])  # the first voter votes twice at once, for the other team
    db.session.commit()
    team_of = [teams[i % 2].id for i in range(RACERS)] + [teams[0].id, teams[1].id]
    sizes = batch_sizes(monkeypatch, vote_batches._votes)
    round_id = final.id
    with live_server(app) as base:
        barrier = threading.Barrier(len(tokens))

        def send(i):
            barrier.wait(timeout=30)
            response = requests.post(f"{base}/api/v1/rounds/{round_id}/audience-votes", timeout=60,
                                     json={"round_team_id": team_of[i]},
                                     headers={"Authorization": f"Bearer {tokens[i]}", "Accept-Language": "zh-CN"})
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            answers = list(pool.map(send, range(len(tokens))))
    assert [status for status, _ in answers[1:RACERS]] == [201] * (RACERS - 1), answers
    assert answers[RACERS] == (403, {"error": {"code": "not_admitted",
                                               "message": "只有在本活动现场验票入场的观众才能投票评选人气奖。"}})
    twice = sorted([answers[0], answers[RACERS + 1]], key=lambda answer: answer[0])
    assert [status for status, _ in twice] == [201, 409] and twice[1][1]["error"]["code"] == "already_voted"
    assert max(sizes) > 1, sizes
    db.session.rollback()
    votes = dict(db.session.execute(sa.select(AudienceVote.user_id, AudienceVote.round_team_id)).all())
    assert len(votes) == RACERS and outsider.id not in votes
    assert votes[voters[0].id] == twice[0][1]["round_team_id"]


def test_votes_racing_the_close_count_exactly_those_accepted(app, final, teams, organizer, admitted):  # noqa: F811
    peoples_choice.open_vote(final.id, organizer, now=utcnow())
    on_stage(final, organizer, teams[0])
    tokens = [issue_api_token(admitted(f"入场观众{i}"), name="phone", now=utcnow()) for i in range(RACERS)]
    tokens.append(issue_api_token(organizer, name="console", now=utcnow()))
    db.session.commit()
    round_id, team_id = final.id, teams[0].id
    with live_server(app) as base:
        barrier = threading.Barrier(len(tokens))

        def send(i):
            barrier.wait(timeout=30)
            if i == RACERS:
                url, body = f"{base}/api/v1/rounds/{round_id}/audience-vote/close", None
            else:
                url, body = f"{base}/api/v1/rounds/{round_id}/audience-votes", {"round_team_id": team_id}
            return requests.post(url, json=body, timeout=60, headers={"Authorization": f"Bearer {tokens[i]}"})

        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            answers = list(pool.map(send, range(len(tokens))))
    statuses = [response.status_code for response in answers[:RACERS]]
    assert set(statuses) <= {201, 409} and answers[RACERS].status_code == 200, [r.text for r in answers]
    assert all(r.json()["error"]["code"] == "vote_closed" for r in answers[:RACERS] if r.status_code == 409)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AudienceVote)) == statuses.count(201)
