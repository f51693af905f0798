"""Roles and access: granting and revoking roles, blocking accounts, creating and importing people."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import PERSONAS, RoleGrant, User
from app.accounts.phones import normalise_phone
from app.accounts.signals import access_changed
from app.accounts.users import get_or_create_user
from app.authz import GLOBAL_SCOPE, ROLES
from app.errors import DomainError
from app.extensions import db


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
        announce_access_changed(user.id)


def set_account_active(user: User, active: bool) -> None:
    """Block (False) or unblock (True) an account. A blocked account signs in nowhere: its cookies, tokens and open
    Socket.IO connections stop working at once (every check reads is_active_account; access_changed)."""
    if user.is_active_account != bool(active):
        user.is_active_account = bool(active)
        announce_access_changed(user.id)


def announce_access_changed(user_id: int | None) -> None:
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
