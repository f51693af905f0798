"""Nobody can forge a ticket: thousands of random strings, altered tokens (any byte flipped, any character changed,
ids or version rewritten without the key) and tokens moved to another event are all refused, never admitted."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db_types import utcnow
from app.extensions import db
from checkin import services, tokens

FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def verdict(event, token) -> str:
    return services.verdict_for_token(event, services.config_for(event.id), token).result


def test_random_and_altered_tokens_are_always_refused(door_event, confirmed, token_of):
    event = door_event()
    other = door_event(title="另一场")
    registration = confirmed(event)
    good = token_of(registration)
    token_of(confirmed(other))  # the other event has a key too
    raw = tokens.unb64url(good)
    assert verdict(event, good) is None  # the real one is admissible

    @FUZZ
    @given(position=st.integers(0, len(raw) - 1), mask=st.integers(1, 255))
    def flipped_byte(position, mask):
        altered = bytearray(raw)
        altered[position] ^= mask
        assert verdict(event, tokens.b64url(bytes(altered))) == "invalid"

    @FUZZ
    @given(position=st.integers(0, len(good) - 1), char=st.sampled_from(ALPHABET))
    def changed_character(position, char):
        altered = good[:position] + char + good[position + 1:]
        if altered != good:
            assert verdict(event, altered) == "invalid"

    @FUZZ
    @given(text=st.one_of(st.text(max_size=300), st.text(alphabet=ALPHABET, min_size=103, max_size=103),
                          st.binary(min_size=77, max_size=77).map(tokens.b64url)))
    def random_text(text):
        assert verdict(event, text) == "invalid"

    @FUZZ
    @given(event_id=st.integers(0, 2**32 - 1), registration_id=st.integers(0, 2**32 - 1),
           version=st.integers(0, 2**32 - 1))
    def rewritten_claims(event_id, registration_id, version):
        payload = struct.pack(">BIII", 1, event_id, registration_id, version)
        forged = tokens.b64url(payload + raw[13:])  # the real signature, on other claims
        if forged != good:
            assert verdict(event, forged) == "invalid"

    flipped_byte()
    changed_character()
    random_text()
    rewritten_claims()
    db.session.rollback()


def test_a_token_of_another_event_is_wrong_event_and_a_self_signed_one_is_invalid(door_event, confirmed, token_of):
    event = door_event()
    other = door_event(title="另一场")
    token_of(confirmed(event))
    foreign = token_of(confirmed(other))
    assert verdict(event, foreign) == "wrong_event"

    attacker, _ = tokens.new_key_pair()  # a key of one's own, claiming this event
    forged = tokens.sign_token(attacker, tokens.TicketClaims(event.id, 1, 1))
    assert verdict(event, forged) == "invalid"


def test_forged_tokens_scanned_at_the_door_are_logged_as_invalid_and_admit_nobody(door_event, confirmed, token_of,
                                                                                 steward):
    from checkin.models import Admission

    event = door_event()
    good = token_of(confirmed(event))
    raw = tokens.unb64url(good)
    person = steward(event)
    for position in range(len(raw)):
        altered = bytearray(raw)
        altered[position] ^= 0x01
        outcome = services.admit_ticket(event.id, person, token=tokens.b64url(bytes(altered)), gate="A",
                                        scan_id=f"forged-{position}", now=utcnow())
        db.session.commit()
        assert outcome.result == "invalid" and outcome.registration is None
    assert db.session.query(Admission).count() == 0
