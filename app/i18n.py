"""Languages: Chinese first (zh_Hans_CN), English second. The choice is remembered per person."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.catalogues import ensure_compiled
from app.extensions import babel

SESSION_KEY = "lang"
ALIASES = {"zh": "zh_Hans_CN", "zh_CN": "zh_Hans_CN", "zh-CN": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN",
           "zh-Hans": "zh_Hans_CN", "en": "en", "en_US": "en", "en-US": "en"}


def normalise_locale(value: str | None) -> str | None:
    return ALIASES.get((value or "").strip())


def select_locale() -> str:
    """?lang= (one request) > the signed-in person's choice > this browser's choice > Accept-Language > Chinese.
    Outside a request (CLI, tasks) the default applies; tasks pick a person's language with force_locale."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return _choose_locale(_signed_in_locale)


def anonymous_locale() -> str:
    """select_locale for a request known to be nobody's (app.page_cache): no need to load who is signed in."""
    return _choose_locale(lambda: None)


def _choose_locale(signed_in_locale) -> str:
    for candidate in (request.args.get("lang"), signed_in_locale(), session.get(SESSION_KEY)):
        locale = normalise_locale(candidate)
        if locale:
            return locale
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return normalise_locale(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _signed_in_locale() -> str | None:
    """The signed-in person's choice, if it can be read. Picking the language never fails: an error page rendered
    while the database session is broken (a failed commit) or the database is down falls back to the browser's."""
    try:
        return getattr(current_user, "locale", None) if current_user and current_user.is_authenticated else None
    except SQLAlchemyError:
        return None


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Before serving: a missing or stale catalogue is compiled, or the server refuses to start (app.catalogues).
    ensure_compiled(app.extensions["babel"].translation_directories,
                    required_locale=app.config["BABEL_DEFAULT_LOCALE"])
