"""Rules of events, one module per concern (DESIGN.md: no Flask request objects in here):

- reading: events people may see, registrations, waitlist places, counts, organizers' permission;
- events: creating and changing events (fields checked, publish, cancel), recurring series;
- registration: signing up (the one rule that decides a seat, for a batch, a single sign-up and a walk-in), and
  whether registration is open;
- waitlist: approvals, cancellations, the waitlist and its offers;
- lotteries: the committed seed and the draw;
- seats: the event's seat counter (conditional updates) and the registration signals.

Locks are app.locking's. Services flush; callers commit once, except sign_up, which commits (it decides many sign-ups
together in one transaction: events/signup_batches.py). This package re-exports the public names for the other
packages (checkin, judging, mentoring, notifications), the demo and tests; code in events/ imports from the
concern's module.
"""

from events.services.events import (
    EDITABLE_FIELDS,
    MAX_CAPACITY,
    MAX_OCCURRENCES,
    NOTIFIED_FIELDS,
    QUESTION_KINDS,
    SERIES_TIMEZONE,
    cancel_event,
    create_event,
    create_series,
    publish_event,
    series_occurrences,
    update_event,
)
from events.services.lotteries import draw_due_lotteries, draw_lottery, lottery_order_key
from events.services.reading import (
    authorize_organizer,
    get_event,
    get_published_event,
    get_registration,
    no_show_count,
    organized_event,
    registration_counts,
    registration_of,
    upcoming_events,
    waitlist_position,
)
from events.services.registration import (
    MAX_ANSWER_LENGTH,
    check_registration_open,
    register_at_the_door,
    register_for_event,
    sign_up_many,
    validate_answers,
)
from events.services.seats import status_signal
from events.services.waitlist import (
    accept_offer,
    approve_registration,
    cancel_registration,
    decide_registrations,
    expire_offers,
    reject_registration,
)

__all__ = [
    "EDITABLE_FIELDS", "MAX_ANSWER_LENGTH", "MAX_CAPACITY", "MAX_OCCURRENCES", "NOTIFIED_FIELDS", "QUESTION_KINDS",
    "SERIES_TIMEZONE", "accept_offer", "approve_registration", "authorize_organizer", "cancel_event",
    "cancel_registration", "check_registration_open", "create_event", "create_series", "decide_registrations",
    "draw_due_lotteries", "draw_lottery", "expire_offers", "get_event", "get_published_event", "get_registration",
    "lottery_order_key", "no_show_count", "organized_event", "publish_event", "register_at_the_door",
    "register_for_event", "registration_counts", "registration_of", "reject_registration", "series_occurrences",
    "sign_up_many", "status_signal", "update_event", "upcoming_events",
    "validate_answers", "waitlist_position",
]
