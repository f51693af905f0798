"""Who is asking: the cookie session (pages) or a bearer token (API clients), resolved once by Flask-Login."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request
from flask_login import current_user

from app.accounts.models import User
from app.authz import authorize
from app.errors import DomainError, Unauthorized
from app.extensions import commit_keeping_loaded, csrf, db, login_manager

T = TypeVar("T")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        from flask_babel import lazy_gettext as _l

        raise Unauthorized("invalid_token", _l("This API token is unknown or revoked."))
    return token.strip()


def authenticate_api_request() -> None:
    """Before every /api/ request: a bearer token, if sent, must be valid and wins over a cookie. Cookie-authenticated
    writes need the CSRF token (X-CSRFToken header), as forms do; bearer clients do not. A view marked with
    checks_bearer_token checks the token itself (deferred_bearer, then sign_in_with_bearer if it needs the user)."""
    if not request.path.startswith("/api/"):
        return
    token = bearer_token()
    if token is not None:
        if _view_checks_bearer_token():
            g.deferred_bearer = token
            return
        sign_in_with_bearer(token)
        return
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_user.is_authenticated:
        csrf.protect()


def _view_checks_bearer_token() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)  # a MethodView: the method's own mark
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return getattr(view, "checks_bearer_token", False)


def sign_in_with_bearer(token: str) -> None:
    """The request's user is the bearer token's (or 401 invalid_token)."""
    from app.accounts.services import user_for_api_token
    from app.db_types import utcnow

    user, recorded_use = user_for_api_token(token, now=utcnow())
    if recorded_use:  # a Core UPDATE of last_used_at: the loaded user is as committed
        commit_keeping_loaded()
    login_manager._update_request_context_with_user(user)


def checks_bearer_token(view):
    """Mark a JSON API view that checks the bearer token itself: a scan at the door, or a sign-up, checks it with
    the others arriving at the same moment, in one query for all of them (app.group_commit.signed_in). The view
    goes through decided_with_bearer before it relies on current_user. (Its arguments are still validated first,
    as for any view: a malformed body is a 422 whatever the token.)"""
    view.checks_bearer_token = True
    return view


def deferred_bearer() -> str | None:
    """The bearer token of this request when its view checks it itself (checks_bearer_token), else None."""
    return g.get("deferred_bearer")


def decided_with_bearer(decide: Callable[[str], T | DomainError | None]) -> T | None:
    """In a view marked checks_bearer_token: `decide(bearer)` (a batch that checks the token) when the request
    has one, and its answer. When it did not decide, the request signs in as any API request does (401 for a bad
    token, then what login_required asks) and None is returned: the view decides alone. An error the batch gave
    is raised once the request has signed in, so that it speaks the person's own language."""
    bearer = deferred_bearer()
    if bearer is not None:
        answer = decide(bearer)
        if answer is not None and not isinstance(answer, DomainError):
            return answer
        sign_in_with_bearer(bearer)
        if answer is not None:
            raise answer
    authorize(current_user, "resident")  # login_required
    return None


def init_login_manager(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask_babel import lazy_gettext as _l

        raise Unauthorized("unauthorized", _l("Please sign in first."))

    app.before_request(authenticate_api_request)
