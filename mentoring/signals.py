"""Signals of mentoring, for the notifications package (which subscribes; nobody here imports it). Services send
them inside the transaction, so a subscriber's rows commit or roll back with the change. Senders pass ids.

- `mentor_matched`: a published match asks a mentor to accept: `match_id`, `cycle_id`, `founder_id`, `mentor_id`,
  `score`. Sent for every pair when a cycle is published, and for the next best mentor after a decline.
- `match_accepted`: `match_id`, `cycle_id`, `founder_id`, `mentor_id`.
- `match_declined`: the same, plus `next_match_id` (the founder's new offer, or None when no mentor has room).
- `office_hour_booked`: `booking_id`, `slot_id`, `founder_id`, `mentor_id`, `starts_at`, `ends_at` (aware UTC),
  `moved_from_booking_id` (None, or the booking this one replaces when a founder moves to another slot).
- `office_hour_cancelled`: `booking_id`, `slot_id`, `founder_id`, `mentor_id`, `starts_at`, `ends_at`,
  `cancelled_by_id`, `moved` (True when the booking was replaced by another slot).
- `office_hour_reminder`: a booked meeting starts within 24 hours (sent once per booking): `booking_id`, `slot_id`,
  `founder_id`, `mentor_id`, `starts_at`, `ends_at`, `location`.
- `feedback_given`: `feedback_id`, `booking_id`, `author_id`, `founder_id`, `mentor_id` (the text stays private).
- `roadshow_meetings_published`: a roadshow day's 1:1 meetings are out: `event_id`, `person_ids` (everyone with at
  least one meeting), `meeting_ids`.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

mentor_matched = _signals.signal("mentor-matched")
match_accepted = _signals.signal("match-accepted")
match_declined = _signals.signal("match-declined")
office_hour_booked = _signals.signal("office-hour-booked")
office_hour_cancelled = _signals.signal("office-hour-cancelled")
office_hour_reminder = _signals.signal("office-hour-reminder")
feedback_given = _signals.signal("feedback-given")
roadshow_meetings_published = _signals.signal("roadshow-meetings-published")
