"""Rate limits on sign-in codes: per phone number and per client address, shared across workers via Redis."""

from __future__ import annotations

from flask import current_app, request, session
from flask_limiter.util import get_remote_address

from app.accounts.phones import normalise_phone
from app.errors import DomainError
from app.extensions import limiter


def _phone_in_request() -> str:
    data = request.get_json(silent=True) if request.is_json else None
    raw = (data or {}).get("phone") if isinstance(data, dict) else request.form.get("phone")
    if raw is None:
        raw = session.get("login_phone", "")
    try:
        return "phone:" + normalise_phone(str(raw))
    except DomainError:
        return "phone:invalid:" + str(raw)[:32]


def _only_posts() -> bool:
    return request.method != "POST"


def _config(name: str):
    return lambda: current_app.config[name]


def limit_code_requests(view):
    view = limiter.limit(_config("OTP_RATE_PER_PHONE"), key_func=_phone_in_request, exempt_when=_only_posts,
                         scope="otp-request-phone")(view)
    return limiter.limit(_config("OTP_RATE_PER_ADDRESS"), key_func=get_remote_address, exempt_when=_only_posts,
                         scope="otp-request-address")(view)


def limit_code_verifications(view):
    return limiter.limit(_config("OTP_VERIFY_RATE_PER_ADDRESS"), key_func=get_remote_address,
                         exempt_when=_only_posts, scope="otp-verify-address")(view)
