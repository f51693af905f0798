"""Scans decided together (checkin/scan_batches.py): the same answers, log rows and admissions as scans decided one
by one (checkin.services.admit_ticket), on SQLite and (TEST_DATABASE=postgres) PostgreSQL; what a batch cannot
decide is decided alone, and a batch that fails loses nobody."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from app import group_commit
from app.db_types import utcnow
from app.extensions import db
from checkin import scan_batches, services
from checkin.models import Admission, Scan
from events.models import Registration
from tests.checkin.conftest import new_scan_id


def batch_of(event, actor, tokens_and_gates, *, now=None, scan_ids=None):
    """The queued scans of `actor` (a user, or a scanner's bearer token, checked in the batch)."""
    now = now or utcnow()
    scan_ids = scan_ids or [new_scan_id() for _ in tokens_and_gates]
    actor_id, bearer = (None, actor) if isinstance(actor, str) else (actor.id, None)
    return [scan_batches._scan_of(event.id, actor_id, bearer, token=token, scan_id=scan_id, gate=gate,
                                  device="phone", now=now)
            for (token, gate), scan_id in zip(tokens_and_gates, scan_ids, strict=True)]


def decide(event, batch):
    scan_batches._scans._decide_and_commit(event.id, batch)
    db.session.expire_all()
    return [scan.answer for scan in batch]


def logged(event):
    return {scan.scan_id: (scan.result, scan.reason) for scan in
            db.session.scalars(sa.select(Scan).where(Scan.event_id == event.id))}


def test_a_batch_admits_each_ticket_once_and_logs_every_scan(door_event, confirmed, token_of, steward):
    event = door_event()
    people = [confirmed(event, name=f"来宾{i}", phone=f"+8613800001{i:03d}") for i in range(3)]
    tickets = [token_of(r) for r in people]
    door = steward(event)
    batch = batch_of(event, door, [(tickets[0], "A"), (tickets[1], "B"), (tickets[0], "C"), (tickets[2], "A")])

    answers = decide(event, batch)

    assert [a["result"] for a in answers] == ["admitted", "admitted", "already_admitted", "admitted"]
    assert answers[2]["gate"] == "A" and answers[2]["scanned_gate"] == "C"  # where the first admission was
    assert answers[2]["first_admitted_at"] == answers[0]["first_admitted_at"]
    assert answers[0]["attendee"] == {"registration_id": people[0].id, "name": "来宾0", "phone": "138****1000",
                                      "ticket_type": "standard"}
    assert answers[0]["inside"] is True and answers[0]["replayed"] is False and answers[0]["reason"] == ""
    assert sorted(result for result, _ in logged(event).values()) == ["admitted"] * 3 + ["already_admitted"]
    admissions = db.session.scalars(sa.select(Admission).where(Admission.event_id == event.id)).all()
    assert sorted((a.registration_id, a.gate) for a in admissions) == sorted(
        [(people[0].id, "A"), (people[1].id, "B"), (people[2].id, "A")])
    first_scans = {s.id: s.scan_id for s in db.session.scalars(sa.select(Scan))}
    assert {first_scans[a.first_scan_id] for a in admissions} == {batch[0].scan_id, batch[1].scan_id,
                                                                   batch[3].scan_id}
    assert {db.session.get(Registration, a.registration_id).checked_in_at == a.first_admitted_at
            for a in admissions} == {True}


def test_the_answers_are_those_of_a_scan_decided_alone(door_event, confirmed, token_of, steward):
    event = door_event()
    tickets = [token_of(confirmed(event, name=f"来宾{i}", phone=f"+8613800002{i:03d}")) for i in range(2)]
    door = steward(event)
    now = utcnow()
    together = decide(event, batch_of(event, door, [(tickets[0], "A"), (tickets[0], "B")], now=now))
    alone = []
    for gate in ("A", "B"):
        outcome = services.admit_ticket(event.id, door, token=tickets[1], gate=gate, scan_id=new_scan_id(), now=now)
        alone.append(services.outcome_payload(outcome))
        db.session.commit()

    for batched, single in zip(together, alone, strict=True):
        differs = {key for key in batched if batched[key] != single[key]}
        assert differs <= {"scan_id", "attendee"}, (batched, single)
        assert batched["attendee"].keys() == single["attendee"].keys()


def test_refusals_in_a_batch_are_answered_and_logged_with_their_reason(door_event, confirmed, token_of, steward):
    from events.services import cancel_registration

    event = door_event()
    admitted_before, cancelled, reissued, good = (
        confirmed(event, name=f"来宾{i}", phone=f"+8613800003{i:03d}") for i in range(4))
    tickets = {r.id: token_of(r) for r in (admitted_before, cancelled, reissued, good)}
    door = steward(event)
    services.admit_ticket(event.id, door, token=tickets[admitted_before.id], gate="B", scan_id=new_scan_id(),
                          now=utcnow())
    cancel_registration(cancelled.id, cancelled.user, now=utcnow())
    old_ticket = tickets[reissued.id]
    services.reissue_ticket(reissued.id, reissued.user, now=utcnow())
    db.session.commit()
    forged = tickets[good.id][:-3] + ("AAA" if not tickets[good.id].endswith("AAA") else "BBB")

    batch = batch_of(event, door, [(tickets[admitted_before.id], "A"), (tickets[cancelled.id], "A"),
                                   (old_ticket, "A"), (forged, "A"), (tickets[good.id], "A")])
    answers = decide(event, batch)

    assert [(a["result"], a["reason"]) for a in answers] == [
        ("already_admitted", ""), ("revoked", "cancelled"), ("revoked", "old_version"), ("invalid", "signature"),
        ("admitted", "")]
    assert answers[0]["gate"] == "B"
    assert answers[3]["attendee"] is None  # a forged ticket learns nothing about anyone
    assert logged(event)[batch[3].scan_id] == ("invalid", "signature")
    assert len(logged(event)) == 6


def test_scans_before_the_doors_open_are_not_admitted(door_event, confirmed, token_of, steward):
    event = door_event(starts_in=timedelta(days=2))
    ticket = token_of(confirmed(event))
    answers = decide(event, batch_of(event, steward(event), [(ticket, "A")]))
    assert (answers[0]["result"], answers[0]["reason"]) == ("not_open", "not_yet_open")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 0


def test_a_retry_is_answered_as_the_first_time_and_counts_nothing(door_event, confirmed, token_of, steward,
                                                                  scan):
    event = door_event()
    ticket, other_ticket = token_of(confirmed(event)), token_of(confirmed(event, phone="+8613800007000"))
    door = steward(event)
    forged = ticket[:-3] + ("AAA" if not ticket.endswith("AAA") else "BBB")
    first = decide(event, batch_of(event, door, [(ticket, "A"), (forged, "B")], scan_ids=["scan-1", "scan-2"]))
    assert [a["result"] for a in first] == ["admitted", "invalid"]
    batch = batch_of(event, door, [(ticket, "A"), (ticket, "A"), (forged, "B"), (other_ticket, "C")],
                     scan_ids=["scan-1", "scan-1", "scan-2", "scan-1b"])

    answers = decide(event, batch)

    assert answers[0] == {**first[0], "replayed": True}
    assert answers[1] is None  # the same scan id twice in one batch: the second is decided alone
    assert answers[2] == {**first[1], "replayed": True}
    assert answers[3]["result"] == "admitted"
    assert len(logged(event)) == 3

    scan.as_(door)
    status, again = scan(event, ticket, scan_id="scan-1")
    assert (status, again) == (200, {**first[0], "replayed": True})
    status, reused = scan(event, other_ticket, scan_id="scan-1")
    assert (status, reused["error"]["code"]) == (409, "scan_id_reused")
    assert decide(event, batch_of(event, door, [(other_ticket, "A")], scan_ids=["scan-1"])) == [None]


def test_a_retry_does_not_rob_a_later_scan_of_its_admission(door_event, confirmed, token_of, steward):
    """The first scan of a ticket in a batch was a retry of an earlier refused scan: the next one claims it."""
    event = door_event()
    ticket = token_of(confirmed(event))
    door = steward(event)
    services.admit_ticket(event.id, door, token="not a ticket", gate="A", scan_id="scan-1", now=utcnow())
    db.session.commit()

    answers = decide(event, batch_of(event, door, [(ticket, "A"), (ticket, "B")], scan_ids=["scan-1", "scan-2"]))

    assert answers[0] is None and answers[1]["result"] == "admitted"
    assert logged(event)["scan-2"] == ("admitted", "")


def test_a_ticket_admitted_meanwhile_by_another_process_is_already_admitted(door_event, confirmed, token_of,
                                                                           steward, monkeypatch):
    event = door_event()
    registration = confirmed(event)
    ticket = token_of(registration)
    door = steward(event)
    insert_admissions = scan_batches._insert_admissions

    def another_door_first(event_id, scans):
        other = services.admit_ticket(event.id, door, token=ticket, gate="Z", scan_id="elsewhere", now=utcnow())
        assert other.result == "admitted"
        return insert_admissions(event_id, scans)

    monkeypatch.setattr(scan_batches, "_insert_admissions", another_door_first)
    batch = batch_of(event, door, [(ticket, "A")])
    answers = decide(event, batch)

    assert (answers[0]["result"], answers[0]["gate"]) == ("already_admitted", "Z")
    assert logged(event)[batch[0].scan_id] == ("already_admitted", "")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 1


def test_events_with_re_entry_and_tokens_of_other_events_are_decided_alone(door_event, confirmed, token_of,
                                                                            steward, organizer):
    event, other = door_event(), door_event()
    ticket, other_ticket = token_of(confirmed(event)), token_of(confirmed(other, phone="+8613800004000"))
    door = steward(event)
    assert batch_of(event, door, [(other_ticket, "A")]) == [None]
    assert batch_of(event, door, [("not a ticket", "A")]) == [None]
    services.update_door_settings(event.id, organizer, now=utcnow(), allow_reentry=True)
    db.session.commit()
    assert decide(event, batch_of(event, door, [(ticket, "A")])) == [None]
    assert logged(event) == {}


def test_a_batch_that_fails_keeps_nothing_and_everyone_is_decided_alone(door_event, confirmed, token_of, steward,
                                                                        monkeypatch):
    event = door_event()
    ticket = token_of(confirmed(event))
    monkeypatch.setattr(group_commit.log, "exception", lambda *args, **kwargs: None)

    def fail(scans):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(scan_batches, "_note_checked_in", fail)
    assert decide(event, batch_of(event, steward(event), [(ticket, "A")])) == [None]
    assert logged(event) == {}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 0


def test_scanners_at_once_are_decided_in_batches_with_one_admission_each(app, door_event, confirmed, token_of,
                                                                         steward, monkeypatch):
    """Real threads through the API: while a batch is being decided the others queue, and everyone is answered."""
    from app.accounts.services import issue_api_token

    event = door_event()
    people = [confirmed(event, name=f"来宾{i}", phone=f"+8613800005{i:03d}") for i in range(30)]
    tickets = [token_of(r) for r in people]
    doors = [steward(event, name=f"志愿者{i}") for i in range(10)]
    bearer = [issue_api_token(d, name="scanner", now=utcnow()) for d in doors]
    db.session.commit()
    sizes = []
    decide_batch = scan_batches._scans._decide

    def recorded(event_id, batch):
        sizes.append(len(batch))
        return decide_batch(event_id, batch)

    monkeypatch.setattr(scan_batches._scans, "_decide", recorded)
    answers: list[dict] = []
    barrier = threading.Barrier(10)

    url = f"/api/v1/events/{event.id}/checkins"

    def scanner(i):
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=30)
            for ticket in tickets[i::10] + [tickets[(i + 1) % 30]]:  # each also scans someone another door admits
                body = {"token": ticket, "gate": "ABC"[i % 3], "scan_id": new_scan_id()}
                response = client.post(url, json=body, headers={"Authorization": f"Bearer {bearer[i]}"})
                assert response.status_code == 200, response.get_json()
                answers.append(response.get_json())

    threads = [threading.Thread(target=scanner, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 40
    assert sum(a["result"] == "admitted" for a in answers) == 30
    assert sum(a["result"] == "already_admitted" for a in answers) == 10
    assert max(sizes) > 1 and sum(sizes) == 40
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 30
    assert len(logged(event)) == 40


def test_scanner_devices_tokens_are_checked_in_the_batch(door_event, confirmed, token_of, steward, create_resident):
    """A valid token of the door team scans; an unknown or revoked token, or one of someone else, is decided alone
    (which answers 401 or 403, tested over HTTP in test_admission)."""
    from app.accounts.models import ApiToken
    from app.accounts.services import issue_api_token, revoke_api_token

    event = door_event()
    tickets = [token_of(confirmed(event, name=f"来宾{i}", phone=f"+8613800006{i:03d}")) for i in range(4)]
    door, outsider = steward(event), create_resident(name="路人")
    good, revoked, other = (issue_api_token(person, name="scanner", now=utcnow())
                            for person in (door, door, outsider))
    revoke_api_token(revoked, now=utcnow())
    db.session.commit()
    batch = (batch_of(event, good, [(tickets[0], "A")]) + batch_of(event, "bye_unknown", [(tickets[1], "A")])
             + batch_of(event, revoked, [(tickets[2], "A")]) + batch_of(event, other, [(tickets[3], "A")]))

    answers = decide(event, batch)

    assert answers[0]["result"] == "admitted" and answers[1:] == [None, None, None]
    assert list(logged(event)) == [batch[0].scan_id]
    assert db.session.scalar(sa.select(Scan.actor_id)) == door.id
    used = db.session.scalars(sa.select(ApiToken.last_used_at).where(ApiToken.user_id == door.id)).all()
    assert sum(when is not None for when in used) == 1  # the good token's use is recorded, as at sign-in


def test_a_scanner_device_with_a_bad_token_or_not_on_the_door_team_is_told_so(client, door_event, confirmed,
                                                                             token_of, create_resident):
    from app.accounts.services import issue_api_token

    event = door_event()
    ticket = token_of(confirmed(event))
    outsider = issue_api_token(create_resident(name="路人"), name="scanner", now=utcnow())
    db.session.commit()
    body = {"token": ticket, "gate": "A", "scan_id": new_scan_id()}
    url = f"/api/v1/events/{event.id}/checkins"

    unknown = client.post(url, json=body, headers={"Authorization": "Bearer bye_unknown"})
    stranger = client.post(url, json=body, headers={"Authorization": f"Bearer {outsider}"})

    assert (unknown.status_code, unknown.json["error"]["code"]) == (401, "invalid_token")
    assert (stranger.status_code, stranger.json["error"]["code"]) == (403, "forbidden")
    assert "林晓舟" not in stranger.get_data(as_text=True)
    assert logged(event) == {}
