"""How events read on a page: kind labels, localised titles, times in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_skeleton
from flask import Flask
from flask_babel import format_time, get_locale, get_timezone
from flask_babel import lazy_gettext as _l

from app import page_cache

KIND_LABELS = {
    "roadshow": _l("Roadshow day"),
    "salon": _l("Tech salon"),
    "competition": _l("Competition"),
    "other": _l("Event"),
}


def event_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, KIND_LABELS["other"]))


def event_title(event) -> str:
    locale = get_locale()
    if locale is not None and locale.language == "en" and event.title_en:
        return event.title_en
    return event.title


def event_moment(moment: datetime | None) -> str:
    """One moment in Asia/Shanghai, as event_when writes it: '11月27日周五 14:00' / 'Fri, Nov 27 14:00'."""
    if moment is None:
        return ""
    day = format_skeleton("MMMEd", moment, tzinfo=get_timezone(), locale=get_locale())
    return f"{day} {format_time(moment, 'HH:mm')}"


def event_when(starts_at: datetime, ends_at: datetime) -> str:
    """'11月27日周五 14:00–17:30' in Chinese, 'Fri, Nov 27 14:00–17:30' in English; multi-day spans show both days."""
    tz, locale = get_timezone(), get_locale()
    start_day = format_skeleton("MMMEd", starts_at, tzinfo=tz, locale=locale)
    end_day = format_skeleton("MMMEd", ends_at, tzinfo=tz, locale=locale)
    start, end = format_time(starts_at, "HH:mm"), format_time(ends_at, "HH:mm")
    if start_day == end_day:
        return f"{start_day} {start}–{end}"
    return f"{start_day} {start} – {end_day} {end}"


def add_event_page_part(app: Flask, template: str) -> None:
    """Another package shows a part of an event's page (the competition's teams, ...): a template rendered with
    the page's context (`event`), after events' own parts. Packages that build on events register here, so events
    needs to know none of them."""
    app.jinja_env.globals["event_page_parts"].append(template)


def add_manage_page_part(app: Flask, template: str) -> None:
    """Another package shows a part of the organizer's page of an event (/manage/events/<id>: the live room's
    pages, ...), rendered with that page's context (`event`), after its own parts, as add_event_page_part."""
    app.jinja_env.globals["manage_page_parts"].append(template)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(event_kind_label=event_kind_label, event_title=event_title, event_when=event_when,
                                 event_page_parts=[], manage_page_parts=[])


def page_changes_with_time(events) -> None:
    """An anonymous page showing these events changes by itself when a sign-up opens or closes, a lottery is
    drawn, an event starts or ends: its cached copy (app.page_cache) ends at the first of these still ahead."""
    for event in events:
        for moment in (event.registration_opens_at, event.registration_closes_at, event.lottery_draw_at,
                       event.starts_at, event.ends_at):
            page_cache.valid_until(moment)
