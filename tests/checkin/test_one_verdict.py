"""One rule, one function (issue 18): whether a scan admits is decided by checkin.admission.verdict, whichever way
the scan comes: decided alone, in a batch, through the API (a batch of one), by name, at a walk-in or synced from
an offline scanner. Replace the rule and every path answers with the replacement."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from checkin import admission, scan_batches, services
from checkin.models import Admission, Scan
from tests.checkin.conftest import new_scan_id


def test_a_single_scan_and_a_batched_scan_get_their_verdict_from_the_one_function(
        door_event, confirmed, token_of, steward, scan, monkeypatch):
    event = door_event()
    alone, batched, over_http = (confirmed(event, name=f"来宾{i}", phone=f"+8613800009{i:03d}") for i in range(3))
    tickets = {r.id: token_of(r) for r in (alone, batched, over_http)}
    door = steward(event)
    asked = []
    the_rule = admission.verdict

    def stricter_rule(door_row, registration, **facts):
        judged = the_rule(door_row, registration, **facts)
        asked.append((registration.id, judged.result))
        return admission.Verdict("revoked", "stricter_rule", judged.registration)

    monkeypatch.setattr(admission, "verdict", stricter_rule)

    single = services.outcome_payload(services.admit_ticket(event.id, door, token=tickets[alone.id], gate="A",
                                                            scan_id=new_scan_id(), now=utcnow()))
    db.session.commit()
    queued = scan_batches._scan_of(event.id, door.id, None, token=tickets[batched.id], scan_id=new_scan_id(),
                                   gate="B", device="phone", now=utcnow())
    scan_batches._scans._decide_and_commit(event.id, [queued])
    scan.as_(door)
    status, answer = scan(event, tickets[over_http.id], gate="C")

    assert status == 200
    for reply in (single, queued.answer, answer):
        assert (reply["result"], reply["reason"]) == ("revoked", "stricter_rule")
    # the real rule would have admitted each: the batch asked it whether the ticket came in before (it had not)
    assert asked == [(alone.id, None), (batched.id, "admitted"), (over_http.id, "admitted")]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 0
    assert sorted(s.result for s in db.session.scalars(sa.select(Scan))) == ["revoked"] * 3


def test_admission_by_name_walk_ins_and_offline_sync_ask_the_same_function(
        door_event, confirmed, token_of, supervisor, monkeypatch):
    event = door_event()
    by_name, offline = (confirmed(event, name=f"来宾{i}", phone=f"+8613800008{i:03d}") for i in range(2))
    ticket = token_of(offline)
    boss = supervisor(event)
    asked = []
    the_rule = admission.verdict

    def recorded(door_row, registration, **facts):
        judged = the_rule(door_row, registration, **facts)
        asked.append(registration.id)
        return judged

    monkeypatch.setattr(admission, "verdict", recorded)
    now = utcnow()

    manual = services.admit_registration(event.id, by_name.id, boss, gate="A", scan_id=new_scan_id(), now=now)
    walk_in = services.register_walk_in(event.id, boss, phone="+8613900001234", name="临时来宾", gate="A",
                                        scan_id=new_scan_id(), now=now)
    synced = services.record_offline_scan(event.id, boss, token=ticket, gate="B", scan_id=new_scan_id(),
                                          scanned_at=now, now=now)
    db.session.commit()

    assert [manual.result, walk_in.result, synced.result] == ["admitted"] * 3
    assert asked == [by_name.id, walk_in.registration.id, offline.id]


def test_the_verdict_refuses_in_its_order_and_the_database_decides_the_rest(door_event, confirmed):
    """The rule itself, without the database: signature, this event's registration, the ticket's state, the door
    hours, and (when known) an earlier admission; a supervisor's override skips the ticket's state and the hours."""
    event = door_event()
    registration = confirmed(event)
    config = services.ensure_config(event.id, now=utcnow())
    door = admission.door_of(event, config)
    shut = door.starts_at - timedelta(days=1)
    judge = admission.verdict

    def result(**facts):
        facts.setdefault("registration", registration)
        judged = judge(door, facts.pop("registration"), event_id=event.id, **facts)
        return judged.result, judged.reason

    assert result(at=door.starts_at, genuine=False) == ("invalid", "signature")
    assert result(at=door.starts_at, registration=None) == ("invalid", "unknown_registration")
    assert result(at=door.starts_at, claimed_version=registration.version + 1) == ("revoked", "old_version")
    assert result(at=shut) == ("not_open", "not_yet_open")
    assert result(at=door.starts_at) == (None, "")
    assert result(at=door.starts_at, admitted_before=False) == ("admitted", "")
    assert result(at=door.starts_at, admitted_before=True) == ("already_admitted", "")
    assert result(at=shut, override=True) == (None, "")
    db.session.rollback()
