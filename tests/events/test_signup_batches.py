"""Sign-ups decided together (events/signup_batches.py, events.services.sign_up_many): the same outcomes as one by
one, in arrival order, with each person told; and a batch that fails loses nobody."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from app import group_commit
from app.db_types import utcnow
from app.extensions import commit_keeping_loaded, db
from events import services, signup_batches
from events.models import Event, Registration
from events.services import registration as registration_rules
from notifications.models import Notification, OrganizerWebhook, WebhookDelivery


def decide(event, people, answers=None):
    now = utcnow()
    decided = services.sign_up_many(event.id, [(p.id, answers or {}, now) for p in people])
    db.session.commit()
    return decided


def test_seats_go_to_the_first_in_order_and_the_rest_wait_with_their_places(create_event, residents):
    event = create_event(capacity=3)
    people = residents(6)
    first = services.register_for_event(event.id, people[0], now=utcnow())[0]
    db.session.commit()

    decided = decide(event, people[1:])

    assert [r.status for r in decided] == ["confirmed", "confirmed", "waitlisted", "waitlisted", "waitlisted"]
    assert [r.waitlist_seq for r in decided] == [first.waitlist_seq + i for i in range(1, 6)]
    assert [r.known_waitlist_position for r in decided[2:]] == [1, 2, 3]
    assert [services.waitlist_position(db.session.get(Registration, r.id)) for r in decided[2:]] == [1, 2, 3]
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 3
    assert db.session.get(Event, event.id).registration_seq == 6


def test_a_person_already_signed_up_or_asking_twice_is_left_to_decide_alone(create_event, residents):
    event = create_event(capacity=10)
    people = residents(3)
    services.register_for_event(event.id, people[0], now=utcnow())
    db.session.commit()

    decided = decide(event, [people[0], people[1], people[1], people[2]])

    assert decided[0] is None and decided[2] is None  # known already / the same person again
    assert [decided[1].status, decided[3].status] == ["confirmed", "confirmed"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)
                             .where(Registration.event_id == event.id)) == 3
    db.session.expire_all()
    assert db.session.get(Event, event.id).registration_seq == 3  # no arrival number lost


def test_approval_and_lottery_events_hold_or_enter_everyone(create_event, residents):
    approval = create_event(capacity=1, requires_approval=True)
    lottery = create_event(capacity=1, waitlist_mode="lottery")
    people = residents(3)
    assert [r.status for r in decide(approval, people)] == ["pending"] * 3
    assert [r.status for r in decide(lottery, people)] == ["entered"] * 3
    db.session.expire_all()
    assert db.session.get(Event, approval.id).seats_taken == 0


def test_a_cancelled_event_decides_nobody(create_event, residents):
    event = create_event(capacity=5, status="cancelled")
    assert [d.code for d in decide(event, residents(2))] == ["event_cancelled"] * 2  # refused in the batch
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0


def test_everyone_decided_together_is_told_and_the_organizers_robots_hear_of_each(create_event, residents):
    event = create_event(capacity=1, questions=[{"id": "q", "label": "问题", "kind": "text", "required": False}])
    db.session.add(OrganizerWebhook(event_id=event.id, kind="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/"
                                    "webhook/send?key=abc", secret="", created_at=utcnow()))
    db.session.commit()
    people = residents(3)

    decided = decide(event, people, answers={"q": "答案"})

    messages = db.session.scalars(sa.select(Notification).order_by(Notification.user_id)).all()
    assert [(m.user_id, m.kind) for m in messages] == [
        (people[0].id, "registration_confirmed"), (people[1].id, "registration_waitlisted"),
        (people[2].id, "registration_waitlisted")]
    assert len({m.dedupe_key for m in messages}) == 3
    alerts = db.session.scalars(sa.select(WebhookDelivery.registration_id)).all()
    assert sorted(alerts) == sorted(r.id for r in decided)
    assert all(r.answers == {"q": "答案"} for r in decided)


def sign_up_from_threads(app, event_id: int, user_ids: list[int]) -> list[tuple[str, bool, int]]:
    """Every person signs up from a thread of their own (as a threaded server would), all released together."""
    from app.accounts.models import User

    barrier = threading.Barrier(len(user_ids))
    results: dict[int, tuple[str, bool, int]] = {}

    def one(user_id: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            commit_keeping_loaded()  # its connection back to the pool while it waits for the others
            barrier.wait(timeout=30)
            registration, created = signup_batches.sign_up(event_id, user, now=utcnow())
            results[user_id] = (registration.status, created, registration.waitlist_seq)
            db.session.remove()

    threads = [threading.Thread(target=one, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [results[user_id] for user_id in user_ids]


def test_threads_signing_up_at_once_are_decided_in_batches_with_seats_never_oversold(
        app, create_event, residents, monkeypatch):
    event = create_event(capacity=10)
    people = residents(40)
    sizes = []
    decide_many = services.sign_up_many
    monkeypatch.setattr(registration_rules, "sign_up_many", lambda event_id, requests: sizes.append(len(requests))
                        or decide_many(event_id, requests))

    results = sign_up_from_threads(app, event.id, [p.id for p in people])

    assert all(created for _, created, _ in results)
    assert sorted(seq for _, _, seq in results) == list(range(1, 41))
    confirmed = sorted(seq for status, _, seq in results if status == "confirmed")
    assert confirmed == list(range(1, 11))  # the first ten to arrive
    assert sum(sizes) == 40 and max(sizes) > 1  # they were decided together, not one by one
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 10


def test_a_batch_that_fails_keeps_nothing_and_everyone_is_decided_alone(app, create_event, residents, monkeypatch):
    event = create_event(capacity=5)
    people = residents(12)

    def broken(event_id, requests):
        db.session.execute(sa.update(Event).where(Event.id == event_id).values(seats_taken=Event.seats_taken + 1))
        raise RuntimeError("the database refused the batch")

    monkeypatch.setattr(registration_rules, "sign_up_many", broken)
    monkeypatch.setattr(group_commit.log, "exception", lambda *args, **kwargs: None)

    results = sign_up_from_threads(app, event.id, [p.id for p in people])

    assert [status for status, _, _ in sorted(results, key=lambda r: r[2])] == ["confirmed"] * 5 + ["waitlisted"] * 7
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 5  # the failed batch's write was rolled back


def test_a_closed_event_or_a_wrong_answer_refuses_only_whom_it_concerns(create_event, residents):
    from app.errors import DomainError

    questions = [{"id": "role", "label": "角色", "kind": "choice", "choices": ["投资人", "创业者"], "required": True}]
    event = create_event(capacity=5, questions=questions)
    people = residents(3)
    decided = decide_with(event, [(people[0], {"role": "投资人"}), (people[1], {"role": "路人"}), (people[2], {})])
    assert decided[0].status == "confirmed" and decided[0].answers == {"role": "投资人"}
    assert [d.code for d in decided[1:]] == ["invalid_answers", "invalid_answers"]

    closed = create_event(capacity=5, registration_closes_at=utcnow())
    assert {d.code for d in decide_with(closed, [(p, {}) for p in people])} == {"registration_closed"}
    missing = services.sign_up_many(999_999, [(people[0].id, {}, utcnow())])
    assert isinstance(missing[0], DomainError) and missing[0].code == "event_not_found"
    db.session.rollback()


def decide_with(event, people_and_answers):
    decided = services.sign_up_many(event.id, [(p.id, answers, utcnow()) for p, answers in people_and_answers])
    db.session.commit()
    return decided


def test_an_apps_bearer_token_is_checked_in_the_batch(create_event, residents, create_resident):
    """A valid token of a complete profile signs up; an unknown token or an incomplete profile is decided alone."""
    from app.accounts.services import issue_api_token

    event = create_event(capacity=5)
    person, newcomer = residents(1)[0], create_resident(name="", profile=False)
    good, unfinished = (issue_api_token(p, name="app", now=utcnow()) for p in (person, newcomer))
    db.session.commit()
    now = utcnow()
    batch = [signup_batches._SignUp(None, {}, now, bearer=token) for token in (good, "bye_unknown", unfinished)]

    signup_batches._sign_ups._decide_and_commit(event.id, batch)

    assert batch[0].registration.user_id == person.id and batch[0].registration.status == "confirmed"
    assert [(s.registration, s.error) for s in batch[1:]] == [(None, None), (None, None)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_over_http_an_app_is_answered_as_before_whatever_its_token(client, create_event, create_resident):
    from app.accounts.services import issue_api_token

    event = create_event(capacity=5)
    closed = create_event(capacity=5, starts_in=-timedelta(hours=1))
    person = create_resident(locale="en")
    newcomer = create_resident(name="", profile=False)
    token, unfinished = (issue_api_token(p, name="app", now=utcnow()) for p in (person, newcomer))
    db.session.commit()

    def post(event_id, bearer, **headers):
        response = client.post(f"/api/v1/events/{event_id}/registrations", json={},
                               headers={"Authorization": f"Bearer {bearer}", **headers})
        return response.status_code, response.get_json()

    status, first = post(event.id, token)
    assert status == 201 and first["status"] == "confirmed"
    status, again = post(event.id, token)
    assert (status, again["id"]) == (200, first["id"])  # a retry: the same registration
    assert post(event.id, "bye_unknown")[1]["error"]["code"] == "invalid_token"
    assert post(event.id, unfinished)[1]["error"]["code"] == "profile_incomplete"
    status, refused = post(closed.id, token, **{"Accept-Language": "zh-CN"})
    assert status == 409 and refused["error"]["code"] == "event_past"
    assert refused["error"]["message"].isascii()  # in the person's own language (English), not the phone's
