"""One module on purpose, despite its length: one thin JSON endpoint per mentoring rule, alike in
shape, so the whole API surface reads in one place.

JSON API of mentoring: mentor profiles, cycles, requests, pins and forbidden pairs, priority groups, running and
publishing the matching, and mentors' answers. Thin: mentoring.services holds every rule."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import fields, validate

from app.api import api_blueprint
from app.authz import has_role, login_required
from app.db_types import utcnow
from app.errors import NotFound
from app.extensions import db
from app.schemas import Id, Schema
from mentoring import office_hours, services, suggestions
from mentoring.models import MATCHING_MODES, RULE_KINDS

blp = api_blueprint("mentoring_api", __name__, "/mentoring",
                    "Mentor matching: profiles, cycles, founders' requests, the matching and mentors' answers.")


class MentorProfileSchema(Schema):
    user_id = Id(dump_only=True)
    name = fields.Function(lambda p: p.user.display_name if p.user else "", dump_only=True)
    company = fields.Function(lambda p: p.user.company if p.user else "", dump_only=True)
    bio = fields.String(load_default="")
    expertise = fields.List(fields.String(), required=True,
                            metadata={"description": "codes: " + ", ".join(services.EXPERTISE)})
    industries = fields.List(fields.String(), load_default=list)
    stages = fields.List(fields.String(), load_default=list,
                         metadata={"description": "codes: " + ", ".join(services.STAGES)})
    languages = fields.List(fields.String(), load_default=list, metadata={"description": "zh, en"})
    capacity = fields.Integer(required=True, metadata={"description": "founders per cycle, 1-20"})


class CycleSchema(Schema):
    id = Id(dump_only=True)
    name = fields.String(required=True)
    description = fields.String(load_default="")
    status = fields.String(dump_only=True, metadata={"description": "open, proposed, published, closed"})
    mode = fields.String(load_default="optimal", validate=validate.OneOf(MATCHING_MODES))
    per_founder = fields.Integer(load_default=1, metadata={"description": "mentors each founder may get"})
    last_run_at = fields.DateTime(dump_only=True, allow_none=True)
    total_score = fields.Integer(dump_only=True, allow_none=True)
    greedy_score = fields.Integer(dump_only=True, allow_none=True,
                                  metadata={"description": "the greedy baseline's total, for comparison"})
    published_at = fields.DateTime(dump_only=True, allow_none=True)


class RequestSchema(Schema):
    id = Id(dump_only=True)
    cycle_id = Id(dump_only=True)
    founder_id = Id(dump_only=True)
    needs = fields.List(fields.String(), required=True, metadata={"description": "ranked, most important first"})
    industry = fields.String(required=True)
    stage = fields.String(required=True)
    description = fields.String(load_default="")
    languages = fields.List(fields.String(), load_default=list)
    prefer_ids = fields.List(Id(), load_default=list, metadata={"description": "mentors' user ids"})
    avoid_ids = fields.List(Id(), load_default=list)
    created_at = fields.DateTime(dump_only=True)


class RuleSchema(Schema):
    id = Id(dump_only=True)
    founder_id = Id(required=True)
    mentor_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(RULE_KINDS))
    reason = fields.String(load_default="")


class PriorityGroupSchema(Schema):
    id = Id(dump_only=True)
    name = fields.String(required=True)
    weight = fields.Float(required=True, metadata={"description": "multiplies the fit of its founders, e.g. 1.5"})
    founder_ids = fields.List(Id(), attribute="member_ids", load_default=list)


class RunSchema(Schema):
    mode = fields.String(validate=validate.OneOf(MATCHING_MODES), metadata={"description": "default: the cycle's"})


class MatchSchema(Schema):
    id = Id()
    cycle_id = Id()
    founder_id = Id()
    mentor_id = Id()
    founder_name = fields.Function(lambda m: m.founder.display_name)
    mentor_name = fields.Function(lambda m: m.mentor.display_name)
    status = fields.String(metadata={"description": "proposed, offered, accepted, declined"})
    score = fields.Integer()
    pinned = fields.Boolean()
    reasons = fields.Dict(metadata={"description": "needs covered, coverage, industry, stage, preferred, "
                                                   "priority_weight, pinned"})


class ProposalSchema(Schema):
    cycle = fields.Nested(CycleSchema)
    matches = fields.List(fields.Nested(MatchSchema))
    unmatched_founder_ids = fields.Function(lambda p: [r.founder_id for r in p["unmatched"]])


class AnswerSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=300))


@blp.route("/profile")
class MyMentorProfile(MethodView):
    decorators = [login_required]

    @blp.response(200, MentorProfileSchema)
    @blp.alt_response(404, schema="Error", description="profile_not_found")
    def get(self):
        """My mentor profile."""
        profile = services.mentor_profile_of(current_user.id)
        if profile is None:
            raise NotFound("profile_not_found", _l("You have no mentor profile yet."))
        return profile

    @blp.arguments(MentorProfileSchema)
    @blp.response(200, MentorProfileSchema)
    @blp.alt_response(400, schema="Error", description="invalid_profile")
    @blp.alt_response(403, schema="Error", description="forbidden (mentors only)")
    def put(self, payload):
        """Create or change my mentor profile (mentors)."""
        profile = services.save_mentor_profile(current_user, **payload)
        db.session.commit()
        return profile


@blp.route("/mentors")
@blp.response(200, MentorProfileSchema(many=True))
@login_required
def list_mentors():
    """Every mentor (to prefer or avoid in a request)."""
    return services.list_mentors()


@blp.route("/cycles")
class Cycles(MethodView):
    decorators = [login_required]

    @blp.response(200, CycleSchema(many=True))
    def get(self):
        """Cycles: every one for organizers, those taking requests for everyone else."""
        return services.list_cycles() if has_role(current_user, "organizer") else services.open_cycles()

    @blp.arguments(CycleSchema)
    @blp.response(201, CycleSchema)
    @blp.alt_response(400, schema="Error", description="invalid_cycle")
    def post(self, payload):
        """Open a matching cycle (organizers)."""
        cycle = services.create_cycle(current_user, now=utcnow(), **payload)
        db.session.commit()
        return cycle


@blp.route("/cycles/<int:cycle_id>")
@blp.response(200, CycleSchema)
@blp.alt_response(404, schema="Error")
@login_required
def get_cycle(cycle_id: int):
    """One cycle."""
    return services.get_cycle(cycle_id)


@blp.route("/cycles/<int:cycle_id>/requests")
class CycleRequests(MethodView):
    decorators = [login_required]

    @blp.arguments(RequestSchema)
    @blp.response(201, RequestSchema)
    @blp.alt_response(400, schema="Error", description="invalid_request")
    @blp.alt_response(409, schema="Error", description="already_requested, cycle_closed")
    def post(self, payload, cycle_id: int):
        """Ask for mentoring in this cycle (once)."""
        request = services.submit_request(cycle_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return request

    @blp.response(200, RequestSchema(many=True))
    def get(self, cycle_id: int):
        """Every request of the cycle (organizers)."""
        return services.requests_of_cycle(cycle_id, current_user)


@blp.route("/cycles/<int:cycle_id>/rules")
class CycleRules(MethodView):
    decorators = [login_required]

    @blp.arguments(RuleSchema)
    @blp.response(201, RuleSchema)
    @blp.alt_response(400, schema="Error", description="invalid_rule")
    @blp.alt_response(409, schema="Error", description="cycle_published")
    def post(self, payload, cycle_id: int):
        """Pin a pair (always matched) or forbid it (never), organizers."""
        rule = services.set_pair_rule(cycle_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return rule

    @blp.response(200, RuleSchema(many=True))
    def get(self, cycle_id: int):
        """Pins and forbidden pairs (organizers)."""
        services.require_organizer(current_user)
        return services.rules_of_cycle(cycle_id)


@blp.route("/cycles/<int:cycle_id>/rules/<int:rule_id>", methods=["DELETE"])
@blp.response(204)
@login_required
def delete_rule(cycle_id: int, rule_id: int):
    """Remove a pin or a forbidden pair (organizers)."""
    services.delete_pair_rule(cycle_id, rule_id, current_user)
    db.session.commit()


@blp.route("/cycles/<int:cycle_id>/priority-groups", methods=["POST"])
@blp.arguments(PriorityGroupSchema)
@blp.response(200, PriorityGroupSchema)
@blp.alt_response(400, schema="Error", description="invalid_group")
@login_required
def set_priority_group(payload, cycle_id: int):
    """Create or change a priority group (by name): its founders' fit is multiplied by its weight."""
    group = services.set_priority_group(cycle_id, current_user, name=payload["name"], weight=payload["weight"],
                                        founder_ids=payload["member_ids"])
    db.session.commit()
    return group


@blp.route("/cycles/<int:cycle_id>/run", methods=["POST"])
@blp.arguments(RunSchema)
@blp.response(200, ProposalSchema)
@blp.alt_response(409, schema="Error", description="no_requests, no_mentors, pins_over_capacity, "
                                                   "pins_over_founder_limit, pin_forbidden, cycle_published")
@login_required
def run_matching(payload, cycle_id: int):
    """Run (or run again) the matching; answers the proposal with each pair's score and reasons (organizers)."""
    services.run_matching(cycle_id, current_user, mode=payload.get("mode"), now=utcnow())
    db.session.commit()
    return services.proposal(cycle_id, current_user)


@blp.route("/cycles/<int:cycle_id>/proposal")
@blp.response(200, ProposalSchema)
@login_required
def get_proposal(cycle_id: int):
    """The cycle's matches and the founders left without a mentor (organizers)."""
    return services.proposal(cycle_id, current_user)


@blp.route("/cycles/<int:cycle_id>/publish", methods=["POST"])
@blp.response(200, CycleSchema)
@blp.alt_response(409, schema="Error", description="not_proposed, empty_proposal, cycle_published")
@login_required
def publish(cycle_id: int):
    """Publish the proposal: mentors are asked to accept or decline (organizers)."""
    cycle = services.publish_cycle(cycle_id, current_user, now=utcnow())
    db.session.commit()
    return cycle


class RankingSchema(Schema):
    founder_ids = fields.List(Id(), required=True,
                              metadata={"description": "founders who asked in the cycle, best first"})


class RankableRequestSchema(Schema):
    founder_id = Id()
    founder_name = fields.Function(lambda r: r.founder.display_name)
    company = fields.Function(lambda r: r.founder.company or "")
    needs = fields.List(fields.String())
    industry = fields.String()
    stage = fields.String()
    description = fields.String()


class RankingViewSchema(RankingSchema):
    requests = fields.List(fields.Nested(RankableRequestSchema), dump_only=True)


@blp.route("/cycles/<int:cycle_id>/ranking")
class MyRanking(MethodView):
    decorators = [login_required]

    @blp.response(200, RankingViewSchema)
    @blp.alt_response(409, schema="Error", description="cycle_published, profile_missing")
    def get(self, cycle_id: int):
        """My ranking of this cycle's founders and their requests (mentors; used by the stable mode)."""
        requests = services.requests_to_rank(cycle_id, current_user)
        return {"founder_ids": services.ranking_of(cycle_id, current_user.id), "requests": requests}

    @blp.arguments(RankingSchema)
    @blp.response(200, RankingSchema)
    @blp.alt_response(400, schema="Error", description="invalid_ranking")
    @blp.alt_response(409, schema="Error", description="cycle_published, profile_missing")
    def put(self, payload, cycle_id: int):
        """Rank founders of this cycle, best first (mentors); those left out come after, by fit."""
        ids = services.set_ranking(cycle_id, current_user, founder_ids=payload["founder_ids"], now=utcnow())
        db.session.commit()
        return {"founder_ids": ids}


@blp.route("/matches/mine")
@blp.response(200, MatchSchema(many=True))
@login_required
def my_matches():
    """My own matches: as a founder, my mentors; as a mentor, my mentees (and offers to answer)."""
    return services.my_matches(current_user) + services.my_mentees(current_user)


@blp.route("/matches/<int:match_id>")
@blp.response(200, MatchSchema)
@blp.alt_response(404, schema="Error", description="match_not_found (also for people it does not concern)")
@login_required
def get_match(match_id: int):
    """One match (its founder and mentor once published; organizers)."""
    return services.visible_match(match_id, current_user)


@blp.route("/matches/<int:match_id>/accept", methods=["POST"])
@blp.response(200, MatchSchema)
@blp.alt_response(409, schema="Error", description="already_answered")
@login_required
def accept(match_id: int):
    """Accept a match (its mentor)."""
    match = services.respond_to_match(match_id, current_user, accept=True, now=utcnow())
    db.session.commit()
    return match


@blp.route("/matches/<int:match_id>/decline", methods=["POST"])
@blp.arguments(AnswerSchema)
@blp.response(200, MatchSchema)
@blp.alt_response(409, schema="Error", description="already_answered")
@login_required
def decline(payload, match_id: int):
    """Decline a match (its mentor); the founder is offered the next best mentor with room."""
    match = services.respond_to_match(match_id, current_user, accept=False, reason=payload["reason"], now=utcnow())
    db.session.commit()
    return match


# ---- office hours ------------------------------------------------------------------------------------------------

class AvailabilitySchema(Schema):
    id = Id(dump_only=True)
    weekday = fields.Integer(required=True, metadata={"description": "0 = Monday"})
    start = fields.String(required=True, load_only=True, metadata={"description": "HH:MM, Shanghai time"})
    end = fields.String(required=True, load_only=True)
    slot_minutes = fields.Integer(load_default=30)
    location = fields.String(load_default="")


class SlotSchema(Schema):
    id = Id()
    mentor_id = Id()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    location = fields.String()


class BookingSchema(Schema):
    id = Id(dump_only=True)
    slot = fields.Nested(SlotSchema, dump_only=True)
    founder_id = Id(dump_only=True)
    mentor_id = Id(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "booked, cancelled"})
    topic = fields.String(load_default="", validate=validate.Length(max=300))


class MoveSchema(Schema):
    slot_id = Id(required=True)


@blp.route("/availability", methods=["POST"])
@blp.arguments(AvailabilitySchema)
@blp.response(201, AvailabilitySchema)
@blp.alt_response(400, schema="Error", description="invalid_availability")
@login_required
def add_availability(payload):
    """Add a weekly office-hours range (mentors); its slots for the next weeks are created."""
    availability = office_hours.add_availability(current_user, now=utcnow(), **payload)
    db.session.commit()
    return availability


@blp.route("/mentors/<int:mentor_id>/slots")
@blp.response(200, SlotSchema(many=True))
@blp.alt_response(404, schema="Error", description="not_matched")
@login_required
def mentor_slots(mentor_id: int):
    """My mentor's free slots (only for a founder whose match with this mentor is accepted)."""
    return office_hours.slots_for_founder(mentor_id, current_user, now=utcnow())


@blp.route("/slots/<int:slot_id>/book", methods=["POST"])
@blp.arguments(BookingSchema)
@blp.response(201, BookingSchema)
@blp.alt_response(409, schema="Error", description="slot_taken, slot_past")
@login_required
def book(payload, slot_id: int):
    """Book one of my mentor's slots."""
    booking = office_hours.book_slot(slot_id, current_user, topic=payload["topic"], now=utcnow())
    db.session.commit()
    return booking


@blp.route("/bookings/mine")
@blp.response(200, BookingSchema(many=True))
@login_required
def my_bookings():
    """My office hours, as founder or mentor."""
    return office_hours.bookings_of(current_user)


@blp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@blp.response(200, BookingSchema)
@login_required
def cancel_booking(booking_id: int):
    """Cancel a booking (its founder or mentor); the slot is free again."""
    booking = office_hours.cancel_booking(booking_id, current_user, now=utcnow())
    db.session.commit()
    return booking


@blp.route("/bookings/<int:booking_id>/move", methods=["POST"])
@blp.arguments(MoveSchema)
@blp.response(201, BookingSchema)
@blp.alt_response(409, schema="Error", description="slot_taken, slot_past")
@login_required
def move_booking(payload, booking_id: int):
    """Move my booking to another slot of the same mentor (the old one is freed only if the new one is mine)."""
    booking = office_hours.move_booking(booking_id, current_user, new_slot_id=payload["slot_id"], now=utcnow())
    db.session.commit()
    return booking


# ---- feedback after a meeting ------------------------------------------------------------------------------------

class FeedbackSchema(Schema):
    id = Id(dump_only=True)
    booking_id = Id(dump_only=True)
    author_id = Id(dump_only=True)
    rating = fields.Integer(required=True, metadata={"description": "1 to 5"})
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    shared = fields.Boolean(load_default=False,
                            metadata={"description": "the other side may read it (organizers always can)"})
    created_at = fields.DateTime(dump_only=True)


class BookingFeedbackSchema(Schema):
    mine = fields.Nested(FeedbackSchema, allow_none=True)
    theirs = fields.Nested(FeedbackSchema, allow_none=True,
                           metadata={"description": "the other side's, only when they chose to share it"})


class FeedbackItemSchema(Schema):
    feedback = fields.Nested(FeedbackSchema)
    cycle_id = Id()
    author_role = fields.String(metadata={"description": "founder or mentor"})
    founder_id = fields.Function(lambda item: item["booking"].founder_id)
    mentor_id = fields.Function(lambda item: item["booking"].mentor_id)
    starts_at = fields.Function(lambda item: item["booking"].slot.starts_at.isoformat())


class FeedbackSummarySchema(Schema):
    mentor_id = Id()
    cycle_id = Id()
    meetings = fields.Integer(metadata={"description": "meetings with at least one piece of feedback"})
    founder_ratings = fields.Integer()
    founder_average = fields.Float(allow_none=True, metadata={"description": "founders' average rating"})
    mentor_ratings = fields.Integer()
    mentor_average = fields.Float(allow_none=True)


class FeedbackReportSchema(Schema):
    items = fields.List(fields.Nested(FeedbackItemSchema))
    per_mentor = fields.List(fields.Nested(FeedbackSummarySchema))
    per_cycle = fields.List(fields.Nested(FeedbackSummarySchema))


class FeedbackQuerySchema(Schema):
    cycle_id = Id(load_default=None)


@blp.route("/bookings/<int:booking_id>/feedback")
class BookingFeedback(MethodView):
    decorators = [login_required]

    @blp.response(200, BookingFeedbackSchema)
    @blp.alt_response(404, schema="Error", description="booking_not_found")
    def get(self, booking_id: int):
        """My feedback on a meeting, and the other side's if they shared it."""
        return office_hours.feedback_on_booking(booking_id, current_user)

    @blp.arguments(FeedbackSchema)
    @blp.response(200, FeedbackSchema)
    @blp.alt_response(400, schema="Error", description="invalid_feedback")
    @blp.alt_response(409, schema="Error", description="meeting_not_held, booking_cancelled")
    def put(self, payload, booking_id: int):
        """Give (or change) my short feedback after a meeting (its founder or mentor)."""
        feedback = office_hours.give_feedback(booking_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return feedback


@blp.route("/bookings/to-rate")
@blp.response(200, BookingSchema(many=True))
@login_required
def bookings_to_rate():
    """My meetings of the last 30 days still waiting for my feedback."""
    return office_hours.meetings_to_rate(current_user, now=utcnow())


@blp.route("/feedback")
@blp.arguments(FeedbackQuerySchema, location="query")
@blp.response(200, FeedbackReportSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@login_required
def feedback_report(query):
    """Every piece of feedback with summaries per mentor and per cycle (organizers)."""
    return office_hours.feedback_report(current_user, cycle_id=query["cycle_id"])


# ---- from judging to mentoring -----------------------------------------------------------------------------------

class SuggestedMentorSchema(Schema):
    mentor_id = Id()
    name = fields.String()
    company = fields.String()
    covers = fields.List(fields.String(), metadata={"description": "the team's weak points this mentor covers"})
    expertise = fields.List(fields.String(), metadata={"description": "the mentor's expertise that covers them"})
    score = fields.Integer()
    room = fields.Integer(metadata={"description": "places left in the current cycle"})


class TeamSuggestionsSchema(Schema):
    team_id = Id(metadata={"description": "the team application's id"})
    weak_points = fields.List(fields.String())
    mentors = fields.List(fields.Nested(SuggestedMentorSchema))
    uncovered = fields.List(fields.String(), metadata={"description": "weak points no mentor covers"})


class WeakPointsSchema(Schema):
    weak_points = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                              metadata={"description": "{team application id: [fundraising, go-to-market, tech, "
                                                       "team, legal]}, most important first"})
    limit = fields.Integer(load_default=3, validate=validate.Range(min=1, max=10))


@blp.route("/suggestions")
class Suggestions(MethodView):
    decorators = [login_required]

    @blp.response(200, TeamSuggestionsSchema(many=True))
    @blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
    def get(self):
        """Mentors for every team's weak points as tagged by the judges (organizers)."""
        return suggestions.suggestions_for_organizers(current_user)

    @blp.arguments(WeakPointsSchema)
    @blp.response(200, TeamSuggestionsSchema(many=True))
    @blp.alt_response(400, schema="Error", description="invalid_weak_points")
    def post(self, payload):
        """Mentors whose expertise covers the given weak points of each team (organizers)."""
        return suggestions.suggestions_for_organizers(current_user, payload["weak_points"], limit=payload["limit"])


@blp.route("/suggestions/mine")
@blp.response(200, TeamSuggestionsSchema(many=True))
@login_required
def my_suggestions():
    """Mentors suggested for my own teams' weak points (team members)."""
    return suggestions.suggestions_for_member(current_user)
