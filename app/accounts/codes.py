"""One-time sign-in codes: issuing and checking them, with the daily caps and the lock-out after wrong codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.accounts.models import OneTimeCode, SignInCodeEvent, User
from app.accounts.phones import normalise_phone
from app.accounts.tasks import send_sms
from app.accounts.users import get_or_create_user
from app.errors import DomainError
from app.extensions import db
from app.tasks import enqueue_after_commit


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
