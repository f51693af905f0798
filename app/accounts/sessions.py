"""Sessions: one row per sign-in (and per judge pass); starting, finding, and ending them."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.accounts.models import SESSION_SCOPE_ACCOUNT, AuthSession, User
from app.accounts.roles import announce_access_changed
from app.accounts.tokens import hash_token, revoke_all_api_tokens
from app.extensions import db

SESSION_IDLE_LIMIT = timedelta(days=30)  # a sign-in unused this long ends (the remember cookie lasts no longer)
SESSION_SEEN_RECORDED_EVERY = timedelta(minutes=5)  # coarse: no write on every page


def start_session(user_id: int, *, now: datetime, scope: str = SESSION_SCOPE_ACCOUNT, origin: str | None = None,
                  user_agent: str = "", expires_at: datetime | None = None) -> str:
    """A new sign-in (or judge pass) of this person on one device. Returns its token, once (the cookie holds it;
    only its hash is kept). The caller commits."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=hash_token(token), user_id=user_id, scope=scope, origin=origin,
                               user_agent=(user_agent or "")[:120], created_at=now, last_seen_at=now,
                               expires_at=expires_at))
    return token


@functools.cache
def _session_lookup():
    """Built once: every signed-in page request runs it. The user's role grants come with it (pages check roles)."""
    return (sa.select(AuthSession.id, AuthSession.last_seen_at, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == sa.bindparam("token_hash"), AuthSession.scope == SESSION_SCOPE_ACCOUNT,
                   AuthSession.ended_at.is_(None), AuthSession.last_seen_at > sa.bindparam("idle_since"),
                   sa.or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > sa.bindparam("now")))
            .options(joinedload(User.roles)))


def user_for_session(token: str, *, now: datetime) -> tuple[User | None, bool]:
    """The active user of a live full sign-in (None for an unknown, ended, idle or blocked one), and whether this
    use was recorded (then the caller commits). One query; a write at most every few minutes per sign-in."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None, False
    row = db.session.execute(_session_lookup(), {"token_hash": hash_token(token), "now": now,
                                                 "idle_since": now - SESSION_IDLE_LIMIT}).unique().first()
    if row is None or not row.User.is_active:
        return None, False
    if now - row.last_seen_at > SESSION_SEEN_RECORDED_EVERY:
        db.session.execute(sa.update(AuthSession).where(AuthSession.id == row.id).values(last_seen_at=now)
                           .execution_options(synchronize_session=False))
        return row.User, True
    return row.User, False


def pass_holders(tokens: list[str], *, scope: str, now: datetime) -> list[int]:
    """The users whose live passes of `scope` (e.g. "judging:competition:3") are among these tokens (a device's)."""
    tokens = [t for t in tokens or () if isinstance(t, str) and 20 <= len(t) <= 100][:10]
    if not tokens:
        return []
    return list(db.session.scalars(
        sa.select(AuthSession.user_id).join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash.in_([hash_token(t) for t in tokens]), AuthSession.scope == scope,
               AuthSession.ended_at.is_(None), User.is_active_account.is_(True),
               sa.or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now))))


def live_pass_origins(tokens: list[str], *, now: datetime) -> set[str]:
    """The origins ("judge:<id>") of the live passes among these tokens."""
    tokens = [t for t in tokens or () if isinstance(t, str) and 20 <= len(t) <= 100][:10]
    if not tokens:
        return set()
    return set(db.session.scalars(
        sa.select(AuthSession.origin).where(AuthSession.token_hash.in_([hash_token(t) for t in tokens]),
                                            AuthSession.scope != SESSION_SCOPE_ACCOUNT,
                                            AuthSession.ended_at.is_(None),
                                            sa.or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now))))


def live_pass_user_ids(tokens, *, now: datetime) -> set[int]:
    """The people whose live passes (any scope but a full sign-in) are among these tokens (a device's), active
    accounts only."""
    tokens = [t for t in tokens or () if isinstance(t, str) and 20 <= len(t) <= 100][:10]
    if not tokens:
        return set()
    return set(db.session.scalars(
        sa.select(AuthSession.user_id).join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash.in_([hash_token(t) for t in tokens]), AuthSession.scope != SESSION_SCOPE_ACCOUNT,
               AuthSession.ended_at.is_(None), User.is_active_account.is_(True),
               sa.or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now))))


def end_sessions(tokens: list[str], *, now: datetime) -> set[int]:
    """Sign out on one device: its sign-in and its passes end, for every copy of its cookies. Returns the user ids
    whose access changed (access_changed is sent for each). The caller commits."""
    hashes = [hash_token(t) for t in tokens if isinstance(t, str) and t]
    if not hashes:
        return set()
    user_ids = set(db.session.scalars(sa.select(AuthSession.user_id).where(AuthSession.token_hash.in_(hashes),
                                                                           AuthSession.ended_at.is_(None))))
    db.session.execute(sa.update(AuthSession).where(AuthSession.token_hash.in_(hashes),
                                                    AuthSession.ended_at.is_(None)).values(ended_at=now)
                       .execution_options(synchronize_session=False))
    for user_id in user_ids:
        announce_access_changed(user_id)
    return user_ids


def end_sessions_of_origin(origin: str, *, now: datetime) -> int:
    """End the passes an invitation made (a new invitation replaces it). The caller commits."""
    user_ids = set(db.session.scalars(sa.select(AuthSession.user_id).where(AuthSession.origin == origin,
                                                                           AuthSession.ended_at.is_(None))))
    ended = db.session.execute(sa.update(AuthSession).where(AuthSession.origin == origin,
                                                            AuthSession.ended_at.is_(None)).values(ended_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    for user_id in user_ids:
        announce_access_changed(user_id)
    return ended


def sign_out_everywhere(user: User, *, now: datetime) -> int:
    """End every sign-in and judge pass of this person and revoke every API token: every device, cookie copy and
    API client asks again. Returns how many sessions ended. The caller commits."""
    ended = db.session.execute(sa.update(AuthSession).where(AuthSession.user_id == user.id,
                                                            AuthSession.ended_at.is_(None)).values(ended_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    revoke_all_api_tokens(user, now=now)
    announce_access_changed(user.id)
    return ended
