"""The shared page layout: template globals, security headers, health check, language switch."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, current_app, jsonify, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import security, share
from app.accounts.services import set_locale
from app.errors import DomainError
from app.extensions import db, limiter
from app.i18n import SESSION_KEY, normalise_locale
from app.safe_urls import safe_link
from app.tasks import start_embedded_worker

bp = Blueprint("layout", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    if not _database_answers(current_app.config["HEALTH_PROBE_SECONDS"]):
        return jsonify({"status": "unavailable", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "up"})


# The database's answer to the last probe, and when (monotonic seconds). A proxy and an orchestrator ask every few
# seconds, a misconfigured monitor or a flood thousands of times a second: the database is asked at most once per
# HEALTH_PROBE_SECONDS by each process, and the others hear its last answer, up or down.
_last_probe: tuple[float, bool] = (float("-inf"), False)


def _database_answers(fresh_for: float) -> bool:
    global _last_probe
    probed_at, answered = _last_probe
    moment = time.monotonic()
    if moment - probed_at < fresh_for:
        return answered
    try:  # the engine's own connection: a probe needs no ORM session
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        answered = True
    except Exception:
        answered = False
    _last_probe = (moment, answered)
    return answered


@bp.get("/ping")
@limiter.exempt
def ping():
    """The cheapest answer the server can give: benchmarks compare real endpoints against it."""
    return "pong", 200, {"Content-Type": "text/plain"}


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """Browsers ask for it on every page that names no icon (the judging screen): the app's icon, not a 404."""
    return current_app.send_static_file("icons/icon-192.png")


@bp.post("/lang")
def switch_language():
    locale = normalise_locale(request.form.get("lang"))
    if locale is None:
        raise DomainError("invalid_locale", _l("This language is not available."))
    session[SESSION_KEY] = locale
    if current_user.is_authenticated:
        set_locale(current_user, locale)
        db.session.commit()
    return redirect(safe_link(request.form.get("next")) or url_for("events.index"))


def _template_globals():
    locale = get_locale()
    return {
        "current_locale": str(locale) if locale else "zh_Hans_CN",
        "html_lang": "zh-CN" if locale and locale.language == "zh" else "en",
        "languages": current_app.config["LANGUAGES"],
        "demo_mode": current_app.config.get("DEMO_MODE", False),
    }


# Punctuation that templates put between translated pieces: full-width in Chinese, with no space around it
# (a space between two Chinese sentences, "16:00。 ·", is a stray), ASCII with spaces in English.
PUNCTUATION = {
    "zh": {"colon": "：", "comma": "，", "open": "（", "close": "）", "space": "", "list": "、"},
    "en": {"colon": ": ", "comma": ", ", "open": " (", "close": ")", "space": " ", "list": ", "},
}


def punct(name: str) -> str:
    """`{{ punct("colon") }}` and friends: the current language's punctuation between template pieces."""
    locale = get_locale()
    return PUNCTUATION["zh" if locale and locale.language == "zh" else "en"][name]


def organizes_events(user) -> bool:
    """Whether the "Manage" tab is shown: any organizer grant, global or for one event (admin counts)."""
    return any(grant.role in ("organizer", "admin") for grant in user.roles)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_template_globals)
    security.init_app(app)  # CSP, HSTS and the other security headers on every response
    app.jinja_env.globals["safe_next"] = safe_link
    app.jinja_env.globals["organizes_events"] = organizes_events
    app.jinja_env.globals["punct"] = punct
    share.init_app(app)  # share cards: Open Graph, and WeChat's JS-SDK signature in WeChat's browser
    if app.config.get("START_EMBEDDED_WORKER"):
        app.before_request(lambda: start_embedded_worker())
