"""Domain errors with stable codes, and the one place that turns any error into JSON or a friendly page."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.validation_messages import translate_all

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. `code` is stable (clients branch on it); `message` is for people, in their language."""

    status = 400

    def __init__(self, code: str, message, status: int | None = None, **details) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


# Messages for HTTP errors that reach us from Flask, Werkzeug and the extensions.
HTTP_MESSAGES = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("unauthorized", _l("Please sign in first.")),
    403: ("forbidden", _l("You are not allowed to do this.")),
    404: ("not_found", _l("This page or item does not exist.")),
    405: ("method_not_allowed", _l("This action is not allowed here.")),
    413: ("payload_too_large", _l("What you sent is too large.")),
    415: ("unsupported_media_type", _l("Please send JSON (Content-Type: application/json).")),
    422: ("invalid_input", _l("Some fields are missing or invalid.")),
    429: ("rate_limited", _l("Too many attempts. Please wait a moment and try again.")),
    500: ("internal_error", _l("Something went wrong on our side. Nothing was changed; please try again.")),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def rollback_quietly() -> None:
    """Before answering an error: whatever the request wrote is abandoned, and a session broken by a failed flush or
    commit (PendingRollbackError on any further use) is usable again for rendering the answer (the signed-in user,
    their language)."""
    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone: rendering does not need it
        log.warning("rollback before an error answer failed", exc_info=True)


def error_response(code: str, message, status: int, details: dict | None = None, headers: dict | None = None,
                   **page):
    """JSON for API clients, the error page for people. `page` adds to the page only: `heading`, `hint` and
    `actions` ([(label, url)], the first one the main way on)."""
    rollback_quietly()
    if wants_json():
        body: dict = {"error": {"code": code, "message": str(message)}}
        if details:
            body["error"]["details"] = details
        response = jsonify(body)
    else:
        response = render_template("errors/error.html", code=code, message=str(message), status=status,
                                   **page), status
        response = _as_response(response)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _as_response(rv):
    return make_response(rv)


def _handle_domain_error(error: DomainError):
    if error.status == 401 and not wants_json():
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    retry = (error.details or {}).get("retry_after_seconds")  # a rule that says when to try again (sign-in caps)
    headers = {"Retry-After": str(retry)} if retry else None
    return error_response(error.code, error.message, error.status, error.details or None, headers=headers)


def _handle_csrf_error(error: CSRFError):
    return error_response("csrf_failed", _l("Your session expired or the form is stale. Please reload and retry."), 400)


def _handle_rate_limit(error: RateLimitExceeded):
    code, message = HTTP_MESSAGES[429]
    headers = {k: v for k, v in (error.get_headers() or []) if k.lower() == "retry-after"}
    return error_response(code, message, 429, headers=headers)


def _handle_http_exception(error: HTTPException):
    status = error.code or 500
    code, message = HTTP_MESSAGES.get(status, (f"http_{status}", error.name))
    details = None
    messages = (getattr(error, "data", None) or {}).get("messages")  # webargs/flask-smorest validation errors
    if isinstance(messages, dict):
        json_errors = messages.get("json")
        if json_errors == ["Invalid JSON body."]:
            code, message = "invalid_json", _l("The body is not valid JSON.")
        elif isinstance(json_errors, dict) and json_errors.get("_schema") == ["Invalid input type."]:
            code, message = "invalid_json", _l("The body must be a JSON object.")
        else:
            details = {"fields": _flatten_validation(messages)}
    headers = {}
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return error_response(code, message, status, details, headers)


def _flatten_validation(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {"phone": [...]}}); clients want field -> first message, in their
    language (the schema library's own messages too: app.validation_messages)."""
    flat: dict = {}
    for location_errors in messages.values():
        if not isinstance(location_errors, dict):
            continue
        for field, errors in location_errors.items():
            flat[field] = translate_all(errors[0] if isinstance(errors, list) and errors else errors)
    return flat


def unstorable_input(error: Exception) -> bool:
    """The database refused a value as such (a number beyond its column, NUL in text): input that slipped past the
    validators (app.inputs). The answer is 422, not 500; it is logged so the validator can be added."""
    return isinstance(error, OverflowError | sa.exc.DataError)


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http_exception(error)
    if unstorable_input(error):
        log.warning("input refused by the database on %s %s: %s", request.method, request.path, error)
        code, message = HTTP_MESSAGES[422]
        return error_response(code, message, 422)
    log.exception("unhandled error on %s %s", request.method, request.path)
    code, message = HTTP_MESSAGES[500]
    return error_response(code, message, 500)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(RateLimitExceeded, _handle_rate_limit)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
