"""Users and their profiles: finding or creating a person by phone, the profile, the language."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.accounts.models import PERSONAS, User
from app.accounts.signals import profile_changed
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db

MAX_INTERESTS = 10


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


PROFILE_FIELDS = ("name", "company", "title", "persona", "interests", "email")


def update_profile(user: User, *, now: datetime, **changes) -> User:
    """Fill in or change the profile that every later sign-up reuses. Only the fields given change (any of
    PROFILE_FIELDS): a field not given keeps what the person entered, so renaming oneself never resets the company
    or the persona. The result is checked whole (a first profile needs a name); a refusal changes nothing."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"update_profile: not profile fields: {sorted(unknown)}")
    values = {name: getattr(user, name) for name in PROFILE_FIELDS}
    values.update(changes)
    errors = {}
    name = (values["name"] or "").strip()
    if not name:
        errors["name"] = _l("Please enter your name.")
    elif len(name) > 80:
        errors["name"] = _l("At most %(n)d characters.", n=80)
    company = (values["company"] or "").strip()
    if len(company) > 120:
        errors["company"] = _l("At most %(n)d characters.", n=120)
    title = (values["title"] or "").strip()
    if len(title) > 80:
        errors["title"] = _l("At most %(n)d characters.", n=80)
    persona = values["persona"]
    if persona not in PERSONAS:
        errors["persona"] = _l("Please choose one of the options.")
    cleaned_interests = _clean_interests(values["interests"] or [])
    if len(cleaned_interests) > MAX_INTERESTS:
        errors["interests"] = _l("At most %(n)d interests.", n=MAX_INTERESTS)
    email = (values["email"] or "").strip() or None
    if email and ("@" not in email or len(email) > 254 or " " in email):
        errors["email"] = _l("This is not a valid e-mail address.")
    if errors:
        raise DomainError("invalid_profile", _l("Please correct the highlighted fields."),
                          fields={k: str(v) for k, v in errors.items()})
    user.name = name
    user.company = company
    user.title = title
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
