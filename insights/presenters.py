"""Words around the numbers: labels, the empty states' reasons, and the tables of the downloads (the same numbers as
the API's, from the same service)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.accounts.forms import persona_choices
from insights.services import arrivals as arrival_numbers
from insights.services.arrivals import Arrivals
from insights.services.buckets import TOWN_ZONE
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


def company_label(company: str | None) -> str:
    if company is None:
        return str(_l("Other companies"))
    return company or str(_l("No company given"))


def companies_table(insights: SignupInsights) -> tuple[list[str], list[list]]:
    header = [str(_l("Company"))] + [str(label) for label in GROUP_LABELS.values()] + [str(_l("Total"))]
    rows = [[company_label(c.company)] + [getattr(c, key) for key in GROUP_LABELS] + [c.total]
            for c in insights.companies]
    return header, rows


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


# ---- arrivals ----------------------------------------------------------------------------------------------------

ARRIVAL_EMPTY_REASONS = {
    arrival_numbers.EMPTY_DRAFT: _l("Nothing to draw yet: this event is a draft, and nobody holds a ticket."),
    arrival_numbers.EMPTY_NO_TICKETS: _l("Nothing to draw yet: nobody holds a confirmed ticket for this event."),
    arrival_numbers.EMPTY_NOT_YET: _l("Nobody has been admitted yet. Arrivals appear here as tickets are scanned, "
                                      "live."),
    arrival_numbers.EMPTY_NOBODY_CAME: _l("Nobody was admitted at this event's doors."),
}
PUNCTUALITY_LABELS = {"early_30": _l("More than 30 minutes early"), "early_15": _l("15 to 30 minutes early"),
                      "early_0": _l("Up to 15 minutes early"), "late_15": _l("Up to 15 minutes late"),
                      "late_more": _l("More than 15 minutes late")}


def gate_label(gate: str) -> str:
    return gate or str(_l("No gate"))


def arrivals_empty_message(numbers: Arrivals) -> str | None:
    return str(ARRIVAL_EMPTY_REASONS[numbers.empty_reason]) if numbers.empty_reason else None


def arrivals_table(numbers: Arrivals) -> tuple[list[str], list[list]]:
    header = [str(_l("Time"))] + [str(_l("Gate %(gate)s", gate=gate_label(g))) for g in numbers.gates]
    header += [str(_l("Arrived so far")), str(_l("Share of expected people in (%)"))]
    rows = [[b.start.astimezone(TOWN_ZONE).strftime("%Y-%m-%d %H:%M")] + list(b.counts)
            + [b.arrived, round(100 * b.arrived / numbers.expected, 1) if numbers.expected else ""]
            for b in numbers.buckets]
    return header, rows


def attendance_table(numbers: Arrivals) -> tuple[list[str], list[list]]:
    header = [str(_l("What")), str(_l("People"))]
    rows = [[str(_l("Expected")), numbers.expected], [str(_l("Came")), numbers.came],
            [str(_l("No-shows")), numbers.no_shows], [str(_l("Attendance (%)")), numbers.share_in]]
    rows += [[str(PUNCTUALITY_LABELS[key]), count] for key, count in numbers.punctuality.items()]
    return header, rows


# ---- the competition's judges --------------------------------------------------------------------------------------

VARIANT_LABELS = {"plain": _l("Plain weighted mean"), "normalized": _l("Normalised per judge"),
                  "drop_extremes": _l("Highest and lowest dropped"), "both": _l("Both")}
# The same, short enough for a column of a phone-wide chart.
VARIANT_SHORT_LABELS = {"plain": _l("Plain"), "normalized": _l("Normalised"), "drop_extremes": _l("Extremes dropped"),
                        "both": _l("Both")}


def judges_table(numbers: dict) -> tuple[list[str], list[list]]:
    header = [str(label) for label in (_l("Judge"), _l("Shadow judge"), _l("Teams scored"), _l("Lowest"),
                                       _l("Lower quartile"), _l("Median"), _l("Upper quartile"), _l("Highest"),
                                       _l("Mean"), _l("Agreement with the panel"))]
    rows = []
    for judge in numbers["judges"]:
        box = judge["box"]
        five = [box.low, box.q1, box.median, box.q3, box.high] if box else [""] * 5
        rows.append([judge["name"], str(_l("Yes")) if judge["is_shadow"] else "", judge["teams_scored"], *five,
                     "" if judge["mean"] is None else judge["mean"],
                     "" if judge["agreement"] is None else judge["agreement"]])
    return header, rows


def pairs_table(numbers: dict) -> tuple[list[str], list[list]]:
    names = {judge["judge_id"]: judge["name"] for judge in numbers["judges"]}
    header = [str(_l("Judge")), str(_l("Other judge")), str(_l("Teams both scored")),
              str(_l("Agreement (Spearman)"))]
    return header, [[names[p["a"]], names[p["b"]], p["teams"], "" if p["agreement"] is None else p["agreement"]]
                    for p in numbers["pairs"]]


def rankings_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    header = [str(_l("Team"))] + [str(label) for label in VARIANT_LABELS.values()]
    return header, [[row["team"]] + ["" if row["ranks"].get(v) is None else row["ranks"][v] for v in VARIANT_LABELS]
                    for row in rows]


# ---- the town ------------------------------------------------------------------------------------------------------

KIND_LABELS = {"salon": _l("Tech salon"), "roadshow": _l("Roadshow day"), "competition": _l("Competition"),
               "other": _l("Event")}
CHANNEL_LABELS = {"webpush": _l("Web Push"), "email": _l("E-mail"), "sms": _l("SMS"), "wechat": _l("WeChat")}
# Labels with a percent sign are handed to templates as text (Jinja's gettext would read "%)" as a placeholder).
RETURNING_LABEL = _l("Returning (%)")
NO_SHOW_RATE_LABEL = _l("No-show rate (%)")
DELIVERY_LABELS = {"sent": _l("Delivered"), "failed": _l("Failed"), "pending": _l("Waiting to be sent"),
                   "skipped": _l("Not sent (turned off)")}


def town_events_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Month"))] + [str(KIND_LABELS.get(k, k)) for k in numbers.events] + [str(_l("Total"))]
    rows = []
    for index, month in enumerate(numbers.months):
        counts = [numbers.events[kind][index] for kind in numbers.events]
        rows.append([month, *counts, sum(counts)])
    return header, rows


def town_returns_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Month")), str(_l("People who came")), str(_l("Came again within 90 days")),
              str(RETURNING_LABEL), str(_l("Final"))]
    return header, [[r.month, r.attendees, r.returned, "" if r.rate is None else r.rate,
                     str(_l("Yes")) if r.complete else str(_l("Not yet: the 90 days are not over"))]
                    for r in numbers.returns]


def town_no_shows_table(numbers) -> tuple[list[str], list[list]]:
    return _no_shows_table(_l("Kind of event"), KIND_LABELS, numbers.no_shows)


def _no_shows_table(group_header, group_labels: dict, rows) -> tuple[list[str], list[list]]:
    header = [str(group_header), str(_l("Confirmed")), str(_l("Came")), str(_l("No-shows")), str(NO_SHOW_RATE_LABEL)]
    return header, [[str(group_labels.get(r.group, r.group)), r.confirmed, r.attended, r.no_shows,
                     "" if r.rate is None else r.rate] for r in rows]


def town_reach_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Channel"))] + [str(label) for label in DELIVERY_LABELS.values()]
    rows = [[str(_l("Inbox")), numbers.inbox["written"], "", "", ""]]
    rows += [[str(CHANNEL_LABELS.get(c, c))] + [statuses.get(s, 0) for s in DELIVERY_LABELS]
             for c, statuses in numbers.channels.items()]
    return header, rows


LEAD_TIME_LABELS = {"under_1d": _l("Less than a day before"), "1_3d": _l("1 to 3 days before"),
                    "3_7d": _l("3 to 7 days before"), "1_2w": _l("1 to 2 weeks before"),
                    "over_2w": _l("More than 2 weeks before")}


def town_companies_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Company")), str(_l("Attendances")), str(_l("People who came")), str(_l("Events"))]
    return header, [[c.company, c.attendances, c.people, c.events] for c in numbers.companies]


def town_lead_times_table(numbers) -> tuple[list[str], list[list]]:
    return _no_shows_table(_l("Signed up"), LEAD_TIME_LABELS, numbers.lead_times)


def occurrence_rows(series) -> list[list]:
    return [[series.title, o.starts_at.astimezone(TOWN_ZONE).strftime("%Y-%m-%d %H:%M"), o.confirmed,
             o.came if o.past else "", "" if o.rate is None else o.rate] for o in series.occurrences]


OCCURRENCE_HEADER = (_l("Series"), _l("Starts"), _l("Confirmed"), _l("Came"), _l("Attendance (%)"))


def town_series_table(numbers) -> tuple[list[str], list[list]]:
    return [str(t) for t in OCCURRENCE_HEADER], [row for s in numbers.series for row in occurrence_rows(s)]


def series_table(numbers: dict) -> tuple[list[str], list[list]]:
    return [str(t) for t in OCCURRENCE_HEADER], occurrence_rows(numbers["series"]) if numbers["series"] else []


SERIES_EMPTY_REASONS = {
    "not_recurring": _l("This event is not part of a series: there is one occurrence only."),
    "nobody_yet": _l("Nothing to draw yet: nobody holds a confirmed seat at any occurrence of this series."),
}


def series_empty_message(numbers: dict) -> str | None:
    return str(SERIES_EMPTY_REASONS[numbers["empty_reason"]]) if numbers["empty_reason"] else None


REACH_LABELS = {"written": _l("Inbox: written"), "opened": _l("Inbox: opened")}
CHANNEL_REACH_LABELS = {"queued": _l("%(channel)s: queued"), "sent": _l("%(channel)s: delivered"),
                        "failed": _l("%(channel)s: failed")}
REACH_EMPTY = _l("Nothing to draw yet: nobody has received this announcement (nobody is in the group, or sending "
                 "has not begun).")


def channel_reach_label(channel: str, series: str) -> str:
    return str(CHANNEL_REACH_LABELS[series]) % {"channel": CHANNEL_LABELS.get(channel, channel)}


def reach_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Time"))] + [str(label) for label in REACH_LABELS.values()]
    header += [channel_reach_label(c, s) for c in numbers.channels for s in CHANNEL_REACH_LABELS]
    form = "%Y-%m-%d %H:%M" if numbers.step == "hour" else "%Y-%m-%d"
    rows = []
    for index, moment in enumerate(numbers.times):
        row = [moment.astimezone(TOWN_ZONE).strftime(form)] + [numbers.inbox[k][index] for k in REACH_LABELS]
        row += [numbers.channels[c][s][index] for c in numbers.channels for s in CHANNEL_REACH_LABELS]
        rows.append(row)
    return header, rows


MENTORING_EMPTY = _l("Nothing to draw yet: matching has not run in this cycle.")


def mentoring_scores_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Fit score")), str(_l("Matches")), str(_l("Declined"))]
    return header, [[f"{b.low}–{b.high}" if b.low != b.high else str(b.low), b.current, b.declined]
                    for b in numbers.scores]


def mentoring_load_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Mentor")), str(_l("Capacity")), str(_l("Matched (offered or accepted)")),
              str(_l("Proposed, not published")), str(_l("Meetings booked")), str(_l("Over capacity"))]
    return header, [[m.name, m.capacity, m.live, m.proposed, m.meetings, str(_l("Yes")) if m.over else ""]
                    for m in numbers.mentors]


def mentoring_ratings_table(numbers) -> tuple[list[str], list[list]]:
    header = [str(_l("Rating")), str(_l("By founders")), str(_l("By mentors"))]
    return header, [[stars, numbers.ratings["founder"][stars - 1], numbers.ratings["mentor"][stars - 1]]
                    for stars in (1, 2, 3, 4, 5)]
