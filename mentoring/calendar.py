"""Office hours in each person's private calendar feed (events/calendar.py builds the feed; this adds the items).

One VEVENT per booking, for the founder and for the mentor: UID `office-hour-<booking id>@beiyang-events`, SEQUENCE
the booking's own counter (raised on cancel), a cancelled or moved booking stays as STATUS:CANCELLED so calendar
apps remove it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar
from flask_babel import gettext as _

from events import calendar as feed
from mentoring.meetings import my_meetings, project_names
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


def roadshow_meeting_components(user, *, now: datetime, links: feed.Links) -> list:
    """A person's published 1:1 meetings of roadshow days: UID `roadshow-meeting-<id>@...`."""
    components = []
    names: dict[int, dict[int, str]] = {}
    for meeting in my_meetings(user):
        if meeting.ends_at < now - PAST_WINDOW:
            continue
        projects = names.setdefault(meeting.event_id, project_names(meeting.event_id))
        if meeting.founder_id == user.id:
            # the table's own name says what it is ("B桌", "3号会议室", "Table 2"): no word of ours beside it
            summary = _("Meeting with investor %(name)s · %(table)s", name=meeting.investor.display_name,
                        table=meeting.table)
        else:
            project = projects.get(meeting.founder_id) or meeting.founder.display_name
            summary = _("Meeting with %(project)s · %(table)s", project=project, table=meeting.table)
        components.append(feed.vevent(
            uid=f"roadshow-meeting-{meeting.id}@{feed.UID_DOMAIN}", summary=summary, start=meeting.starts_at,
            end=meeting.ends_at, sequence=0, modified=meeting.created_at, cancelled=False, location=meeting.table,
            url=f"{links.base_url.rstrip('/')}/mentoring/roadshow/{meeting.event_id}/meetings",
            description=_("1:1 meeting after the roadshow pitches")))
    return components


def schedule_document(user, event_id: int, *, now: datetime, links: feed.Links) -> bytes:
    """One person's meetings of one roadshow day as an .ics file (the same VEVENTs as in their feed)."""
    components = [c for c in roadshow_meeting_components(user, now=now, links=links)
                  if str(c["URL"]).endswith(f"/roadshow/{event_id}/meetings")]
    calendar = icalendar.Calendar.new(prodid=feed.PRODID, calscale="GREGORIAN", name=_("My roadshow meetings"))
    calendar.pop("UID", None)  # keep the bytes stable (see events.calendar)
    calendar.add("X-WR-TIMEZONE", feed.TIMEZONE)
    calendar.add_component(icalendar.Timezone.from_tzid(feed.TIMEZONE, first_date=date(2000, 1, 1),
                                                        last_date=date(2100, 1, 1)))
    for component in components:
        calendar.add_component(component)
    calendar.validate()
    return calendar.to_ical()
