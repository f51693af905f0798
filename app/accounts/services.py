"""Rules of accounts: one-time codes, sign-in, profiles, roles, API tokens. No request objects in here."""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.accounts.models import (
    PERSONAS,
    SESSION_SCOPE_ACCOUNT,
    ApiToken,
    AuthSession,
    OneTimeCode,
    RoleGrant,
    SignInCodeEvent,
    User,
)
from app.accounts.phones import normalise_phone
from app.accounts.signals import access_changed, profile_changed
from app.accounts.tasks import send_sms
from app.authz import GLOBAL_SCOPE, ROLES
from app.db_types import utcnow
from app.errors import DomainError, Unauthorized
from app.extensions import db
from app.tasks import enqueue_after_commit

MAX_INTERESTS = 10
TOKEN_PREFIX = "bye_"  # noqa: S105  (a public prefix, so leaked tokens are recognisable)


# ---- one-time codes -------------------------------------------------------------------------------------------

def _code_hash(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    phone: str
    code: str
    expires_at: datetime


def request_login_code(raw_phone: str, *, now: datetime, requested_from: str | None = None,
                       locale: str | None = None) -> IssuedCode:
    """Create a fresh code for a phone (earlier unused codes stop working) and send it by SMS after commit."""
    phone = normalise_phone(raw_phone)
    config = current_app.config
    _refuse_while_locked(phone, now)
    _refuse_beyond_daily_caps(phone, requested_from, now)
    db.session.execute(sa.delete(SignInCodeEvent).where(SignInCodeEvent.at < now - CODE_EVENTS_KEPT))
    db.session.add(SignInCodeEvent(phone=phone, address=requested_from, kind="sent", at=now))
    code = "".join(secrets.choice("0123456789") for _ in range(config["OTP_LENGTH"]))
    db.session.execute(
        sa.update(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    expires_at = now + timedelta(seconds=config["OTP_TTL_SECONDS"])
    db.session.add(OneTimeCode(phone=phone, code_hash=_code_hash(phone, code), created_at=now,
                               expires_at=expires_at, requested_from=requested_from))
    minutes = config["OTP_TTL_SECONDS"] // 60
    with force_locale(locale or config["BABEL_DEFAULT_LOCALE"]):
        body = _("[Beiyang Town] Your sign-in code is %(code)s, valid for %(minutes)d minutes. "
                 "Do not share it with anyone.", code=code, minutes=minutes)
    enqueue_after_commit(send_sms, phone, body)
    return IssuedCode(phone=phone, code=code, expires_at=expires_at)


def verify_login_code(raw_phone: str, code: str, *, now: datetime) -> User:
    """Check a code and return the user (created on first sign-in). Each try is counted in the database,
    so parallel guesses cannot exceed the attempt limit."""
    phone = normalise_phone(raw_phone)
    code = (code or "").strip()
    max_attempts = current_app.config["OTP_MAX_ATTEMPTS"]
    _refuse_while_locked(phone, now)
    otp = db.session.scalars(
        sa.select(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.consumed_at.is_(None))
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    ).first()
    if otp is None:
        raise DomainError("code_invalid", _l("This code is not valid. Please ask for a new one."))
    if otp.expires_at <= now:
        raise DomainError("code_expired", _l("This code has expired. Please ask for a new one."))
    counted = db.session.execute(
        sa.update(OneTimeCode)
        .where(OneTimeCode.id == otp.id, OneTimeCode.attempts < max_attempts, OneTimeCode.consumed_at.is_(None))
        .values(attempts=OneTimeCode.attempts + 1)
    ).rowcount
    if not counted:
        raise DomainError("too_many_attempts", _l("Too many wrong codes. Please ask for a new one."), status=429)
    if not hmac.compare_digest(otp.code_hash, _code_hash(phone, code)):
        # The one commit inside a service: a wrong guess must stay counted although the caller will roll back.
        locked = _count_wrong_code(phone, now)
        db.session.commit()
        if locked:
            _refuse_while_locked(phone, now)
        db.session.refresh(otp)
        remaining = max(0, max_attempts - otp.attempts)
        if remaining == 0:
            raise DomainError("too_many_attempts", _l("Too many wrong codes. Please ask for a new one."), status=429)
        raise DomainError("code_wrong", _l("Wrong code. %(remaining)d tries left.", remaining=remaining),
                          remaining_attempts=remaining)
    consumed = db.session.execute(
        sa.update(OneTimeCode)
        .where(OneTimeCode.id == otp.id, OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=now)
    ).rowcount
    if not consumed:  # the same code was used at the same moment by another request
        raise DomainError("code_invalid", _l("This code is not valid. Please ask for a new one."))
    user = get_or_create_user(phone, now=now)
    user.last_login_at = now
    return user


# Caps and the lock-out count events of the last CODE_CAP_WINDOW (config OTP_DAILY_*, OTP_LOCKOUT_*; the numbers and
# why: docs/decisions.md), in the database, so every worker and instance sees the same counts.
CODE_CAP_WINDOW = timedelta(hours=24)
CODE_EVENTS_KEPT = timedelta(hours=48)


def _when(moment: datetime) -> str:
    """A moment people read in their language and timezone, e.g. 2026/12/5 16:30."""
    return format_datetime(moment, "short")


def _retry_details(moment: datetime, now: datetime) -> dict:
    return {"retry_at": moment.isoformat(), "retry_after_seconds": max(1, int((moment - now).total_seconds()) + 1)}


def code_lock_until(phone: str, now: datetime) -> datetime | None:
    """Until when sign-in codes are refused for this phone after too many wrong codes, or None."""
    began = db.session.scalar(
        sa.select(sa.func.max(SignInCodeEvent.at))
        .where(SignInCodeEvent.phone == phone, SignInCodeEvent.kind == "locked",
               SignInCodeEvent.at > now - timedelta(hours=current_app.config["OTP_LOCKOUT_HOURS"]),
               SignInCodeEvent.at <= now)
    )
    return began + timedelta(hours=current_app.config["OTP_LOCKOUT_HOURS"]) if began else None


def _refuse_while_locked(phone: str, now: datetime) -> None:
    until = code_lock_until(phone, now)
    if until is not None:
        raise DomainError("sign_in_locked",
                          _l("Too many wrong codes for this number. To keep the account safe, signing in with it "
                             "is paused until %(when)s.", when=_when(until)), status=429, **_retry_details(until, now))


def _cap_reached_until(column, value: str, kind: str, cap: int, now: datetime) -> datetime | None:
    """When the count of `kind` events for `value` in the window drops below `cap` again, if it is reached now:
    the moment the oldest of the last `cap` events leaves the window."""
    oldest_of_last = db.session.scalar(
        sa.select(SignInCodeEvent.at)
        .where(column == value, SignInCodeEvent.kind == kind, SignInCodeEvent.at > now - CODE_CAP_WINDOW,
               SignInCodeEvent.at <= now)
        .order_by(SignInCodeEvent.at.desc()).offset(cap - 1).limit(1)
    )
    return oldest_of_last + CODE_CAP_WINDOW if oldest_of_last else None


def _refuse_beyond_daily_caps(phone: str, address: str | None, now: datetime) -> None:
    config = current_app.config
    cap = config["OTP_DAILY_PER_PHONE"]
    until = _cap_reached_until(SignInCodeEvent.phone, phone, "sent", cap, now)
    if until is not None:
        raise DomainError("daily_code_limit",
                          _l("This number has received %(count)d codes in the last 24 hours. Please try again "
                             "after %(when)s.", count=cap, when=_when(until)), status=429, **_retry_details(until, now))
    if address:
        until = _cap_reached_until(SignInCodeEvent.address, address, "sent", config["OTP_DAILY_PER_ADDRESS"], now)
        if until is not None:
            raise DomainError("daily_code_limit_address",
                              _l("Too many codes were requested from your network in the last 24 hours. Please try "
                                 "again after %(when)s.", when=_when(until)), status=429,
                              **_retry_details(until, now))


def _count_wrong_code(phone: str, now: datetime) -> bool:
    """Count a wrong code for this phone, across all its codes; True when that begins a lock-out. Each wrong code
    once the window holds OTP_LOCKOUT_WRONG of them locks again: after a lock-out, one guess per lock-out."""
    db.session.add(SignInCodeEvent(phone=phone, kind="wrong", at=now))
    db.session.flush()
    threshold = current_app.config["OTP_LOCKOUT_WRONG"]
    if _cap_reached_until(SignInCodeEvent.phone, phone, "wrong", threshold, now) is None:
        return False
    db.session.add(SignInCodeEvent(phone=phone, kind="locked", at=now))
    return True


# ---- users and profiles --------------------------------------------------------------------------------------

def get_or_create_user(phone: str, *, now: datetime | None = None, name: str = "") -> User:
    """Find a user by E.164 phone, or create one. Safe against two first sign-ins at the same moment."""
    user = db.session.scalars(sa.select(User).where(User.phone == phone)).first()
    if user is not None:
        return user
    try:
        with db.session.begin_nested():
            user = User(phone=phone, name=name, created_at=now or utcnow(), interests=[])
            db.session.add(user)
    except sa.exc.IntegrityError:
        user = db.session.scalars(sa.select(User).where(User.phone == phone)).one()
    return user


def update_profile(user: User, *, name: str, company: str = "", title: str = "", persona: str = "other",
                   interests: list[str] | None = None, email: str | None = None, now: datetime) -> User:
    """Fill in or change the profile that every later sign-up reuses."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _l("Please enter your name.")
    elif len(name) > 80:
        errors["name"] = _l("At most %(n)d characters.", n=80)
    if len(company or "") > 120:
        errors["company"] = _l("At most %(n)d characters.", n=120)
    if len(title or "") > 80:
        errors["title"] = _l("At most %(n)d characters.", n=80)
    if persona not in PERSONAS:
        errors["persona"] = _l("Please choose one of the options.")
    cleaned_interests = _clean_interests(interests or [])
    if len(cleaned_interests) > MAX_INTERESTS:
        errors["interests"] = _l("At most %(n)d interests.", n=MAX_INTERESTS)
    email = (email or "").strip() or None
    if email and ("@" not in email or len(email) > 254 or " " in email):
        errors["email"] = _l("This is not a valid e-mail address.")
    if errors:
        raise DomainError("invalid_profile", _l("Please correct the highlighted fields."),
                          fields={k: str(v) for k, v in errors.items()})
    user.name = name
    user.company = (company or "").strip()
    user.title = (title or "").strip()
    user.persona = persona
    user.interests = cleaned_interests
    user.email = email
    if user.profile_completed_at is None:
        user.profile_completed_at = now
    profile_changed.send(None, user_id=user.id)  # every open page and app of theirs hears it (app.realtime)
    return user


def _clean_interests(raw: list[str] | str) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace("，", ",").replace("、", ",").split(",")
    seen: list[str] = []
    for item in raw:
        tag = str(item).strip()[:30]
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise DomainError("invalid_locale", _l("This language is not available."))
    user.locale = locale


# ---- roles ---------------------------------------------------------------------------------------------------

def grant_role(user: User, role: str, scope: str = GLOBAL_SCOPE) -> RoleGrant:
    """Give `user` a role (idempotent)."""
    if role not in ROLES:
        raise DomainError("invalid_role", _l("Unknown role."))
    for grant in user.roles:
        if grant.role == role and grant.scope == scope:
            return grant
    grant = RoleGrant(role=role, scope=scope)
    user.roles.append(grant)
    return grant


def revoke_role(user: User, role: str, scope: str = GLOBAL_SCOPE) -> None:
    """Take a role away; the person's open connections leave the rooms it let them into (access_changed)."""
    kept = [g for g in user.roles if not (g.role == role and g.scope == scope)]
    if len(kept) != len(user.roles):
        user.roles[:] = kept
        _access_changed(user.id)


def set_account_active(user: User, active: bool) -> None:
    """Block (False) or unblock (True) an account. A blocked account signs in nowhere: its cookies, tokens and open
    Socket.IO connections stop working at once (every check reads is_active_account; access_changed)."""
    if user.is_active_account != bool(active):
        user.is_active_account = bool(active)
        _access_changed(user.id)


def _access_changed(user_id: int | None) -> None:
    """Sent inside the caller's transaction; receivers act after COMMIT (app.accounts.signals)."""
    if user_id is not None:
        access_changed.send(None, user_id=user_id)


def create_users(phones: list[str], *, name: str = "", role: str | None = None, now: datetime) -> list[User]:
    """Create (or find) users by phone, in the order given; optionally grant a global role. All or nothing.
    A name completes the profile (the name is all a profile needs), so the person can sign up at once."""
    name = (name or "").strip()
    if len(name) > 80:
        raise DomainError("invalid_name", _l("At most %(n)d characters.", n=80))
    normalised = []
    for raw in phones:
        try:
            normalised.append(normalise_phone(raw))
        except DomainError as error:
            raise DomainError(error.code, error.message, phone=raw) from None
    users = []
    for phone in normalised:
        user = get_or_create_user(phone, now=now, name=name)
        if name and not user.name:
            user.name = name
        _complete_profile_if_named(user, now)
        if role and role != "resident":
            grant_role(user, role)
        users.append(user)
    return users


def import_users(csv_text: str, *, now: datetime) -> list[User]:
    """Import users from CSV with a header: phone (required), name, company, title, persona, role, email.
    Every row is checked first; one bad row rejects the file with its line number."""
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    if not reader.fieldnames or "phone" not in [f.strip().lower() for f in reader.fieldnames]:
        raise DomainError("invalid_csv", _l("The CSV needs a header row with a 'phone' column."))
    rows = []
    for line_no, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            phone = normalise_phone(row.get("phone", ""))
        except DomainError:
            raise DomainError("invalid_csv", _l("Line %(line)d: not a valid mobile number.", line=line_no)) from None
        role = row.get("role") or None
        if role and role not in ROLES:
            raise DomainError("invalid_csv", _l("Line %(line)d: unknown role.", line=line_no))
        if len(row.get("name", "")) > 80:
            raise DomainError("invalid_csv", _l("Line %(line)d: the name has more than %(n)d characters.",
                                                line=line_no, n=80))
        persona = row.get("persona") or "other"
        if persona not in PERSONAS:
            raise DomainError("invalid_csv", _l("Line %(line)d: unknown persona.", line=line_no))
        rows.append((phone, row, role, persona))
    users = []
    for phone, row, role, persona in rows:
        user = get_or_create_user(phone, now=now)
        for field in ("name", "company", "title", "email"):
            if row.get(field):
                setattr(user, field, row[field])
        user.persona = persona
        _complete_profile_if_named(user, now)
        if role and role != "resident":
            grant_role(user, role)
        users.append(user)
    return users


def _complete_profile_if_named(user: User, now: datetime) -> None:
    """An admin who gives the name has filled in what the profile requires (update_profile's rule)."""
    if (user.name or "").strip() and user.profile_completed_at is None:
        user.profile_completed_at = now


def find_user_by_phone(raw_phone: str) -> User:
    phone = normalise_phone(raw_phone)
    user = db.session.scalars(sa.select(User).where(User.phone == phone)).first()
    if user is None:
        raise DomainError("unknown_user", _l("No user has this phone number."), status=404)
    return user


# ---- API tokens ----------------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User, *, name: str = "", now: datetime) -> str:
    """Create a bearer token; the plain token is returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_hash(token), prefix=token[:12], name=name[:80],
                            created_at=now))
    return token


TOKEN_USE_RECORDED_EVERY = timedelta(minutes=5)  # coarse, so a busy scanner does not write on every scan


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
    rows = db.session.execute(_token_lookup(), {"hashes": [_token_hash(token or "")]}).unique().all()
    row = rows[0] if rows else None
    if row is None or not row.User.is_active:
        raise Unauthorized("invalid_token", _l("This API token is unknown or revoked."))
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RECORDED_EVERY:
        _touch_token(row.id, now)
        return row.User, row.id, True
    return row.User, row.id, False


def user_for_api_token_id(token_id: int) -> User | None:
    """The active user of the API token with this id, if the token is still valid (not revoked), else None."""
    user = db.session.scalars(sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
                              .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))).first()
    return user if user is not None and user.is_active else None


def users_for_api_tokens(tokens: list[str], *, now: datetime) -> dict[str, User]:
    """user_for_api_token for many tokens in one query: the active users by token (a token unknown, revoked or
    of a blocked account is left out), their uses recorded in the same way (the caller commits)."""
    hashes = {_token_hash(token or ""): token for token in tokens}
    rows = db.session.execute(_token_lookup(), {"hashes": sorted(hashes)}).unique().all()
    users = {hashes[row.token_hash]: row.User for row in rows if row.User.is_active}
    stale = [row.id for row in rows if row.User.is_active
             and (row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RECORDED_EVERY)]
    if stale:
        _touch_token(stale, now)
    return users


def _touch_token(token_ids: int | list[int], now: datetime) -> None:
    """Record the use (the caller commits it); a Core UPDATE, so no loaded object is expired by it."""
    ids = token_ids if isinstance(token_ids, list) else [token_ids]
    db.session.execute(sa.update(ApiToken).where(ApiToken.id.in_(ids)).values(last_used_at=now)
                       .execution_options(synchronize_session=False))


def revoke_api_token(token: str, *, now: datetime) -> None:
    """Revoke one bearer token; connections opened with it are closed (access_changed)."""
    user_ids = db.session.scalars(
        sa.update(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.user_id)
    ).all()
    for user_id in set(user_ids):
        _access_changed(user_id)


def revoke_all_api_tokens(user: User, *, now: datetime) -> int:
    """Revoke every bearer token of a person; connections opened with them are closed (access_changed)."""
    count = db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount
    if count:
        _access_changed(user.id)
    return count


# ---- sessions: one row per sign-in (and per judge pass) --------------------------------------------------------

SESSION_IDLE_LIMIT = timedelta(days=30)  # a sign-in unused this long ends (the remember cookie lasts no longer)
SESSION_SEEN_RECORDED_EVERY = timedelta(minutes=5)  # coarse: no write on every page


def start_session(user_id: int, *, now: datetime, scope: str = SESSION_SCOPE_ACCOUNT, origin: str | None = None,
                  user_agent: str = "", expires_at: datetime | None = None) -> str:
    """A new sign-in (or judge pass) of this person on one device. Returns its token, once (the cookie holds it;
    only its hash is kept). The caller commits."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=_token_hash(token), user_id=user_id, scope=scope, origin=origin,
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
    row = db.session.execute(_session_lookup(), {"token_hash": _token_hash(token), "now": now,
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
        .where(AuthSession.token_hash.in_([_token_hash(t) for t in tokens]), AuthSession.scope == scope,
               AuthSession.ended_at.is_(None), User.is_active_account.is_(True),
               sa.or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now))))


def live_pass_origins(tokens: list[str], *, now: datetime) -> set[str]:
    """The origins ("judge:<id>") of the live passes among these tokens."""
    tokens = [t for t in tokens or () if isinstance(t, str) and 20 <= len(t) <= 100][:10]
    if not tokens:
        return set()
    return set(db.session.scalars(
        sa.select(AuthSession.origin).where(AuthSession.token_hash.in_([_token_hash(t) for t in tokens]),
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
        .where(AuthSession.token_hash.in_([_token_hash(t) for t in tokens]), AuthSession.scope != SESSION_SCOPE_ACCOUNT,
               AuthSession.ended_at.is_(None), User.is_active_account.is_(True),
               sa.or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now))))


def end_sessions(tokens: list[str], *, now: datetime) -> set[int]:
    """Sign out on one device: its sign-in and its passes end, for every copy of its cookies. Returns the user ids
    whose access changed (access_changed is sent for each). The caller commits."""
    hashes = [_token_hash(t) for t in tokens if isinstance(t, str) and t]
    if not hashes:
        return set()
    user_ids = set(db.session.scalars(sa.select(AuthSession.user_id).where(AuthSession.token_hash.in_(hashes),
                                                                           AuthSession.ended_at.is_(None))))
    db.session.execute(sa.update(AuthSession).where(AuthSession.token_hash.in_(hashes),
                                                    AuthSession.ended_at.is_(None)).values(ended_at=now)
                       .execution_options(synchronize_session=False))
    for user_id in user_ids:
        _access_changed(user_id)
    return user_ids


def end_sessions_of_origin(origin: str, *, now: datetime) -> int:
    """End the passes an invitation made (a new invitation replaces it). The caller commits."""
    user_ids = set(db.session.scalars(sa.select(AuthSession.user_id).where(AuthSession.origin == origin,
                                                                           AuthSession.ended_at.is_(None))))
    ended = db.session.execute(sa.update(AuthSession).where(AuthSession.origin == origin,
                                                            AuthSession.ended_at.is_(None)).values(ended_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    for user_id in user_ids:
        _access_changed(user_id)
    return ended


def sign_out_everywhere(user: User, *, now: datetime) -> int:
    """End every sign-in and judge pass of this person and revoke every API token: every device, cookie copy and
    API client asks again. Returns how many sessions ended. The caller commits."""
    ended = db.session.execute(sa.update(AuthSession).where(AuthSession.user_id == user.id,
                                                            AuthSession.ended_at.is_(None)).values(ended_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    revoke_all_api_tokens(user, now=now)
    _access_changed(user.id)
    return ended
