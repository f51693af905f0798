"""JSON API of the live room (described in the OpenAPI document): questions, upvotes, moderation, settings."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from marshmallow import fields, validate

from app.accounts.auth import checks_bearer_token, decided_with_bearer, deferred_bearer
from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.schemas import Id, Schema
from live import presenters, vote_batches
from live.models import MODERATED_STATUSES
from live.services import access, peoples_choice, polls, questions, speaker

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
    merged_into = Id(metadata={"description": "merge this duplicate into that question of the same event: it leaves "
                                              "the room and its upvotes move there"})


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
    questions.vote(question_id, current_user, now=utcnow())
    db.session.commit()
    return {"votes": questions.vote_count(question_id)}  # as committed, with everyone's votes that came before


@blp.route("/questions/<int:question_id>/vote", methods=["DELETE"])
@blp.response(200, VotesSchema)
@blp.alt_response(404, schema="Error", description="question_not_found")
@login_required
def unvote(question_id: int):
    """Take one's upvote back; repeating it changes nothing."""
    questions.unvote(question_id, current_user)
    db.session.commit()
    return {"votes": questions.vote_count(question_id)}


@blp.route("/questions/<int:question_id>", methods=["PATCH"])
@blp.arguments(ModerateSchema)
@blp.response(200, LiveQuestionSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@blp.alt_response(409, schema="Error", description="cannot_pin (a question the room does not see), cannot_merge")
@login_required
def moderate(payload, question_id: int):
    """Moderate (the event's organizers): show (approve), hide, mark answered; pin (one per event) or unpin; merge
    a duplicate into another question (the answer is then that question)."""
    into = payload.pop("merged_into", None)
    if into is not None:
        question = questions.merge(question_id, current_user, into_id=into, now=utcnow())
        question_id = question.id
    if payload or into is None:  # with merged_into, the rest applies to the question merged into
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


class SpeakerInSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(max=40),
                          metadata={"description": "the speaker's mobile number (an account is made for a new "
                                                   "number); empty: no speaker"})
    name = fields.String(load_default="", validate=validate.Length(max=80))


class SpeakerSchema(Schema):
    speaker = fields.Dict(allow_none=True, metadata={"description": "{name, phone (masked)} or null"})


class SentToSpeakerSchema(SpeakerSchema):
    sent = fields.Integer(metadata={"description": "how many answered questions were sent"})


@blp.route("/events/<int:event_id>/live-room/speaker", methods=["PUT"])
@blp.arguments(SpeakerInSchema)
@blp.response(200, SpeakerSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@blp.alt_response(400, schema="Error", description="invalid_phone")
@login_required
def choose_speaker(payload, event_id: int):
    """Choose the event's speaker (organizers), to whom the answered questions are sent."""
    room = speaker.set_speaker(event_id, current_user, phone=payload["phone"], name=payload["name"], now=utcnow())
    body = {"speaker": presenters.speaker_payload(speaker.speaker_of(room))}
    db.session.commit()
    return body


@blp.route("/events/<int:event_id>/live-room/speaker/send", methods=["POST"])
@blp.response(200, SentToSpeakerSchema)
@blp.alt_response(409, schema="Error", description="no_speaker, nothing_answered")
@login_required
def send_to_speaker(event_id: int):
    """Send the questions marked answered (text, votes, when asked; anonymous ones without their author) to the
    speaker (organizers): in their inbox, and on their channels (e-mail when configured)."""
    person, sent = speaker.send_answered(event_id, current_user, now=utcnow())
    body = {"speaker": presenters.speaker_payload(person), "sent": sent}
    db.session.commit()
    return body


# ---- polls ---------------------------------------------------------------------------------------------------------

class NewPollSchema(Schema):
    question = fields.String(required=True, validate=validate.Length(max=5000),
                             metadata={"description": f"1 to {polls.MAX_POLL_QUESTION} characters"})
    options = fields.List(fields.String(validate=validate.Length(max=5000)), required=True,
                          validate=validate.Length(max=100),
                          metadata={"description": f"{polls.MIN_OPTIONS} to {polls.MAX_OPTIONS} labels, each up to "
                                                   f"{polls.MAX_OPTION} characters, all different"})
    multiple = fields.Boolean(load_default=False, metadata={"description": "several options may be chosen"})


class PollOptionSchema(Schema):
    id = Id()
    label = fields.String()
    count = fields.Integer(allow_none=True, metadata={"description": "null until the results are shown"})


class PollSchema(Schema):
    id = Id()
    event_id = Id()
    question = fields.String()
    multiple = fields.Boolean()
    status = fields.String(metadata={"description": "draft | open | closed"})
    results_shown = fields.Boolean()
    options = fields.List(fields.Nested(PollOptionSchema))
    answers = fields.Integer(allow_none=True, metadata={"description": "how many people answered (when shown)"})
    my_option_ids = fields.List(Id())


class PollListSchema(Schema):
    polls = fields.List(fields.Nested(PollSchema))
    moderator = fields.Boolean()


class PollAnswerSchema(Schema):
    option_ids = fields.List(Id(), required=True, validate=validate.Length(max=100))


class PollAnsweredSchema(Schema):
    option_ids = fields.List(Id())


class PollResultsSchema(Schema):
    shown = fields.Boolean(required=True)


def _poll_body(poll_id: int) -> dict:
    return presenters.poll_payload(polls.get_poll(poll_id, current_user))


@blp.route("/events/<int:event_id>/polls", methods=["POST"])
@blp.arguments(NewPollSchema)
@blp.response(201, PollSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@blp.alt_response(422, schema="Error", description="poll_question_empty, poll_question_too_long, poll_options, "
                                                   "poll_option_too_long, poll_options_repeated")
@login_required
def create_poll(payload, event_id: int):
    """Prepare a poll (organizers): a draft the room does not see until it is opened."""
    poll = polls.create_poll(event_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return _poll_body(poll.id)


@blp.route("/events/<int:event_id>/polls")
@blp.response(200, PollListSchema)
@blp.alt_response(403, schema="Error", description="not_attendee")
@login_required
def list_polls(event_id: int):
    """The event's polls, newest first (attendees: opened ones; organizers: drafts too)."""
    views, moderator = polls.polls_for(event_id, current_user)
    body = {"polls": [presenters.poll_payload(v) for v in views], "moderator": moderator}
    db.session.commit()
    return body


@blp.route("/polls/<int:poll_id>")
@blp.response(200, PollSchema)
@blp.alt_response(404, schema="Error", description="poll_not_found")
@login_required
def get_poll(poll_id: int):
    """One poll, with the counts when its results are shown (organizers: always), and my answer."""
    body = _poll_body(poll_id)
    db.session.commit()
    return body


@blp.route("/polls/<int:poll_id>/open", methods=["POST"])
@blp.response(200, PollSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@login_required
def open_poll(poll_id: int):
    """Open the poll for answers (organizers); opening an open poll changes nothing."""
    polls.open_poll(poll_id, current_user, now=utcnow())
    db.session.commit()
    return _poll_body(poll_id)


@blp.route("/polls/<int:poll_id>/close", methods=["POST"])
@blp.response(200, PollSchema)
@blp.alt_response(409, schema="Error", description="poll_not_open (a draft)")
@login_required
def close_poll(poll_id: int):
    """Close the poll (organizers): no answer counts after it; closing a closed poll changes nothing."""
    polls.close_poll(poll_id, current_user, now=utcnow())
    db.session.commit()
    return _poll_body(poll_id)


@blp.route("/polls/<int:poll_id>/results", methods=["POST"])
@blp.arguments(PollResultsSchema)
@blp.response(200, PollSchema)
@login_required
def show_results(payload, poll_id: int):
    """Show the results to the room and the big screen ({"shown": true}), or hide them again (organizers)."""
    polls.show_results(poll_id, current_user, shown=payload["shown"])
    db.session.commit()
    return _poll_body(poll_id)


@blp.route("/polls/<int:poll_id>/answers", methods=["POST"])
@blp.arguments(PollAnswerSchema)
@blp.response(200, PollAnsweredSchema)
@blp.alt_response(404, schema="Error", description="poll_not_found")
@blp.alt_response(409, schema="Error", description="poll_closed (not open)")
@blp.alt_response(422, schema="Error", description="invalid_options, one_option_only")
@checks_bearer_token
def answer_poll(payload, poll_id: int):
    """Answer an open poll (attendees): once per person; answering again while it is open changes the answer."""
    option_ids = payload["option_ids"]
    chosen = decided_with_bearer(  # an app: its token is checked with the answer, in a batch (live/vote_batches.py)
        lambda bearer: vote_batches.answer_together(poll_id, bearer=bearer, option_ids=option_ids, now=utcnow()))
    if chosen is None and deferred_bearer() is None:  # the page, signed in with its cookie: in a batch too
        chosen = vote_batches.answer_together(poll_id, user_id=current_user.id, option_ids=option_ids, now=utcnow())
        if isinstance(chosen, DomainError):
            raise chosen
    if chosen is None:  # not decided in a batch: alone, which says why when it refuses
        chosen = polls.answer(poll_id, current_user, option_ids=option_ids, now=utcnow())
    db.session.commit()
    return {"option_ids": chosen}


# ---- the people's choice of a competition round ---------------------------------------------------------------------

class AudienceVoteSchema(Schema):
    round_team_id = Id(required=True)


class AudienceVoteCastSchema(Schema):
    round_id = Id()
    round_team_id = Id()
    voted_at = fields.String()


class RankingRowSchema(Schema):
    rank = fields.Integer()
    round_team_id = Id()
    team_name = fields.String()
    votes = fields.Integer()


class VotableTeamSchema(Schema):
    round_team_id = Id()
    team_name = fields.String()
    on_stage = fields.Boolean()


class AudienceBoardSchema(Schema):
    round_id = Id()
    round_name = fields.String()
    teams = fields.List(fields.Nested(VotableTeamSchema),
                        metadata={"description": "the teams one may vote for now (on stage or already pitched)"})
    status = fields.String(metadata={"description": "not_opened | open | closed"})
    votes_cast = fields.Integer()
    revealed_count = fields.Integer(metadata={"description": "ranks revealed, from the bottom"})
    teams_count = fields.Integer()
    ranking = fields.List(fields.Nested(RankingRowSchema),
                          metadata={"description": "the revealed ranks (the console: every rank)"})
    my_round_team_id = fields.Integer(allow_none=True)


class AudienceRevealSchema(Schema):
    all = fields.Boolean(load_default=False, metadata={"description": "reveal every rank at once"})


def _board(round_id: int, everything: bool = False) -> dict:
    return peoples_choice.board(round_id, current_user, everything=everything)


@blp.route("/rounds/<int:round_id>/audience-vote")
@blp.response(200, AudienceBoardSchema)
@blp.alt_response(404, schema="Error", description="round_not_found")
def audience_board(round_id: int):
    """The people's choice of a round as the screen and the phones see it: the revealed ranks only
    (`?audience=console`: every rank, organizers only)."""
    body = _board(round_id, everything=request.args.get("audience") == "console")
    db.session.commit()
    return body


class AudienceBoardsSchema(Schema):
    rounds = fields.List(fields.Nested(AudienceBoardSchema))


@blp.route("/events/<int:event_id>/audience-votes")
@blp.response(200, AudienceBoardsSchema)
@blp.alt_response(403, schema="Error", description="not_attendee")
@login_required
def event_audience_boards(event_id: int):
    """The people's choice of every competition round held at this event (attendees: the rounds whose vote was
    opened, revealed ranks only; organizers: every round, every rank)."""
    event = access.participant_event(event_id, current_user)
    console = access.is_organizer(current_user, event)
    rounds = peoples_choice.rounds_of_event(event.id, opened_only=not console)
    body = {"rounds": [peoples_choice.board(r.id, current_user,
                                            everything=console and peoples_choice.runs_vote(current_user, r))
                       for r in rounds]}
    db.session.commit()
    return body


@blp.route("/rounds/<int:round_id>/audience-vote/open", methods=["POST"])
@blp.response(200, AudienceBoardSchema)
@blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
@login_required
def open_audience_vote(round_id: int):
    """Open the audience vote (the console)."""
    peoples_choice.open_vote(round_id, current_user, now=utcnow())
    db.session.commit()
    return _board(round_id, everything=True)


@blp.route("/rounds/<int:round_id>/audience-vote/close", methods=["POST"])
@blp.response(200, AudienceBoardSchema)
@blp.alt_response(409, schema="Error", description="vote_not_opened")
@login_required
def close_audience_vote(round_id: int):
    """Close the audience vote (the console): no vote counts after it."""
    peoples_choice.close_vote(round_id, current_user, now=utcnow())
    db.session.commit()
    return _board(round_id, everything=True)


@blp.route("/rounds/<int:round_id>/audience-vote/reveal", methods=["POST"])
@blp.arguments(AudienceRevealSchema)
@blp.response(200, AudienceBoardSchema)
@blp.alt_response(409, schema="Error", description="vote_still_open")
@login_required
def reveal_audience_vote(payload, round_id: int):
    """Reveal the next rank of the tally on the screen, from the bottom (or all: {"all": true}); after closing."""
    peoples_choice.reveal(round_id, current_user, all_=payload["all"])
    db.session.commit()
    return _board(round_id, everything=True)


@blp.route("/rounds/<int:round_id>/audience-votes", methods=["POST"])
@blp.arguments(AudienceVoteSchema)
@blp.response(201, AudienceVoteCastSchema)
@blp.alt_response(200, schema=AudienceVoteCastSchema, description="the same vote again: the first answer")
@blp.alt_response(403, schema="Error", description="not_admitted (not admitted at the door of the round's event)")
@blp.alt_response(404, schema="Error", description="team_not_in_round, round_not_found")
@blp.alt_response(409, schema="Error", description="vote_closed, team_not_pitched, already_voted (a vote is final; "
                                                   "details.round_team_id)")
@checks_bearer_token
def cast_audience_vote(payload, round_id: int):
    """Vote for the people's choice: one vote per person admitted at the door, for a team on stage or already
    pitched; a vote is final."""
    team_id = payload["round_team_id"]
    decided = decided_with_bearer(  # an app: its token is checked with the vote, in a batch (live/vote_batches.py)
        lambda bearer: vote_batches.vote_together(round_id, bearer=bearer, round_team_id=team_id, now=utcnow()))
    if decided is None and deferred_bearer() is None:  # the page, signed in with its cookie: in a batch too
        decided = vote_batches.vote_together(round_id, user_id=current_user.id, round_team_id=team_id, now=utcnow())
        if isinstance(decided, DomainError):
            raise decided
    if decided is None:  # not decided in a batch: alone, which says why when it refuses
        vote, new = peoples_choice.cast_vote(round_id, current_user, round_team_id=team_id, now=utcnow())
        decided = {"round_id": vote.round_id, "round_team_id": vote.round_team_id,
                   "voted_at": vote.voted_at.isoformat()}, new
    body, new = decided
    db.session.commit()
    return body, 201 if new else 200
