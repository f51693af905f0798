"""JSON API of the live room (described in the OpenAPI document): questions, upvotes, moderation, settings."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import fields, validate

from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.extensions import db
from app.schemas import Id, Schema
from live import presenters
from live.models import MODERATED_STATUSES
from live.services import access, questions

blp = api_blueprint("live_api", __name__, "",
                    "The audience's live room of an event: questions (asked named or anonymous to the room), "
                    "upvotes (one per person), moderation, live over Socket.IO (room event:<id>:live).")


class AskSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(max=5000),
                         metadata={"description": f"1 to {questions.MAX_QUESTION} characters, trimmed"})
    anonymous = fields.Boolean(load_default=False,
                               metadata={"description": "anonymous to the room and the screen (organizers see the "
                                                        "author only when the event's policy says so)"})


class AskedSchema(Schema):
    id = Id()
    status = fields.String(metadata={"description": "visible, or pending when the room is pre-moderated"})


class LiveQuestionSchema(Schema):
    id = Id()
    event_id = Id()
    text = fields.String()
    anonymous = fields.Boolean()
    author = fields.String(allow_none=True, metadata={"description": "null when anonymous to this reader"})
    status = fields.String(metadata={"description": "pending | visible | hidden | answered"})
    pinned = fields.Boolean()
    votes = fields.Integer()
    voted = fields.Boolean(metadata={"description": "whether I upvoted it"})
    created_at = fields.String()


class QuestionListSchema(Schema):
    questions = fields.List(fields.Nested(LiveQuestionSchema))
    moderator = fields.Boolean(metadata={"description": "I moderate this room (I see every question)"})
    settings = fields.Dict()


class VotesSchema(Schema):
    votes = fields.Integer()


class ModerateSchema(Schema):
    status = fields.String(validate=validate.OneOf(MODERATED_STATUSES))
    pinned = fields.Boolean()


class SettingsSchema(Schema):
    premoderation = fields.Boolean(metadata={"description": "questions wait for a moderator before anyone sees "
                                                            "them"})
    organizers_see_anonymous = fields.Boolean(metadata={"description": "the event's policy: organizers may see "
                                                                       "who wrote an anonymous question"})


class SettingsOutSchema(SettingsSchema):
    event_id = Id()


@blp.route("/events/<int:event_id>/questions", methods=["POST"])
@blp.arguments(AskSchema)
@blp.response(201, AskedSchema)
@blp.alt_response(403, schema="Error", description="not_attendee (no confirmed seat)")
@blp.alt_response(422, schema="Error", description="question_empty, question_too_long")
@blp.alt_response(429, schema="Error", description="too_fast: one question per person every 30 seconds "
                                                   "(details.retry_after, seconds)")
@login_required
def ask(payload, event_id: int):
    """Ask a question in the event's live room (its confirmed attendees and organizers)."""
    question = questions.ask(event_id, current_user, now=utcnow(), **payload)
    answer = {"id": question.id, "status": question.status}
    db.session.commit()
    return answer


@blp.route("/events/<int:event_id>/questions")
@blp.response(200, QuestionListSchema)
@blp.alt_response(403, schema="Error", description="not_attendee")
@login_required
def list_questions(event_id: int):
    """The room's questions in its order (pinned, open by votes, answered): the shown ones (and my pending ones)
    for attendees, every one for organizers."""
    views, moderator = questions.questions_for(event_id, current_user)
    body = {"questions": [presenters.question_payload(v) for v in views], "moderator": moderator,
            "settings": presenters.settings_payload(access.room_settings(event_id))}
    db.session.commit()
    return body


@blp.route("/questions/<int:question_id>/vote", methods=["POST"])
@blp.response(200, VotesSchema)
@blp.alt_response(404, schema="Error", description="question_not_found")
@blp.alt_response(409, schema="Error", description="not_open_for_votes (answered)")
@login_required
def vote(question_id: int):
    """Upvote a question: once per person; repeating it changes nothing."""
    votes = questions.vote(question_id, current_user, now=utcnow())
    db.session.commit()
    return {"votes": votes}


@blp.route("/questions/<int:question_id>/vote", methods=["DELETE"])
@blp.response(200, VotesSchema)
@blp.alt_response(404, schema="Error", description="question_not_found")
@login_required
def unvote(question_id: int):
    """Take one's upvote back; repeating it changes nothing."""
    votes = questions.unvote(question_id, current_user)
    db.session.commit()
    return {"votes": votes}


@blp.route("/questions/<int:question_id>", methods=["PATCH"])
@blp.arguments(ModerateSchema)
@blp.response(200, LiveQuestionSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@blp.alt_response(409, schema="Error", description="cannot_pin (a question the room does not see)")
@login_required
def moderate(payload, question_id: int):
    """Moderate (the event's organizers): show (approve), hide, mark answered; pin (one per event) or unpin."""
    question = questions.moderate(question_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    views, _ = questions.questions_for(question.event_id, current_user)
    return presenters.question_payload(next(v for v in views if v.question.id == question_id))


@blp.route("/events/<int:event_id>/live-room")
@blp.response(200, SettingsOutSchema)
@login_required
def settings(event_id: int):
    """The live room's settings (anyone in the room: the page says whether organizers may see anonymous
    authors)."""
    access.participant_event(event_id, current_user)
    return presenters.settings_payload(access.room_settings(event_id))


@blp.route("/events/<int:event_id>/live-room", methods=["PATCH"])
@blp.arguments(SettingsSchema)
@blp.response(200, SettingsOutSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@login_required
def update_settings(payload, event_id: int):
    """Change the live room's settings (organizers): pre-moderation, the policy on anonymous authors."""
    room = access.update_settings(event_id, current_user, now=utcnow(), **payload)
    body = presenters.settings_payload(room)
    db.session.commit()
    return body
