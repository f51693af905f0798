"""Once per person, decided by the database, under racing requests over real HTTP from real threads, on SQLite and
(TEST_DATABASE=postgres) PostgreSQL: one person's ten upvotes of one question at the same instant leave one vote;
ten people's upvotes leave ten; one person's ten questions at once pass the pace rule once; one
person's racing poll answers leave one ballot; answers racing the close count exactly those that were accepted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from live.models import PollBallot, PollChoice, PollOption, Question, QuestionVote
from live.services import questions
from tests.live_server import live_server

RACERS = 10


def fire_together(method: str, url: str, tokens: list[str], bodies: list[dict | None]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(tokens))

    def send(job):
        token, body = job
        session = requests.Session()
        barrier.wait(timeout=30)
        response = session.request(method, url, json=body, timeout=60,
                                    headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        return list(pool.map(send, zip(tokens, bodies, strict=True)))


def bearer(user) -> str:
    token = issue_api_token(user, name="phone", now=utcnow())
    db.session.commit()
    return token


def a_question(event, author) -> int:
    question = questions.ask(event.id, author, text="大家最关心的问题", anonymous=False, now=utcnow())
    db.session.commit()
    return question.id


def votes_in_database(question_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(QuestionVote)
                             .where(QuestionVote.question_id == question_id))


def test_ten_racing_upvotes_of_one_person_count_once(app, room_event, attendee):
    qid = a_question(room_event, attendee(room_event, name="提问者"))
    token = bearer(attendee(room_event, name="手快的人"))
    with live_server(app) as base:
        answers = fire_together("POST", f"{base}/api/v1/questions/{qid}/vote", [token] * RACERS, [None] * RACERS)
    assert answers == [(200, {"votes": 1})] * RACERS
    assert votes_in_database(qid) == 1


def test_ten_people_upvoting_at_once_count_ten(app, room_event, attendee):
    qid = a_question(room_event, attendee(room_event, name="提问者"))
    tokens = [bearer(attendee(room_event, name=f"观众{i}")) for i in range(RACERS)]
    with live_server(app) as base:
        answers = fire_together("POST", f"{base}/api/v1/questions/{qid}/vote", tokens, [None] * RACERS)
    assert [status for status, _ in answers] == [200] * RACERS, answers
    assert max(body["votes"] for _, body in answers) == RACERS
    assert votes_in_database(qid) == RACERS


def test_racing_upvotes_and_take_backs_leave_at_most_one_vote(app, room_event, attendee):
    qid = a_question(room_event, attendee(room_event, name="提问者"))
    token = bearer(attendee(room_event, name="犹豫的人"))
    with live_server(app) as base:
        url = f"{base}/api/v1/questions/{qid}/vote"
        barrier = threading.Barrier(RACERS)

        def send(i):
            barrier.wait(timeout=30)
            return requests.request("POST" if i % 2 else "DELETE", url, timeout=60,
                                    headers={"Authorization": f"Bearer {token}"}).status_code

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            assert list(pool.map(send, range(RACERS))) == [200] * RACERS
    assert votes_in_database(qid) in (0, 1)


def test_ten_questions_at_once_from_one_person_pass_the_pace_once(app, room_event, attendee):
    token = bearer(attendee(room_event, name="连发者"))
    bodies = [{"text": f"第 {i} 个问题"} for i in range(RACERS)]
    with live_server(app) as base:
        answers = fire_together("POST", f"{base}/api/v1/events/{room_event.id}/questions", [token] * RACERS, bodies)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [429] * (RACERS - 1), answers
    assert {body["error"]["code"] for status, body in answers if status == 429} == {"too_fast"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 1


def an_open_poll(event, organizer, *, multiple=False):
    from live.services import polls

    poll = polls.create_poll(event.id, organizer, question="午饭吃什么？", options=["面", "饭", "饺子"],
                             multiple=multiple, now=utcnow())
    polls.open_poll(poll.id, organizer, now=utcnow())
    db.session.commit()
    return poll.id, [o.id for o in db.session.scalars(sa.select(PollOption).where(PollOption.poll_id == poll.id)
                                                      .order_by(PollOption.position))]


def test_ten_racing_answers_of_one_person_leave_one_ballot_with_one_choice(app, room_event, attendee,
                                                                          event_organizer):
    pid, options = an_open_poll(room_event, event_organizer(room_event))
    token = bearer(attendee(room_event, name="改主意的人"))
    bodies = [{"option_ids": [options[i % 3]]} for i in range(RACERS)]
    with live_server(app) as base:
        answers = fire_together("POST", f"{base}/api/v1/polls/{pid}/answers", [token] * RACERS, bodies)
    assert [status for status, _ in answers] == [200] * RACERS, answers
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollBallot)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollChoice)) == 1


def test_answers_racing_the_close_count_exactly_those_accepted(app, room_event, attendee, event_organizer):
    organizer = event_organizer(room_event)
    pid, options = an_open_poll(room_event, organizer)
    tokens = [bearer(attendee(room_event, name=f"观众{i}")) for i in range(RACERS)] + [bearer(organizer)]
    with live_server(app) as base:
        barrier = threading.Barrier(len(tokens))

        def send(i):
            barrier.wait(timeout=30)
            if i == RACERS:
                url, body = f"{base}/api/v1/polls/{pid}/close", None
            else:
                url, body = f"{base}/api/v1/polls/{pid}/answers", {"option_ids": [options[0]]}
            return i, requests.post(url, json=body, timeout=60, headers={"Authorization": f"Bearer {tokens[i]}"})

        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            answers = list(pool.map(send, range(len(tokens))))
    statuses = [response.status_code for i, response in answers if i < RACERS]
    assert set(statuses) <= {200, 409}, [r.text for _, r in answers]
    assert dict(answers)[RACERS].status_code == 200
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollChoice)) == statuses.count(200)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollBallot)) == statuses.count(200)
