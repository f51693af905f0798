"""Calendars (RFC 5545): one event's .ics, the town's public feed, a person's private feed, and the private feed's
secret token.

Every document is valid iCalendar built with the `icalendar` library (which also escapes text: HTML in a title stays
text): PRODID, VERSION, CALSCALE, a localised X-WR-CALNAME, X-WR-TIMEZONE and a VTIMEZONE for Asia/Shanghai; times
carry TZID=Asia/Shanghai. UIDs never depend on the host (`event-<id>@beiyang-events`, `series-<id>@...`,
`pitch-slot-<id>@...`); SEQUENCE is the event's own counter, raised by every change people see; DTSTAMP and
LAST-MODIFIED are the event's `updated_at`. So the same data always gives the same bytes, and the views can answer
with an ETag of the body.

Recurring series (events.models.EventSeries), in the feeds: one master VEVENT with UID `series-<id>@...`, the
series' RRULE and DTSTART at its first occurrence, plus one overriding VEVENT per occurrence shown (same UID,
RECURRENCE-ID = the start the rule gave it, its own times, place, STATUS and SEQUENCE). This is the shape Apple
Calendar, Google Calendar and Outlook themselves export, so they show "repeats weekly" and still move a single
occurrence. Every start the rule yields that this feed does not show (a draft, an occurrence the person did not sign
up for, one outside the feed's window) is listed in the master's EXDATE, so no phantom occurrence appears. A
cancelled occurrence stays an override with STATUS:CANCELLED rather than an EXDATE: that is how iTIP cancels one
instance and how iCloud/Exchange publish it, and it keeps the cancellation visible; because Google and Outlook
subscriptions ignore STATUS, its SUMMARY also starts with "Cancelled:". The RRULE is written with COUNT equal to
the occurrences we expanded (series_occurrences), never UNTIL, so a calendar app cannot expand the rule to
a different set than we did. A single occurrence downloaded on its own (/events/<id>.ics) is a plain VEVENT with
UID `event-<id>@...`: an override without its master is dropped or mangled by Google and Outlook imports.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.errors import DomainError
from app.extensions import db
from events.models import ACTIVE_STATUSES, Event, EventSeries, PitchApplication, PitchSlot, Registration
from events.presentation import event_kind_label, event_moment, event_title
from events.services.events import series_occurrences
from events.services.reading import waitlist_position

UID_DOMAIN = "beiyang-events"
TIMEZONE = "Asia/Shanghai"
TZ = ZoneInfo(TIMEZONE)
PRODID = "-//Beiyang AI Innovation Town//Beiyang Events//ZH"
FEED_KINDS = ("salon", "roadshow", "competition")
PUBLIC_PAST_WINDOW = timedelta(days=30)  # the public feed keeps events (and cancellations) of the last 30 days
PRIVATE_PAST_WINDOW = timedelta(days=90)  # a person's feed keeps their own for longer
FEED_LIMIT = 500
REFRESH_INTERVAL = timedelta(hours=1)
ALARMS = (timedelta(days=-1), timedelta(hours=-1))
# Sign-ups that hold no confirmed seat (yet): in a person's feed they are STATUS:TENTATIVE, say where the person
# stands, and carry no reminder (see docs/decisions.md, "A person's feed shows where they stand").
TENTATIVE_STATUSES = ("waitlisted", "pending", "offered", "entered")
TOKEN_BYTES = 24  # secrets.token_urlsafe(24): 32 characters, 192 random bits
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")
FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


# ---- the private feed's token ----------------------------------------------------------------------------------------

def calendar_token(user: User) -> str:
    """This person's feed token, created on first use. A conditional UPDATE, so two first requests at once agree on
    one token. The caller commits."""
    if user.calendar_token:
        return user.calendar_token
    db.session.execute(sa.update(User).where(User.id == user.id, User.calendar_token.is_(None))
                       .values(calendar_token=secrets.token_urlsafe(TOKEN_BYTES)))
    db.session.refresh(user, ["calendar_token"])
    return user.calendar_token


def rotate_calendar_token(user: User) -> str:
    """A new token; the old feed URL stops working at once (404). The caller commits."""
    user.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.flush()
    return user.calendar_token


def user_for_calendar_token(token: str) -> User | None:
    """The active person whose feed this token opens, or None. The token is the only credential (calendar apps send
    no cookie): 192 random bits, compared in constant time after the indexed look-up."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return None
    user = db.session.scalars(sa.select(User).where(User.calendar_token == token)).first()
    if user is None or not user.is_active_account or not hmac.compare_digest(user.calendar_token, token):
        return None
    return user


def feed_urls(token: str, base_url: str) -> dict[str, str]:
    """The private feed's https:// address and the webcal:// one that opens a calendar app's "subscribe"."""
    feed_url = f"{base_url.rstrip('/')}/calendar/{token}.ics"
    return {"feed_url": feed_url, "webcal_url": "webcal://" + feed_url.split("://", 1)[-1]}


# ---- which events ----------------------------------------------------------------------------------------------------

def parse_kinds(values: Iterable[str]) -> tuple[str, ...]:
    """`?kind=salon`, repeated or comma-separated; nothing means every kind. Anything else is a clear 400."""
    kinds = [k.strip() for value in values for k in (value or "").split(",") if k.strip()]
    unknown = [k for k in kinds if k not in FEED_KINDS]
    if unknown:
        # gettext, not lazy_gettext: a lazy string counts as safe HTML in templates, and this one quotes the URL.
        raise DomainError("invalid_kind", _("Unknown kind of event “%(kind)s”: use salon, roadshow or competition.",
                                            kind=unknown[0][:40]), status=400)
    return tuple(dict.fromkeys(kinds))


def public_events(*, now: datetime, kinds: tuple[str, ...] = ()) -> list[Event]:
    """Published events that have not ended more than 30 days ago, and those cancelled in the last 30 days."""
    since = now - PUBLIC_PAST_WINDOW
    shown = sa.or_(Event.status == "published", sa.and_(Event.status == "cancelled", Event.updated_at >= since))
    query = sa.select(Event).where(shown, Event.ends_at >= since)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id).limit(FEED_LIMIT)))


def registrations_of_person(user_id: int, *, now: datetime) -> list[Registration]:
    """This person's active sign-ups (confirmed, waitlisted, pending, offered, entered), in their events' start
    order; events cancelled by the organizer included, so their calendar shows the cancellation. A sign-up the
    person cancelled (or that was declined or lapsed) is not here: the event leaves their feed."""
    return list(db.session.scalars(
        sa.select(Registration).join(Event, Registration.event_id == Event.id)
        .where(Registration.user_id == user_id, Registration.status.in_(ACTIVE_STATUSES),
               Event.status.in_(("published", "cancelled")), Event.ends_at >= now - PRIVATE_PAST_WINDOW)
        .options(joinedload(Registration.event))
        .order_by(Event.starts_at, Event.id).limit(FEED_LIMIT)
    ))


def events_of_person(user_id: int, *, now: datetime) -> list[Event]:
    """The events of registrations_of_person."""
    return [registration.event for registration in registrations_of_person(user_id, now=now)]


def pitch_slots_of_person(user_id: int, *, now: datetime) -> list[PitchSlot]:
    """This founder's pitch slots in published line-ups."""
    return list(db.session.scalars(
        sa.select(PitchSlot).join(PitchApplication, PitchApplication.id == PitchSlot.application_id)
        .join(Event, Event.id == PitchSlot.event_id)
        .where(PitchSlot.published.is_(True), PitchApplication.applicant_id == user_id,
               Event.status.in_(("published", "cancelled")), PitchSlot.ends_at >= now - PRIVATE_PAST_WINDOW)
        .options(joinedload(PitchSlot.application).joinedload(PitchApplication.event))
        .order_by(PitchSlot.starts_at, PitchSlot.id).limit(FEED_LIMIT)
    ))


# ---- documents -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Links:
    """Absolute addresses for URL properties (the public base URL, e.g. https://events.example.cn)."""

    base_url: str

    def event(self, event_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/events/{event_id}"


def event_document(event: Event, links: Links) -> bytes:
    """One event as an .ics file to open or import (published or cancelled; the caller hides drafts)."""
    calendar = _calendar(event_title(event))
    calendar.add_component(_event_vevent(event, links, uid=f"event-{event.id}@{UID_DOMAIN}"))
    return _finish(calendar)


def public_feed(*, now: datetime, kinds: tuple[str, ...], links: Links) -> bytes:
    name = _("Beiyang Events")
    if len(kinds) == 1:
        name = _("Beiyang Events · %(kind)s", kind=event_kind_label(kinds[0]))
    calendar = _calendar(name, feed=True, description=_("Events of Beiyang AI Innovation Town, Xuhui, Shanghai"))
    for component in _feed_components(public_events(now=now, kinds=kinds), links, standing={}):
        calendar.add_component(component)
    return _finish(calendar)


def private_feed(user: User, *, now: datetime, links: Links) -> bytes:
    calendar = _calendar(_("My Beiyang events"), feed=True,
                         description=_("Events you signed up for and your pitch slots, from Beiyang Events"))
    registrations = registrations_of_person(user.id, now=now)
    standing = {registration.event_id: registration for registration in registrations}
    for component in _feed_components([r.event for r in registrations], links, standing=standing):
        calendar.add_component(component)
    for slot in pitch_slots_of_person(user.id, now=now):
        calendar.add_component(_slot_vevent(slot, links))
    for provider in PRIVATE_FEED_PROVIDERS:  # other packages' own items (mentoring: office hours)
        for component in provider(user, now=now, links=links):
            calendar.add_component(component)
    return _finish(calendar)


# Other packages add a person's own items to the private feed without this module knowing them: a provider is
# called as provider(user, now=, links=) and returns VEVENTs (built with `vevent` below, so they look alike).
PRIVATE_FEED_PROVIDERS: list = []


def register_private_feed_provider(provider) -> None:
    if provider not in PRIVATE_FEED_PROVIDERS:
        PRIVATE_FEED_PROVIDERS.append(provider)


def vevent(**fields) -> icalendar.Event:
    """A VEVENT in this feed's shape (times in Shanghai, reminders, stable bytes); see _vevent for the fields."""
    return _vevent(**fields)


def download_filename(event: Event) -> str:
    """A file name people recognise (the title; RFC 5987 carries the Chinese), safe on every system."""
    title = " ".join(FILENAME_UNSAFE.sub(" ", event_title(event)).split())[:60].strip(" .")
    return f"{title or 'event-' + str(event.id)}.ics"


def one_line(text: str | None) -> str | None:
    """icalendar escapes line breaks in an event's text, but not in the calendar's NAME / X-WR-CALNAME (it fails:
    an event titled over two lines gave a 500): a calendar's name is one line anyway."""
    return " ".join(text.split()) if text is not None else None


def _calendar(name: str, *, feed: bool = False, description: str | None = None) -> icalendar.Calendar:
    calendar = icalendar.Calendar.new(prodid=PRODID, calscale="GREGORIAN", name=one_line(name),
                                      description=one_line(description))
    calendar.pop("UID", None)  # Calendar.new invents a random one: it would change the bytes (and ETag) each time
    calendar.add("X-WR-TIMEZONE", TIMEZONE)
    if feed:
        calendar.add("REFRESH-INTERVAL", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(REFRESH_INTERVAL))  # read by Outlook
    # Always present, so even an empty feed has the one component RFC 5545 requires. Shanghai has kept +08:00
    # without daylight saving since 1991: starting in 2000 gives one STANDARD rule instead of 1986-91's history.
    calendar.add_component(icalendar.Timezone.from_tzid(TIMEZONE, first_date=date(2000, 1, 1),
                                                        last_date=date(2100, 1, 1)))
    return calendar


def _finish(calendar: icalendar.Calendar) -> bytes:
    calendar.validate()
    return calendar.to_ical()


def _feed_components(events: list[Event], links: Links, *, standing: dict[int, Registration]
                     ) -> list[icalendar.Component]:
    """Events in start order; a series appears where its first shown occurrence would, as master + overrides.
    `standing`: in a person's feed, their registration by event id (empty in the public feed)."""
    in_series: dict[int, list[Event]] = {}
    for event in events:
        if event.series_id is not None and event.recurrence_id is not None:
            in_series.setdefault(event.series_id, []).append(event)
    siblings = _series_events(list(in_series))
    components, done = [], set()
    for event in events:
        series_id = event.series_id if event.series_id in in_series else None
        if series_id is None:
            components.append(_event_vevent(event, links, uid=f"event-{event.id}@{UID_DOMAIN}",
                                            registration=standing.get(event.id)))
        elif series_id not in done:
            done.add(series_id)
            components.extend(_series_components(in_series[series_id], siblings[series_id], links, standing))
    return components


def _series_events(series_ids: list[int]) -> dict[int, list[Event]]:
    """Every occurrence of these series, drafts included (they decide where the rule starts)."""
    result: dict[int, list[Event]] = {series_id: [] for series_id in series_ids}
    if series_ids:
        for event in db.session.scalars(sa.select(Event).where(Event.series_id.in_(series_ids))
                                        .options(joinedload(Event.series)).order_by(Event.recurrence_id, Event.id)):
            result[event.series_id].append(event)
    return result


def _series_components(shown: list[Event], siblings: list[Event], links: Links,
                       standing: dict[int, Registration]) -> list[icalendar.Component]:
    series = shown[0].series
    uid = f"series-{series.id}@{UID_DOMAIN}"
    starts = _rule_starts(series, siblings)
    on_rule, strays, overridden = [], [], set()
    for event in shown:  # one override per start; anything the rule cannot give is shown on its own
        if event.recurrence_id in starts and event.recurrence_id not in overridden:
            overridden.add(event.recurrence_id)
            on_rule.append(event)
        else:
            strays.append(event)
    components = [_event_vevent(e, links, uid=f"event-{e.id}@{UID_DOMAIN}", registration=standing.get(e.id))
                  for e in strays]
    if not on_rule:
        return components
    master = _master_vevent(series, on_rule[0], siblings, links, uid=uid, starts=starts,
                            excluded=[s for s in starts if s not in overridden],
                            registration=standing.get(on_rule[0].id))
    overrides = [_event_vevent(e, links, uid=uid, recurrence_id=e.recurrence_id, registration=standing.get(e.id))
                 for e in on_rule]
    return [master, *overrides, *components]


def _rule_starts(series: EventSeries, siblings: list[Event]) -> list[datetime]:
    """The starts the series' RRULE gives from its first occurrence (as created), or [] if it cannot be expanded."""
    firsts = [e.recurrence_id for e in siblings if e.recurrence_id is not None]
    if not firsts:
        return []
    try:
        return [s.astimezone(UTC) for s in series_occurrences(series.rrule, min(firsts))]
    except DomainError:
        return []


def _master_vevent(series: EventSeries, model: Event, siblings: list[Event], links: Links, *, uid: str,
                   starts: list[datetime], excluded: list[datetime],
                   registration: Registration | None) -> icalendar.Event:
    """The recurring event itself: the rule, its first start, the details of an occurrence (and the person's
    standing in it) as the default."""
    first = starts[0]
    vevent = _event_vevent(model, links, uid=uid, start=first, end=first + (model.ends_at - model.starts_at),
                           sequence=max(e.sequence for e in siblings),
                           modified=max(e.updated_at for e in siblings), status="published",
                           registration=registration)
    vevent.add("RRULE", _rrule(series.rrule, count=len(starts)))
    if excluded:
        vevent.add("EXDATE", [s.astimezone(TZ) for s in excluded])
    return vevent


def _rrule(text: str, *, count: int) -> icalendar.vRecur:
    rule = icalendar.vRecur.from_ical(text.strip().removeprefix("RRULE:"))
    rule.pop("UNTIL", None)
    rule["COUNT"] = [count]
    return rule


def _event_vevent(event: Event, links: Links, *, uid: str, recurrence_id: datetime | None = None,
                  start: datetime | None = None, end: datetime | None = None, sequence: int | None = None,
                  modified: datetime | None = None, status: str | None = None,
                  registration: Registration | None = None) -> icalendar.Event:
    """An event as a VEVENT. With `registration` (a person's feed), a sign-up that holds no confirmed seat is
    TENTATIVE, says so in its title and description, and has no reminder."""
    cancelled = (status or event.status) == "cancelled"
    tentative = not cancelled and registration is not None and registration.status in TENTATIVE_STATUSES
    title = event_title(event)
    if cancelled:
        summary = _("Cancelled: %(title)s", title=title)
    elif tentative:
        summary = _tentative_summary(registration.status, title)
    else:
        summary = title
    modified = modified or event.updated_at
    if registration is not None and registration.updated_at is not None:
        modified = max(modified, registration.updated_at)
    description = _event_description(event, links, cancelled)
    if tentative:
        description = "\n\n".join((_standing_note(registration), description))
    vevent = _vevent(uid=uid, summary=summary, start=start or event.starts_at, end=end or event.ends_at,
                     sequence=event.sequence if sequence is None else sequence,
                     modified=modified, cancelled=cancelled, tentative=tentative, location=event.venue,
                     url=links.event(event.id), description=description)
    vevent.add("CATEGORIES", [event_kind_label(event.kind)])
    if recurrence_id is not None:
        vevent.add("RECURRENCE-ID", recurrence_id.astimezone(TZ))
    return vevent


def _tentative_summary(status: str, title: str) -> str:
    """Google Calendar and Outlook subscriptions ignore STATUS: the title itself says the seat is not confirmed."""
    if status == "waitlisted":
        return _("Waitlisted: %(title)s", title=title)
    if status == "pending":
        return _("Awaiting approval: %(title)s", title=title)
    if status == "offered":
        return _("Seat offered: %(title)s", title=title)
    return _("Lottery: %(title)s", title=title)


def _standing_note(registration: Registration) -> str:
    """Where this person stands, for a sign-up that holds no confirmed seat yet."""
    if registration.status == "waitlisted":
        return _("You are on the waitlist, no. %(n)d in line: you have no seat yet. We will tell you if one frees up.",
                 n=waitlist_position(registration))
    if registration.status == "pending":
        return _("Your sign-up is waiting for the organizer's approval: you have no seat yet.")
    if registration.status == "offered":
        return _("A seat is held for you until %(when)s: accept it on the event's page, or it goes to the next "
                 "person.", when=event_moment(registration.offer_expires_at))
    if registration.event.lottery_draw_at is not None:
        return _("You are in the lottery, drawn at %(when)s: you have no seat yet.",
                 when=event_moment(registration.event.lottery_draw_at))
    return _("You are in the lottery: you have no seat yet.")


def _event_description(event: Event, links: Links, cancelled: bool) -> str:
    parts = []
    if cancelled:
        reason = event.cancelled_reason.strip()
        parts.append(_("This event is cancelled: %(reason)s", reason=reason) if reason
                     else _("This event is cancelled."))
    parts += [event.summary.strip(), event.description.strip(), links.event(event.id)]
    return "\n\n".join(p for p in parts if p)


def _slot_vevent(slot: PitchSlot, links: Links) -> icalendar.Event:
    """A founder's pitch: the slot's own times, at the roadshow day's place."""
    application, event = slot.application, slot.application.event
    cancelled = event.status == "cancelled"
    summary = _("Pitch: %(project)s @ %(event)s", project=application.project_name, event=event_title(event))
    if cancelled:
        summary = _("Cancelled: %(title)s", title=summary)
    lines = [_("Your pitch slot, no. %(n)d in the line-up.", n=slot.position), application.one_liner,
             links.event(event.id)]
    if cancelled:
        lines.insert(0, _("This event is cancelled."))
    return _vevent(uid=f"pitch-slot-{slot.id}@{UID_DOMAIN}", summary=summary, start=slot.starts_at,
                   end=slot.ends_at, sequence=event.sequence + slot.sequence,
                   modified=max(t for t in (event.updated_at, application.updated_at, slot.updated_at) if t),
                   cancelled=cancelled, location=event.venue, url=links.event(event.id),
                   description="\n\n".join(line for line in lines if line))


def _vevent(*, uid: str, summary: str, start: datetime, end: datetime, sequence: int, modified: datetime,
            cancelled: bool, location: str, url: str, description: str, tentative: bool = False) -> icalendar.Event:
    modified = modified.astimezone(UTC).replace(microsecond=0)
    status = "CANCELLED" if cancelled else "TENTATIVE" if tentative else "CONFIRMED"
    vevent = icalendar.Event.new(
        uid=uid, summary=summary, start=start.astimezone(TZ), end=end.astimezone(TZ), sequence=sequence,
        # Without METHOD, DTSTAMP is the last change (RFC 5545 3.8.7.2): the same data gives the same bytes.
        stamp=modified, last_modified=modified, status=status,
        location=location or None, url=url, description=description or None)
    # No reminder for something that will not happen, nor for a seat not confirmed (people keep the evening free
    # by the calendar, but a reminder would send them to an event they have no seat at).
    if not cancelled and not tentative:
        for trigger in ALARMS:
            vevent.add_component(_alarm(summary, trigger))
    return vevent


def _alarm(summary: str, trigger: timedelta) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", summary)
    alarm.add("TRIGGER", trigger)
    return alarm
