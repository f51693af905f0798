"""Binds the extensions to an application, with the settings that depend on its configuration."""

from __future__ import annotations

import functools
import logging
import sys
import time

import sqlalchemy as sa
from flask import Flask, request
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from app import after_commit  # noqa: F401  (installs the commit listeners)
from app.accounts import models  # noqa: F401  (registers the tables before Alembic looks)
from app.assets import add_vary
from app.config import PROJECT_ROOT
from app.extensions import csrf, db, limiter, login_manager, migrate, socketio

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    _check_csrf_only_where_it_applies(app)
    limiter.init_app(app)
    _check_limits_only_where_they_apply(app)
    login_manager.init_app(app)
    app.session_interface = CookieSessions()
    socketio.init_app(
        app,
        message_queue=app.config.get("REDIS_URL"),
        channel=app.config["SOCKETIO_CHANNEL"],
        async_mode=socketio_async_mode(),
        manage_session=True,
    )
    app.wsgi_app = SocketIOOnItsPath(app.wsgi_app)


class SocketIOOnItsPath:
    """Flask-SocketIO's middleware, for Socket.IO's requests only. It answers /socket.io/ itself and hands every
    other request to Flask, but first copies the whole environ and defines a class: on every page, API call and
    scan, a twentieth of what /healthz costs. Here the other requests go to Flask directly."""

    def __init__(self, middleware):
        self.middleware = middleware
        self.flask_wsgi_app = middleware.wsgi_app
        self.path = middleware.engineio_path  # "/socket.io/"

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") or "").startswith(self.path):
            return self.middleware(environ, start_response)
        return self.flask_wsgi_app(environ, start_response)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, unchanged, except that its signer is made once per secret: Flask makes a new
    one on every request, before knowing whether there is a cookie to read."""

    _signer: tuple | None = None  # ((the secret, its fallbacks), the signer made from them)

    def get_signing_serializer(self, app: Flask):
        secrets = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._signer
        if made is None or made[0] != secrets:
            made = self._signer = (secrets, super().get_signing_serializer(app))
        return made[1]

    def open_session(self, app: Flask, request):
        """A request with no cookie at all has no session to read: a new one, without parsing cookies."""
        if app.secret_key and not request.environ.get("HTTP_COOKIE"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        """An empty session nobody changed sets no cookie: Flask reads the cookie's seven settings before finding
        that out, on every request of every visitor who has no session (a fifth of what /healthz costs)."""
        if not session and not session.modified:
            if session.accessed:
                add_vary(response, "Cookie")
            return
        super().save_session(app, session, response)


def _check_csrf_only_where_it_applies(app: Flask) -> None:
    """Flask-WTF's check before every request looks up whether the view is exempt before whether the method needs a
    token at all: on a GET, for nothing. Here a request whose method needs no token (WTF_CSRF_METHODS) skips it."""
    funcs = app.before_request_funcs.setdefault(None, [])
    index = next(i for i, f in enumerate(funcs) if getattr(f, "__qualname__", "").startswith("CSRFProtect."))
    protect = funcs[index]

    def check_csrf_where_it_applies() -> None:
        if request.method in app.config["WTF_CSRF_METHODS"]:
            return protect()
        return None

    funcs[index] = check_csrf_where_it_applies


def _check_limits_only_where_they_apply(app: Flask) -> None:
    """Flask-Limiter resolves every request's limits before the view, about a tenth of what /ping costs. Most
    endpoints have none: with no default or application-wide limit, a view that is neither decorated with a limit
    (the sign-in code's) nor in a limited blueprint, and that has not called a limited function (a hint), has
    nothing to check; the decorated functions still check their own limits when they run. Any blueprint limit at
    all (nested blueprints inherit their parents') and every request is checked as before."""
    funcs = app.before_request_funcs.setdefault(None, [])
    index = next(i for i, f in enumerate(funcs) if getattr(f, "__func__", None) is Limiter._check_request_limit)
    check = funcs[index]
    manager = limiter.limit_manager
    names: dict[str, str] = {}

    def check_where_limited() -> None:
        endpoint = request.endpoint or ""
        if manager.default_limits or manager.application_limits or manager._blueprint_limits:
            return check()
        name = names.get(endpoint)
        if name is None:
            view = app.view_functions.get(endpoint)
            name = names[endpoint] = get_qualified_name(view) if view else ""
        if name in limiter._marked_for_limiting or manager.has_hints(endpoint):
            return check()
        return None

    funcs[index] = check_where_limited
    # Its after-request and teardown steps read what a check left in the request's limiter context (the headers
    # of the limit that applied): a request that checked no limit has none, and nothing to add or release.
    for hooks in (app.after_request_funcs.setdefault(None, []), app.teardown_request_funcs.setdefault(None, [])):
        for position, hook in enumerate(hooks):
            bound_to = hook.args[0] if isinstance(hook, functools.partial) and hook.args else getattr(
                hook, "__self__", None)
            if bound_to is limiter:
                hooks[position] = _only_after_a_check(hook)


def _only_after_a_check(hook):
    def only_after_a_check(value=None):
        if not hasattr(request_ctx._get_current_object(), "_limiter_request_context"):
            return value
        return hook(value)

    return only_after_a_check


def socketio_async_mode() -> str:
    """"gevent" when the server runs on gevent (gunicorn -k gevent patched the standard library before loading the
    app), else "threading" (the embedded server, tests, gunicorn's threaded worker). Never guessed from what is
    installed: Flask-SocketIO would pick gevent whenever it can be imported, even in a threaded server."""
    if "gevent" in sys.modules:
        from gevent import monkey  # an optional dependency, only there when the server runs on gevent

        if monkey.is_module_patched("socket"):
            return "gevent"
    return "threading"


@sa.event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL so readers never block the writer, foreign keys on, and wait instead of failing when busy."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is safe against application crashes and only loses the last commits on power loss;
        # it spares an fsync on every commit (SQLite's own recommendation for WAL).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


PING_AFTER_IDLE_SECONDS = 10.0


@sa.event.listens_for(Pool, "checkin")
def _note_idle_since(dbapi_connection, connection_record):
    connection_record.info["idle_since"] = time.monotonic()


@sa.event.listens_for(Pool, "checkout")
def _ping_after_idle(dbapi_connection, connection_record, connection_proxy):
    """A server connection that sat idle in the pool may have been dropped (a restart, a proxy's idle timeout): test
    it before use, and if it is dead the pool replaces it (SQLAlchemy's documented pessimistic recipe). Unlike
    pool_pre_ping, a connection back from use less than PING_AFTER_IDLE_SECONDS ago is trusted: a busy process
    would otherwise pay a round trip on every request. If the server restarts within that window, the first
    request on each old connection fails, and SQLAlchemy then replaces the whole pool."""
    idle_since = connection_record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return  # new, or just used
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        return  # a file: nothing to drop
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:
        raise sa.exc.DisconnectionError(f"dropped while idle: {error}") from error


def _migrations_dir():
    return PROJECT_ROOT / "migrations"
