"""Signals of events. Services send them inside the transaction; subscribers (notifications) write their rows in
the same transaction, so a confirmation and its message commit or fail together. Senders pass ids and plain values.

Every registration signal is sent with `registration_id`, `event_id`, `user_id`; `event_changed` with `event_id`
and `changes` (field -> (old, new)); `event_cancelled` with `event_id` and `reason`.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

registration_confirmed = _signals.signal("registration-confirmed")
registration_waitlisted = _signals.signal("registration-waitlisted")
registration_pending = _signals.signal("registration-pending")
registration_entered_lottery = _signals.signal("registration-entered-lottery")
registration_approved = _signals.signal("registration-approved")
registration_rejected = _signals.signal("registration-rejected")
registration_promoted = _signals.signal("registration-promoted")  # from the waitlist to a seat
registration_offered = _signals.signal("registration-offered")  # a freed seat is held for them for a while
registration_offer_expired = _signals.signal("registration-offer-expired")
registration_cancelled = _signals.signal("registration-cancelled")
lottery_drawn = _signals.signal("lottery-drawn")
event_published = _signals.signal("event-published")
event_changed = _signals.signal("event-changed")  # time or place moved: tell everyone registered
event_cancelled = _signals.signal("event-cancelled")
pitch_application_decided = _signals.signal("pitch-application-decided")
pitch_slot_assigned = _signals.signal("pitch-slot-assigned")
team_application_decided = _signals.signal("team-application-decided")
