"""The one authorisation mechanism, used by pages, the JSON API and Socket.IO handlers alike.

Roles: resident (everyone signed in), organizer, judge, mentor, admin. A grant is global or scoped to one
event or competition; admin holds everything; a global organizer organizes every event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors import Forbidden, Unauthorized

# steward and supervisor are door roles of check-in (scoped to an event: scan only / also search and override)
ROLES = ("resident", "organizer", "judge", "mentor", "admin", "steward", "supervisor")
SCOPE_KINDS = ("event", "competition")
GLOBAL_SCOPE = ""


def scope_key(kind: str | None = None, object_id: int | None = None) -> str:
    if kind is None:
        return GLOBAL_SCOPE
    if kind not in SCOPE_KINDS:
        raise ValueError(f"unknown scope kind {kind!r}")
    return f"{kind}:{int(object_id)}"


def has_role(user, role: str, scope: str = GLOBAL_SCOPE) -> bool:
    """True when `user` holds `role` globally, or for `scope`; admins hold every role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if role == "resident":
        return True
    held = {(grant.role, grant.scope) for grant in user.roles}
    if ("admin", GLOBAL_SCOPE) in held:
        return True
    return (role, GLOBAL_SCOPE) in held or (scope != GLOBAL_SCOPE and (role, scope) in held)


def authorize(user, role: str, scope: str = GLOBAL_SCOPE) -> None:
    """Raise unauthorized (not signed in) or forbidden (signed in, lacks the role) — the one check everyone calls."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthorized("unauthorized", _l("Please sign in first."))
    if not has_role(user, role, scope):
        raise Forbidden("forbidden", _l("You are not allowed to do this."))


def role_required(role: str, scope: Callable[..., str] | None = None) -> Callable:
    """Decorate a view, API function or socket handler. `scope` maps the view's arguments to a scope key."""

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            authorize(current_user, role, scope(*args, **kwargs) if scope else GLOBAL_SCOPE)
            return fn(*args, **kwargs)

        return wrapper

    return decorator


login_required = role_required("resident")
