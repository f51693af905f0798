"""Words around the numbers: labels, the empty states' reasons, and the tables of the downloads (the same numbers as
the API's, from the same service)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.accounts.forms import persona_choices
from insights.services.signups import EMPTY_DRAFT, EMPTY_NO_SIGNUPS, SignupInsights

SIGNUP_SERIES = {
    "signed_up": _l("Signed up (cumulative)"),
    "confirmed": _l("Confirmed"),
    "waiting": _l("Waiting (waitlist, approval, lottery, offer)"),
    "cancelled": _l("Cancelled (cumulative)"),
}
GROUP_LABELS = {"confirmed": _l("Confirmed"), "waiting": _l("Still waiting"), "cancelled": _l("Cancelled"),
                "declined": _l("Declined or offer expired")}
EMPTY_REASONS = {
    EMPTY_DRAFT: _l("Nothing to draw yet: this event is a draft, and nobody can sign up until it is published."),
    EMPTY_NO_SIGNUPS: _l("Nothing to draw yet: nobody has signed up for this event. The chart starts with the "
                         "first sign-up."),
}


def persona_label(persona: str) -> str:
    return str(dict(persona_choices()).get(persona, persona))


def empty_message(insights: SignupInsights) -> str | None:
    return str(EMPTY_REASONS[insights.empty_reason]) if insights.empty_reason else None


def days_table(insights: SignupInsights) -> tuple[list[str], list[list]]:
    header = [str(_l("Date"))] + [str(label) for label in SIGNUP_SERIES.values()]
    header.append(str(_l("Capacity")))
    capacity = "" if insights.capacity is None else insights.capacity
    rows = [[day.day.isoformat()] + [getattr(day, key) for key in SIGNUP_SERIES] + [capacity]
            for day in insights.days]
    return header, rows


def personas_table(insights: SignupInsights) -> tuple[list[str], list[list]]:
    header = [str(_l("I am a"))] + [str(label) for label in GROUP_LABELS.values()] + [str(_l("Total"))]
    rows = [[persona_label(p.persona)] + [getattr(p, key) for key in GROUP_LABELS] + [p.total]
            for p in insights.personas]
    return header, rows
