"""Who is asking: the cookie session (pages) or a bearer token (API clients), resolved once by Flask-Login."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from app.accounts.models import User
from app.accounts.services import end_sessions, start_session, user_for_api_token, user_for_session
from app.authz import authorize
from app.db_types import utcnow
from app.errors import DomainError, Unauthorized
from app.extensions import commit_keeping_loaded, csrf, db, login_manager
from app.safe_urls import safe_link

T = TypeVar("T")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
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
    if request.method not in ("GET", "HEAD", "OPTIONS") and (current_user.is_authenticated or device_passes()):
        csrf.protect()  # a judge pass is a cookie too


def _view_checks_bearer_token() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)  # a MethodView: the method's own mark
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return getattr(view, "checks_bearer_token", False)


def sign_in_with_bearer(token: str) -> None:
    """The request's user is the bearer token's (or 401 invalid_token)."""
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


# ---- sign-ins on this device ----------------------------------------------------------------------------------

DEVICE_PASSES = "passes"  # the session key of this device's judge passes (their tokens)
API_TOKEN_ID = "api:"  # noqa: S105  (a prefix, not a secret) a Socket.IO connection opened with a bearer token keeps it as its session's id


def _user_agent_label() -> str:
    agent = request.user_agent
    return " ".join(part for part in (agent.platform or "", agent.browser or "") if part) or agent.string[:120]


def sign_in(user: User, *, now) -> None:
    """A full sign-in (after the phone's code): a new session row, whose token goes in this device's session and
    remember cookies (never the user id: the cookies end with the row). Commits."""
    token = start_session(user.id, now=now, user_agent=_user_agent_label())
    db.session.commit()
    user.auth_id = token
    login_user(user, remember=True)


def after_sign_in_target(next_url: str | None) -> str:
    """Where a person goes once signed in: the page they came from (a path on this site), through the profile the
    first time."""
    target = safe_link(next_url) or url_for("events.index")
    if current_user.is_authenticated and not current_user.profile_complete:
        return url_for("accounts.profile", next=target)
    return target


def sign_out(*, now) -> None:
    """This device signs out: its sign-in and its judge passes end for every copy of its cookies. Commits."""
    auth_id = session.get("_user_id")
    tokens = list(device_passes())
    if isinstance(auth_id, str) and not auth_id.startswith(API_TOKEN_ID):
        tokens.append(auth_id)
    end_sessions(tokens, now=now)
    db.session.commit()
    logout_user()
    session.pop(DEVICE_PASSES, None)


def device_passes() -> list[str]:
    """The tokens of the judge passes this device holds (each checked against its row where it is used)."""
    passes = session.get(DEVICE_PASSES)
    return [p for p in passes if isinstance(p, str)] if isinstance(passes, list) else []


def keep_pass_on_device(token: str) -> None:
    session[DEVICE_PASSES] = (device_passes() + [token])[-5:]
    session.permanent = True  # a phone that closes its browser still goes straight to scoring


def _load_user(auth_id: str):
    """Flask-Login's user_loader: the cookie (or a socket's session) names a sign-in, not a user. A sign-in that
    ended (signed out, everywhere, idle too long) or a blocked account loads nobody."""
    if not isinstance(auth_id, str):
        return None
    if auth_id.startswith(API_TOKEN_ID):  # a Socket.IO connection authenticated with its bearer token
        try:
            user, recorded_use = user_for_api_token(auth_id[len(API_TOKEN_ID):], now=utcnow())
        except Unauthorized:
            return None
    else:
        user, recorded_use = user_for_session(auth_id, now=utcnow())
    if user is None:
        return None
    if recorded_use:  # a Core UPDATE; it runs at the start of the request (load_signed_in_user)
        commit_keeping_loaded()
    user.auth_id = auth_id
    return user


def load_signed_in_user() -> None:
    """Before each request: load who is signed in now, so that recording a sign-in's use (a commit, every few
    minutes) never happens in the middle of a view's own changes."""
    if request.endpoint == "static" or g.get("deferred_bearer") is not None:
        return
    if "_user_id" in session or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        current_user._get_current_object()


def init_login_manager(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    # Every auth cookie is Secure when the session cookie is (HttpOnly and SameSite=Lax: app.config.Config).
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config.get("SESSION_COOKIE_SECURE"))

    @login_manager.unauthorized_handler
    def unauthorized():
        raise Unauthorized("unauthorized", _l("Please sign in first."))

    app.before_request(authenticate_api_request)
    app.before_request(load_signed_in_user)
