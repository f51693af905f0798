"""Office hours in each person's private calendar feed (events/calendar.py builds the feed; this adds the items).

One VEVENT per booking, for the founder and for the mentor: UID `office-hour-<booking id>@beiyang-events`, SEQUENCE
the booking's own counter (raised on cancel), a cancelled or moved booking stays as STATUS:CANCELLED so calendar
apps remove it."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _

from events import calendar as feed
from mentoring.office_hours import bookings_of

PAST_WINDOW = timedelta(days=90)


def office_hour_components(user, *, now: datetime, links: feed.Links) -> list:
    components = []
    for booking in bookings_of(user, now=now - PAST_WINDOW):
        slot = booking.slot
        as_founder = booking.founder_id == user.id
        other = booking.match.mentor if as_founder else booking.match.founder
        summary = (_("Office hours with mentor %(name)s", name=other.display_name) if as_founder
                   else _("Office hours with founder %(name)s", name=other.display_name))
        cancelled = booking.status == "cancelled"
        if cancelled:
            summary = _("Cancelled: %(title)s", title=summary)
        components.append(feed.vevent(
            uid=f"office-hour-{booking.id}@{feed.UID_DOMAIN}", summary=summary, start=slot.starts_at,
            end=slot.ends_at, sequence=booking.sequence, modified=booking.updated_at, cancelled=cancelled,
            location=slot.location, url=f"{links.base_url.rstrip('/')}/mentoring/", description=booking.topic))
    return components
