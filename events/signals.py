"""Signals of events. Services send them inside the transaction; subscribers (notifications) write their rows in
the same transaction, so a confirmation and its message commit or fail together. Senders pass ids and plain values.

Every registration signal is sent with `registration_id`, `event_id`, `user_id`; `event_changed` with `event_id`
and `changes` (field -> (old, new)); `event_cancelled` with `event_id` and `reason`. Sign-ups decided together
(events/signup_batches.py) send, instead of one signal each, `registrations_signed_up` once, with `event_id` and
`registrations`: a list of {`registration_id`, `user_id`, `signal_name`}, where `signal_name` is the name of the
registration signal each would have sent ("registration-confirmed", ...); a receiver does for all of them what it
does for those signals, in as few statements as it can.

Pitching (events/pitching.py): application signals are sent with `application_id`, `event_id`, `user_id` (the
founder); `pitch_application_decided` adds `status` ("accepted" | "declined"), `previous_status` and `note` (the
organizers' note, shown to the founder); `pitch_application_withdrawn` adds `previous_status`. Slot signals are sent
only for what founders can see, i.e. while the line-up is published (assigned when it is published or when a team
joins a published line-up; changed when its time moves; removed when it leaves a published line-up), with
`slot_id`, `application_id`, `event_id`, `user_id`, `position`, `starts_at`, `ends_at` (aware UTC), and for
`pitch_slot_changed` also `old_starts_at`, `old_ends_at`. `pitch_lineup_published` / `pitch_lineup_unpublished`
are sent with `event_id`.

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
registrations_signed_up = _signals.signal("registrations-signed-up")  # many new sign-ups of one event at once
lottery_drawn = _signals.signal("lottery-drawn")
event_published = _signals.signal("event-published")
event_changed = _signals.signal("event-changed")  # time or place moved: tell everyone registered
event_cancelled = _signals.signal("event-cancelled")
pitch_application_submitted = _signals.signal("pitch-application-submitted")
pitch_application_withdrawn = _signals.signal("pitch-application-withdrawn")
pitch_application_decided = _signals.signal("pitch-application-decided")
pitch_slot_assigned = _signals.signal("pitch-slot-assigned")
pitch_slot_changed = _signals.signal("pitch-slot-changed")
pitch_slot_removed = _signals.signal("pitch-slot-removed")
pitch_lineup_published = _signals.signal("pitch-lineup-published")
pitch_lineup_unpublished = _signals.signal("pitch-lineup-unpublished")
