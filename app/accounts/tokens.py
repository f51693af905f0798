"""API tokens: issuing bearer tokens, finding the person behind one (the hot path), revoking them."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.accounts.models import ApiToken, User
from app.accounts.roles import announce_access_changed
from app.errors import Unauthorized
from app.extensions import db

TOKEN_PREFIX = "bye_"  # noqa: S105  (a public prefix, so leaked tokens are recognisable)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User, *, name: str = "", now: datetime) -> str:
    """Create a bearer token; the plain token is returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), prefix=token[:12], name=name[:80],
                            created_at=now))
    return token


TOKEN_USE_RECORDED_EVERY = timedelta(minutes=5)  # coarse, so a busy scanner does not write on every scan


def _use_is_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token's use is to be recorded now: never recorded yet, or last recorded over
    TOKEN_USE_RECORDED_EVERY ago."""
    return last_used_at is None or now - last_used_at > TOKEN_USE_RECORDED_EVERY


@functools.cache
def _token_lookup():
    """Built once: every API request runs it, and building the statement cost more than running it. The user's
    role grants come with it (a join, one row per grant): most API calls check a role, and a second query for them
    cost a scan at the door as much as this one."""
    return (sa.select(ApiToken.id, ApiToken.token_hash, ApiToken.last_used_at, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash.in_(sa.bindparam("hashes", expanding=True)), ApiToken.revoked_at.is_(None))
            .options(joinedload(User.roles)))


def user_for_api_token(token: str, *, now: datetime) -> tuple[User, bool]:
    """The active user behind a bearer token (or invalid_token), and whether this use was recorded (then the caller
    commits it). One query on the hot path."""
    user, _token_id, recorded = user_and_token_id_for_api_token(token, now=now)
    return user, recorded


def user_and_token_id_for_api_token(token: str, *, now: datetime) -> tuple[User, int, bool]:
    """user_for_api_token, with the token's id (a Socket.IO connection remembers it, to be checked again later with
    user_for_api_token_id)."""
    rows = db.session.execute(_token_lookup(), {"hashes": [hash_token(token or "")]}).unique().all()
    row = rows[0] if rows else None
    if row is None or not row.User.is_active:
        raise Unauthorized("invalid_token", _l("This API token is unknown or revoked."))
    if _use_is_due(row.last_used_at, now):
        _touch_token(row.id, now)
        return row.User, row.id, True
    return row.User, row.id, False


@functools.cache
def _token_state():
    return (sa.select(ApiToken.id, ApiToken.last_used_at).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == sa.bindparam("hash"), ApiToken.revoked_at.is_(None),
                   User.is_active_account.is_(True)))


def api_token_is_valid(token: str, *, now: datetime) -> bool:
    """Whether a bearer token would sign its person in (user_for_api_token's rules), without loading them: for a read
    whose answer is the same whoever asks (app.page_cache). Its use is recorded as there, and committed here.
    Read on the engine's own connection: such a request opens no ORM session."""
    with db.engine.connect() as connection:
        row = connection.execute(_token_state(), {"hash": hash_token(token)}).first()
    if row is None:
        return False
    if _use_is_due(row.last_used_at, now):
        _touch_token(row.id, now)
        db.session.commit()
    return True


def user_for_api_token_id(token_id: int) -> User | None:
    """The active user of the API token with this id, if the token is still valid (not revoked), else None."""
    user = db.session.scalars(sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
                              .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))).first()
    return user if user is not None and user.is_active else None


def users_for_api_tokens(tokens: list[str], *, now: datetime) -> dict[str, User]:
    """user_for_api_token for many tokens in one query: the active users by token (a token unknown, revoked or
    of a blocked account is left out), their uses recorded in the same way (the caller commits)."""
    hashes = {hash_token(token or ""): token for token in tokens}
    rows = db.session.execute(_token_lookup(), {"hashes": sorted(hashes)}).unique().all()
    users = {hashes[row.token_hash]: row.User for row in rows if row.User.is_active}
    stale = [row.id for row in rows if row.User.is_active
             and _use_is_due(row.last_used_at, now)]
    if stale:
        _touch_token(stale, now)
    return users


def _touch_token(token_ids: int | list[int], now: datetime) -> None:
    """Record the use (the caller commits it); a Core UPDATE, so no loaded object is expired by it."""
    ids = token_ids if isinstance(token_ids, list) else [token_ids]
    db.session.execute(sa.update(ApiToken).where(ApiToken.id.in_(ids)).values(last_used_at=now)
                       .execution_options(synchronize_session=False, pages_unchanged=True))


def revoke_api_token(token: str, *, now: datetime) -> None:
    """Revoke one bearer token; connections opened with it are closed (access_changed)."""
    user_ids = db.session.scalars(
        sa.update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.user_id)
    ).all()
    for user_id in set(user_ids):
        announce_access_changed(user_id)


def revoke_all_api_tokens(user: User, *, now: datetime) -> int:
    """Revoke every bearer token of a person; connections opened with them are closed (access_changed)."""
    count = db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount
    if count:
        announce_access_changed(user.id)
    return count
