"""Judges and their invitations. An organizer invites a judge by mobile number; the one-time link goes by SMS to the
judge's own phone alone (after COMMIT) and through judging.signals.judge_invited to their own inbox. Opening it
works once, on one device, before it expires (one conditional UPDATE), and gives that device a judge pass (judging
of one competition, never a sign-in; app.accounts). A new link ends the old one, used or not, and the passes it
made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.accounts.phones import normalise_phone
from app.accounts.services import end_sessions_of_origin, get_or_create_user, grant_role
from app.accounts.signals import access_changed
from app.accounts.tasks import send_sms
from app.authz import scope_key
from app.errors import DomainError, NotFound
from app.extensions import db
from app.tasks import enqueue_after_commit
from judging import signals
from judging.models import AuditEntry, CompetitionRound, Judge
from judging.services.access import authorize_organizer, get_round, judge_of, judges_of, pass_origin
from judging.services.base import audit, iso

INVITE_VALID_FOR = timedelta(days=14)
MAX_JUDGES = 60


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_path(token: str) -> str:
    return f"/judging/invite/{token}"


def _new_invitation(judge: Judge, *, now: datetime) -> str:
    """A new link for this judge: the old one stops working, used or not, and so do the passes it made."""
    token = secrets.token_urlsafe(24)
    judge.invite_token_hash = _token_hash(token)
    judge.invite_expires_at = now + INVITE_VALID_FOR
    judge.invite_used_at = None
    judge.invite_sent_at = now
    if judge.id is not None:
        end_sessions_of_origin(pass_origin(judge), now=now)
    return token


def _send_invitation_sms(user: User, round_: CompetitionRound, token: str, *, is_shadow: bool) -> None:
    """The link goes to the judge's own phone alone, by the sign-in SMS provider, after COMMIT."""
    url = current_app.config["SERVER_NAME_FOR_LINKS"].rstrip("/") + invite_path(token)
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = (_("[Beiyang Town] You are invited to shadow-judge %(round)s. Open on your phone to score (for you "
                  "alone, on one device; do not forward): %(url)s", round=round_.name, url=url) if is_shadow else
                _("[Beiyang Town] You are invited to judge %(round)s. Open on your phone to score (for you alone, "
                  "on one device; do not forward): %(url)s", round=round_.name, url=url))
    enqueue_after_commit(send_sms, user.phone, body)


def add_judge(round_id: int, organizer, *, phone: str, name: str = "", shadow: bool = False,
              now: datetime) -> tuple[Judge, str]:
    """Invite a judge to a round by mobile number (an account is created for a new number). Returns the judge and
    the one-time invitation token (its link is sent through the judge_invited signal). Inviting again the same
    person sends a fresh link and keeps their scores."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    e164 = normalise_phone(phone)
    user = get_or_create_user(e164, now=now, name=(name or "").strip()[:80])
    if name and not user.name:
        user.name = name.strip()[:80]
    judge = judge_of(round_.id, user)
    if judge is None:
        if len(judges_of(round_.id)) >= MAX_JUDGES:
            raise DomainError("too_many_judges", _l("At most %(n)d judges per round.", n=MAX_JUDGES), status=409)
        judge = Judge(round_id=round_.id, user_id=user.id, is_shadow=bool(shadow), created_at=now)
        db.session.add(judge)
    else:
        judge.is_shadow = bool(shadow)
    grant_role(user, "judge", scope_key("competition", round_.competition_id))
    token = _new_invitation(judge, now=now)
    db.session.flush()
    _send_invitation_sms(user, round_, token, is_shadow=judge.is_shadow)
    # A judge may no longer watch the round's live leaderboard: open connections follow (judging.realtime).
    access_changed.send(None, user_id=user.id)
    audit(round_.id, organizer, "judge_invited", now=now, judge_id=judge.id, shadow=judge.is_shadow)
    signals.judge_invited.send(None, competition_id=round_.competition_id, round_id=round_.id, judge_id=judge.id,
                               user_id=user.id, invite_path=invite_path(token), expires_at=judge.invite_expires_at,
                               is_shadow=judge.is_shadow)
    return judge, token


def reissue_invitation(judge_id: int, organizer, *, now: datetime, round_id: int | None = None) -> tuple[Judge, str]:
    """Re-send a judge's invitation: a new link (the old one stops working, used or not), sent again through
    judge_invited. `round_id`, when given, must be the judge's round."""
    judge = db.session.get(Judge, judge_id) if isinstance(judge_id, int) else None
    if judge is None or (round_id is not None and judge.round_id != round_id):
        raise NotFound("judge_not_found", _l("This judge does not exist."))
    round_ = get_round(judge.round_id)
    authorize_organizer(organizer, round_)
    token = _new_invitation(judge, now=now)
    db.session.flush()
    _send_invitation_sms(db.session.get(User, judge.user_id), round_, token, is_shadow=judge.is_shadow)
    audit(round_.id, organizer, "invitation_resent", now=now, judge_id=judge.id)
    signals.judges_changed.send(None, round_id=round_.id)  # the console shows "re-sent · time" at once
    signals.judge_invited.send(None, competition_id=round_.competition_id, round_id=round_.id, judge_id=judge.id,
                               user_id=judge.user_id, invite_path=invite_path(token),
                               expires_at=judge.invite_expires_at, is_shadow=judge.is_shadow)
    return judge, token


def invitation_status(judge: Judge, *, resent_at: datetime | None = None) -> dict:
    """What organizers see of an invitation: that it was sent, when, whether it was opened, and when it was last
    sent again (when the caller knows: resent_times); never the link."""
    status = {"sent_at": iso(judge.invite_sent_at), "expires_at": iso(judge.invite_expires_at),
              "opened_at": iso(judge.invite_used_at)}
    if resent_at is not None:
        status["resent_at"] = iso(resent_at)
    return status


def resent_times(round_id: int) -> dict[int, datetime]:
    """When each judge's invitation of this round was last sent again (the organizers' audit trail)."""
    rows = db.session.execute(sa.select(AuditEntry.details, AuditEntry.created_at).where(
        AuditEntry.round_id == round_id, AuditEntry.action == "invitation_resent").order_by(AuditEntry.id))
    return {row.details.get("judge_id"): row.created_at for row in rows if isinstance(row.details, dict)}


def judge_by_invitation(token: str) -> Judge | None:
    if not isinstance(token, str) or not 8 <= len(token) <= 100:
        return None
    return db.session.scalars(sa.select(Judge).where(Judge.invite_token_hash == _token_hash(token))).first()


def redeem_invitation(token: str, *, now: datetime) -> tuple[Judge, User]:
    """The judge opened their link: it works once (on one device), before it expires. Returns the judge and the
    account whose judge pass the caller makes on this device (a pass, never a sign-in). invite_invalid (404),
    invite_used (410: opened on another device), invite_expired (410)."""
    if not isinstance(token, str) or not 8 <= len(token) <= 100:
        raise NotFound("invite_invalid", _l("This invitation link is not valid."))
    digest = _token_hash(token)
    used = db.session.execute(
        sa.update(Judge).where(Judge.invite_token_hash == digest, Judge.invite_used_at.is_(None),
                               Judge.invite_expires_at > now)
        .values(invite_used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    judge = db.session.scalars(sa.select(Judge).where(Judge.invite_token_hash == digest)
                               .execution_options(populate_existing=True)).first()
    if judge is None:
        raise NotFound("invite_invalid", _l("This invitation link is not valid."))
    if not used:
        if judge.invite_used_at is not None:
            raise DomainError("invite_used", _l("This invitation link was already opened on another device. Ask "
                                                "the organizers to send it again."), status=410)
        raise DomainError("invite_expired", _l("This invitation link has expired. Ask the organizers for a new "
                                               "one."), status=410)
    signals.judges_changed.send(None, round_id=judge.round_id)  # the console shows "opened" at once
    return judge, db.session.get(User, judge.user_id)
