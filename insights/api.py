"""JSON of the organizers' charts, under /api/v1/ (in the OpenAPI document): the numbers the pages draw and the
downloads hold, from insights.services. Only the event's organizers (and global organizers, admins) may read them."""

from __future__ import annotations

from flask_login import current_user

from app.api import api_blueprint, refused_unless_allowed
from app.authz import authorize
from app.db_types import utcnow
from app.schemas import Id, Schema, fields
from events.services import reading
from insights import presenters
from insights.services.arrivals import arrivals
from insights.services.buckets import TOWN_TIMEZONE
from insights.services.judges import judge_scores
from insights.services.mentoring import cycle_numbers
from insights.services.reach import reach_over_time
from insights.services.series import event_series_numbers
from insights.services.signups import signup_insights
from insights.services.town import town
from mentoring import services as mentoring
from notifications import announcements

blp = api_blueprint("insights_api", __name__, "", "Insights: the numbers behind the organizers' charts.")


class SignupDaySchema(Schema):
    date = fields.Date(attribute="day", metadata={"description": "a day in the town's time zone (Asia/Shanghai)"})
    signed_up = fields.Integer(metadata={"description": "everyone who had signed up by the end of the day"})
    confirmed = fields.Integer(metadata={"description": "holding a confirmed seat at the end of the day"})
    waiting = fields.Integer(metadata={"description": "waitlisted, pending approval, in the lottery or offered"})
    cancelled = fields.Integer(metadata={"description": "cancellations so far"})


class PersonaCountsSchema(Schema):
    persona = fields.String(metadata={"description": "founder, investor, engineer or other"})
    label = fields.Method("persona_label", metadata={"description": "the persona in the reader's language"})
    confirmed = fields.Integer()
    waiting = fields.Integer()
    cancelled = fields.Integer()
    declined = fields.Integer(metadata={"description": "refused by the organizers, or a seat offer that expired"})
    total = fields.Integer()

    def persona_label(self, counts) -> str:
        return presenters.persona_label(counts.persona)


class CompanyCountsSchema(Schema):
    company = fields.String(allow_none=True, metadata={
        "description": "as written in profiles (trimmed); \"\" = not given; null = every other company summed"})
    label = fields.Method("company_label", metadata={"description": "the company, or why there is none, in words"})
    confirmed = fields.Integer()
    waiting = fields.Integer()
    cancelled = fields.Integer()
    declined = fields.Integer()
    total = fields.Integer()

    def company_label(self, counts) -> str:
        return presenters.company_label(counts.company)


class SignupInsightsSchema(Schema):
    event_id = Id()
    capacity = fields.Integer(allow_none=True, metadata={"description": "seats; null when unlimited"})
    timezone = fields.Constant(TOWN_TIMEZONE)
    days = fields.List(fields.Nested(SignupDaySchema))
    personas = fields.List(fields.Nested(PersonaCountsSchema))
    companies = fields.List(fields.Nested(CompanyCountsSchema), metadata={
        "description": "the companies with the most sign-ups, most first, then the others summed (company null)"})
    totals = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "confirmed, waiting, cancelled and declined now"})
    empty_reason = fields.String(allow_none=True, metadata={
        "description": "why there is nothing to draw: draft (a draft takes no sign-ups) or no_signups; null otherwise"})


@blp.route("/events/<int:event_id>/insights/signups")
@blp.response(200, SignupInsightsSchema)
@refused_unless_allowed(blp, forbidden="the event's organizers only", not_found="event_not_found")
def event_signups(event_id: int):
    """An event's sign-ups per day (cumulative), by persona and by company."""
    event = reading.organized_event(event_id, current_user)
    return signup_insights(event, now=utcnow())


class ArrivalBucketSchema(Schema):
    start = fields.DateTime(metadata={"description": "start of a 5-minute slice (UTC)"})
    counts = fields.List(fields.Integer(), metadata={"description": "first admissions per gate, in `gates` order"})
    arrived = fields.Integer(metadata={"description": "first admissions so far, every gate, to the slice's end"})


class ArrivalsSchema(Schema):
    event_id = Id()
    timezone = fields.Constant(TOWN_TIMEZONE)
    bucket_minutes = fields.Constant(5)
    phase = fields.String(metadata={"description": "before (doors not open yet), open (until the end), after"})
    doors_open_at = fields.DateTime()
    gates = fields.List(fields.String(), metadata={"description": "where people first came in; \"\" = no gate"})
    buckets = fields.List(fields.Nested(ArrivalBucketSchema))
    expected = fields.Integer(metadata={"description": "confirmed tickets"})
    came = fields.Integer(metadata={"description": "confirmed tickets admitted"})
    no_shows = fields.Integer(metadata={"description": "confirmed tickets never admitted"})
    share_in = fields.Float(metadata={"description": "percent of the expected people in (came / expected)"})
    admitted = fields.Integer(metadata={"description": "every first admission (overrides of other tickets too)"})
    outside_window = fields.Integer(metadata={
        "description": "admissions over 12 hours before the start or after the end (a scanner's wrong clock)"})
    punctuality = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "people who came, by first admission against the start: early_30 (over 30 minutes early), "
                       "early_15, early_0, late_15 (up to 15 minutes late), late_more"})
    empty_reason = fields.String(allow_none=True, metadata={
        "description": "draft, no_tickets, no_arrivals_yet or nobody_came; null when there are arrivals"})


@blp.route("/events/<int:event_id>/insights/arrivals")
@blp.response(200, ArrivalsSchema)
@refused_unless_allowed(blp, forbidden="the event's organizers only", not_found="event_not_found")
def event_arrivals(event_id: int):
    """An event's arrivals per gate per 5 minutes, the share of expected people in, attendance and no-shows. Live:
    re-read it when the door room (`join_checkin`) announces `checkin_counters`."""
    event = reading.organized_event(event_id, current_user)
    return arrivals(event, now=utcnow())


class CompanyAttendanceSchema(Schema):
    company = fields.String(metadata={"description": "as written in profiles (trimmed)"})
    attendances = fields.Integer(metadata={"description": "check-ins of the company's people, every event counted"})
    people = fields.Integer(metadata={"description": "distinct people of the company who came"})
    events = fields.Integer(metadata={"description": "distinct events they came to"})


class NoShowsSchema(Schema):
    confirmed = fields.Integer(metadata={"description": "confirmed registrations of past events"})
    attended = fields.Integer()
    no_shows = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "percent of the confirmed who did not come"})


class LeadNoShowsSchema(NoShowsSchema):
    lead = fields.String(attribute="group", metadata={
        "description": "how long before the start people signed up: under_1d, 1_3d, 3_7d, 1_2w, over_2w"})


class KindNoShowsSchema(NoShowsSchema):
    kind = fields.String(attribute="group")


class OccurrenceSchema(Schema):
    event_id = Id()
    starts_at = fields.DateTime()
    confirmed = fields.Integer(metadata={"description": "confirmed registrations"})
    came = fields.Integer(metadata={"description": "of them, checked in"})
    past = fields.Boolean(metadata={"description": "the occurrence is over (its numbers are final)"})
    rate = fields.Float(allow_none=True, metadata={"description": "percent of the confirmed who came (past only)"})


class SeriesAttendanceSchema(Schema):
    series_id = Id()
    title = fields.String()
    occurrences = fields.List(fields.Nested(OccurrenceSchema), metadata={"description": "oldest first"})


class EventSeriesSchema(Schema):
    event_id = Id()
    series = fields.Nested(SeriesAttendanceSchema, allow_none=True, metadata={
        "description": "the event's series, every published occurrence; null when the event is not recurring"})
    empty_reason = fields.String(allow_none=True, metadata={
        "description": "not_recurring, or nobody_yet (no confirmed person at any occurrence); null otherwise"})


@blp.route("/events/<int:event_id>/insights/series")
@blp.response(200, EventSeriesSchema)
@refused_unless_allowed(blp, forbidden="the event's organizers only", not_found="event_not_found")
def event_series(event_id: int):
    """Attendance per occurrence of the event's series (a recurring event): confirmed and came."""
    event = reading.organized_event(event_id, current_user)
    return event_series_numbers(event, now=utcnow())


class BoxSchema(Schema):
    low = fields.Float()
    q1 = fields.Float()
    median = fields.Float()
    q3 = fields.Float()
    high = fields.Float()


class JudgeScoresSchema(Schema):
    judge_id = Id()
    name = fields.String()
    is_shadow = fields.Boolean(metadata={"description": "a trainee judge: scores, never counted"})
    teams_scored = fields.Integer()
    mean = fields.Float(allow_none=True)
    spread = fields.Float(allow_none=True, metadata={"description": "standard deviation of the judge's totals"})
    agreement = fields.Float(allow_none=True, metadata={
        "description": "Spearman correlation of the judge's order with the rest of the panel's, -1..1"})
    mean_offset = fields.Float(allow_none=True, metadata={"description": "above the panel on the same teams by"})
    box = fields.Nested(BoxSchema, allow_none=True, metadata={
        "description": "lowest, quartiles (inclusive method), median and highest of the judge's totals, 0..100"})


class RankedTeamSchema(Schema):
    team = fields.String()
    rank = fields.Integer(allow_none=True)
    score = fields.Float(allow_none=True)


class OrderChangeSchema(Schema):
    above = fields.String(metadata={"description": "ranked above `below` by the round's own rule"})
    below = fields.String()


class JudgePairSchema(Schema):
    a = Id(metadata={"description": "a judge's id (of `judges`)"})
    b = Id(metadata={"description": "another judge's id, later in `judges`"})
    teams = fields.Integer(metadata={"description": "teams both scored (recusals left out)"})
    agreement = fields.Float(allow_none=True, metadata={
        "description": "Spearman correlation of the two judges' totals on those teams, -1..1; null with fewer than "
                       "two, or when one gave them all the same total"})


class JudgeInsightsSchema(Schema):
    round_id = Id(attribute="round.id")
    rule = fields.String(metadata={"description": "the round's aggregation rule, in words"})
    current = fields.String(metadata={"description": "which ranking is the round's own: plain, normalized, "
                                                     "drop_extremes or both"})
    judges = fields.List(fields.Nested(JudgeScoresSchema))
    panel = fields.Nested(BoxSchema, allow_none=True, metadata={"description": "every counted total"})
    pairs = fields.List(fields.Nested(JudgePairSchema), metadata={"description": "every two judges' agreement"})
    rankings = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(RankedTeamSchema)), metadata={
        "description": "the ranking under each rule: plain, normalized, drop_extremes, both"})
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(OrderChangeSchema)), metadata={
        "description": "per rule, the pairs of teams it would order the other way than the round's own rule"})


@blp.route("/rounds/<int:round_id>/insights/judges")
@blp.response(200, JudgeInsightsSchema)
@refused_unless_allowed(blp, forbidden="the competition's organizers only", not_found="round_not_found")
def round_judges(round_id: int):
    """Each judge's score distribution, and where normalisation or dropping the extremes changes the order."""
    return judge_scores(round_id, current_user)


class MonthReturnsSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM, in the town's time zone"})
    attendees = fields.Integer(metadata={"description": "people who came to an event that month"})
    returned = fields.Integer(metadata={"description": "of them, those who came to another event within 90 days"})
    rate = fields.Float(allow_none=True, metadata={"description": "percent returned"})
    complete = fields.Boolean(metadata={"description": "false while the 90 days after the month are not over"})


class TownSchema(Schema):
    timezone = fields.Constant(TOWN_TIMEZONE)
    months = fields.List(fields.String(), metadata={"description": "the last twelve months, oldest first"})
    events = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()), metadata={
        "description": "kind -> published events per month, in `months` order"})
    returns = fields.List(fields.Nested(MonthReturnsSchema))
    no_shows = fields.List(fields.Nested(KindNoShowsSchema))
    inbox = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "announcements' inbox messages written and opened, over the twelve months"})
    channels = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                           metadata={"description": "channel -> delivery status (pending, sent, failed, skipped) -> "
                                                    "announcements' deliveries"})
    companies = fields.List(fields.Nested(CompanyAttendanceSchema), metadata={
        "description": "the ten companies whose people came most (people without a company left out)"})
    lead_times = fields.List(fields.Nested(LeadNoShowsSchema), metadata={
        "description": "no-shows of past events by how long before the start people signed up"})
    series = fields.List(fields.Nested(SeriesAttendanceSchema), metadata={
        "description": "the five series with the most occurrences in the twelve months: attendance per occurrence"})


@blp.route("/insights/town")
@blp.response(200, TownSchema)
@refused_unless_allowed(blp, forbidden="town admins only")
def town_numbers():
    """The town over the last twelve months: events per month by kind, returning attendees, no-shows by kind and by
    how long before the event people signed up, the companies that come most, attendance per occurrence of the
    busiest series, announcements' reach per channel."""
    authorize(current_user, "admin")
    return town(now=utcnow())


class ChannelReachSchema(Schema):
    queued = fields.List(fields.Integer(), metadata={"description": "deliveries handed to the channel so far"})
    sent = fields.List(fields.Integer(), metadata={"description": "delivered so far (the channel accepted them)"})
    failed = fields.List(fields.Integer(), metadata={
        "description": "given up so far (placed at their last scheduled attempt)"})


class ReachSchema(Schema):
    announcement_id = Id()
    title = fields.String()
    timezone = fields.Constant(TOWN_TIMEZONE)
    step = fields.String(metadata={"description": "hour (the first three days) or day (a town day), per slice"})
    times = fields.List(fields.DateTime(), metadata={"description": "each slice's start (UTC), oldest first"})
    inbox = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()), metadata={
        "description": "written, opened -> inbox messages so far, at the end of each slice (cumulative)"})
    channels = fields.Dict(keys=fields.String(), values=fields.Nested(ChannelReachSchema), metadata={
        "description": "channel (webpush, email, sms, wechat) -> cumulative counts per slice"})
    empty_reason = fields.String(allow_none=True, metadata={
        "description": "no_recipients (nobody in the group, or the fan-out has not begun); null otherwise"})


@blp.route("/announcements/<int:announcement_id>/insights/reach")
@blp.response(200, ReachSchema)
@refused_unless_allowed(blp, forbidden="organizers of the announcement's audience only",
                        not_found="announcement_not_found")
def announcement_reach(announcement_id: int):
    """An announcement's reach over time per channel: inbox messages written and opened; deliveries queued,
    delivered and failed (cumulative, per hour for three days, then per day)."""
    announcement = announcements.get_announcement(announcement_id, current_user)
    return reach_over_time(announcement, now=utcnow())


class ScoreBinSchema(Schema):
    low = fields.Integer(metadata={"description": "fit scores from `low` to `high`, both included"})
    high = fields.Integer()
    current = fields.Integer(metadata={"description": "matches standing: proposed, offered or accepted"})
    declined = fields.Integer(metadata={"description": "pairs a mentor declined"})


class MentorLoadSchema(Schema):
    mentor_id = Id()
    name = fields.String()
    capacity = fields.Integer(metadata={"description": "founders the mentor takes per cycle"})
    proposed = fields.Integer(metadata={"description": "in the organizers' draft, not published yet"})
    live = fields.Integer(metadata={"description": "offered or accepted: taking a place of the capacity"})
    meetings = fields.Integer(metadata={"description": "office hours booked through the cycle's matches"})
    over = fields.Boolean(metadata={"description": "proposed + live exceed the capacity"})


class CycleInsightsSchema(Schema):
    cycle_id = Id()
    name = fields.String()
    status = fields.String()
    scores = fields.List(fields.Nested(ScoreBinSchema), metadata={"description": "a histogram of the fit scores"})
    mentors = fields.List(fields.Nested(MentorLoadSchema), metadata={"description": "most loaded first"})
    ratings = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()), metadata={
        "description": "founder, mentor -> feedback ratings given: how many 1, 2, 3, 4, 5"})
    empty_reason = fields.String(allow_none=True, metadata={
        "description": "no_matches (matching has not run yet); null otherwise"})


@blp.route("/mentoring/cycles/<int:cycle_id>/insights")
@blp.response(200, CycleInsightsSchema)
@refused_unless_allowed(blp, forbidden="organizers only", not_found="cycle_not_found")
def mentoring_cycle(cycle_id: int):
    """A mentoring cycle: a histogram of its matches' fit scores, each mentor's load against capacity, and the
    ratings of the feedback after its meetings."""
    authorize(current_user, "organizer")
    return cycle_numbers(mentoring.get_cycle(cycle_id))
