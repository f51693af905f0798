"""Calendar pages and files: one event's .ics (/events/<id>.ics), the town's public feed (/calendar.ics, ?kind=),
a person's private feed (/calendar/<token>.ics, no cookie: the secret token is the key; or /me/calendar.ics with
the API's bearer token or the page's cookie, for apps that hold a token and not the feed's address), the page where
a person copies their feed address and replaces its token (/me/calendar), and the "add to calendar" links of an
event's page (events/_calendar_links.html, through the `calendar_links` template global).

Thin: events/calendar.py builds the documents and owns the rules. Every .ics answer carries an ETag of its body and
answers If-None-Match with 304, so calendar apps polling a feed cost little."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC
from urllib.parse import quote, urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts.auth import bearer_token, sign_in_with_bearer
from app.authz import authorize, login_required
from app.db_types import utcnow
from app.errors import NotFound, Unauthorized, rollback_quietly, wants_json
from app.extensions import db
from app.i18n import normalise_locale
from app.page_cache import cached_for_anonymous
from events import calendar
from events.models import Event
from events.presentation import event_title
from events.services import reading

bp = Blueprint("events_calendar_views", __name__, template_folder="templates")

ICS_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
# Private feeds: no shared cache may keep them; the calendar app may, revalidating with the ETag each time.
PRIVATE_CACHE = "private, no-cache"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
GOOGLE_DETAILS_MAX = 600


def public_base_url() -> str:
    """Where people reach this site: PUBLIC_BASE_URL (config SERVER_NAME_FOR_LINKS); when that is still the
    built-in loopback default, the address this request came to (a phone on the office Wi-Fi, a test server)."""
    configured = (current_app.config.get("SERVER_NAME_FOR_LINKS") or "").rstrip("/")
    if configured and not (has_request_context() and urlsplit(configured).hostname in LOOPBACK_HOSTS):
        return configured
    return request.url_root.rstrip("/")


def _links() -> calendar.Links:
    return calendar.Links(public_base_url())


def my_feed_urls(user) -> dict[str, str]:
    """This person's feed addresses, creating the token on first use (the caller commits)."""
    return calendar.feed_urls(calendar.calendar_token(user), public_base_url())


def ics_response(body: bytes, *, filename: str, disposition: str, cache_control: str,
                 ascii_filename: str = "calendar.ics") -> Response:
    response = Response(body, content_type=ICS_TYPE)
    response.headers["Content-Disposition"] = _content_disposition(disposition, filename, ascii_filename)
    response.headers["Cache-Control"] = cache_control
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    return response.make_conditional(request)


def _content_disposition(disposition: str, filename: str, ascii_filename: str) -> str:
    """ASCII name for old clients, RFC 5987 filename* with the real (often Chinese) one."""
    fallback = (filename if filename.isascii() else ascii_filename).replace('"', "").replace("\\", "")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# ---- who asks for a personal .ics ------------------------------------------------------------------------------------

def personal_ics(view):
    """A view of one person's .ics (their meetings, their whole feed) is called as view(user, ...), the person being
    the one the JSON API would see: a bearer token (Authorization: Bearer ..., which wins over a cookie) or the
    signed-in cookie session of the pages. Without valid credentials the answer is a plain 401 (JSON when asked),
    never a redirect to the sign-in page: calendar apps and scripts cannot follow one."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            if request.headers.get("Authorization"):
                sign_in_with_bearer(bearer_token())
            authorize(current_user, "resident")
        except Unauthorized as error:
            return _ics_unauthorized(error)
        response = view(current_user._get_current_object(), *args, **kwargs)
        response.vary.update(("Authorization", "Cookie"))
        return response

    return wrapper


def _ics_unauthorized(error: Unauthorized) -> Response:
    rollback_quietly()
    message = str(error.message)
    if wants_json():
        response = jsonify({"error": {"code": error.code, "message": message}})
    else:
        response = Response(message + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = 401
    challenge = 'Bearer realm="beiyang-events"'
    if error.code == "invalid_token":
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- files and feeds -------------------------------------------------------------------------------------------------

@bp.get("/events/<int:event_id>.ics")
@cached_for_anonymous
def event_ics(event_id: int):
    event = reading.get_event(event_id)  # drafts: 404
    response = ics_response(calendar.event_document(event, _links()), filename=calendar.download_filename(event),
                            ascii_filename=f"beiyang-event-{event.id}.ics", disposition="attachment",
                            cache_control=PUBLIC_CACHE)
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.get("/calendar.ics")
@cached_for_anonymous
def public_feed():
    kinds = calendar.parse_kinds(request.args.getlist("kind"))
    body = calendar.public_feed(now=utcnow(), kinds=kinds, links=_links())
    filename = f"beiyang-{'-'.join(kinds)}.ics" if kinds else "beiyang-events.ics"
    response = ics_response(body, filename=filename, disposition="inline", cache_control=PUBLIC_CACHE)
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.get("/calendar/<token>.ics")
def private_feed(token: str):
    user = calendar.user_for_calendar_token(token)
    if user is None:
        raise NotFound("calendar_not_found", _l("This calendar link is unknown or has been replaced by a new one."))
    with force_locale(normalise_locale(user.locale) or str(get_locale())):
        body = calendar.private_feed(user, now=utcnow(), links=_links())
    response = ics_response(body, filename="my-beiyang-events.ics", disposition="inline",
                            cache_control=PRIVATE_CACHE)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/me/calendar.ics")
@personal_ics
def my_feed(user):
    """The same feed as /calendar/<token>.ics, for whoever asks with their bearer token or cookie."""
    with force_locale(normalise_locale(user.locale) or str(get_locale())):
        body = calendar.private_feed(user, now=utcnow(), links=_links())
    response = ics_response(body, filename="my-beiyang-events.ics", disposition="inline",
                            cache_control=PRIVATE_CACHE)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# ---- my calendar: the feed's address, and a new token ----------------------------------------------------------------

@bp.get("/me/calendar")
@login_required
def my_calendar():
    urls = my_feed_urls(current_user._get_current_object())
    db.session.commit()
    return render_template("events/my_calendar.html", **urls,
                           google_url=_google_subscribe_url(urls["webcal_url"]),
                           public_url=public_base_url() + url_for("events_calendar_views.public_feed"))


@bp.post("/me/calendar/rotate")
@login_required
def rotate():
    calendar.rotate_calendar_token(current_user._get_current_object())
    db.session.commit()
    flash(_("Your calendar link has been replaced. Subscribe again with the new link; the old one no longer works."),
          "success")
    return redirect(url_for("events_calendar_views.my_calendar"))


@bp.get("/me/calendar/rotate")
def rotate_get():
    """Only the form posts here; a reload or a shared link lands on the page."""
    return redirect(url_for("events_calendar_views.my_calendar"))


def _google_subscribe_url(webcal_url: str) -> str:
    return "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal_url})


# ---- an event page's "add to calendar" ------------------------------------------------------------------------------

def calendar_links(event: Event | None) -> dict | None:
    """What events/_calendar_links.html shows: the .ics file, a Google Calendar link, and (signed in) my feed."""
    if event is None or event.status == "draft":
        return None
    return {
        "ics_url": url_for("events_calendar_views.event_ics", event_id=event.id),
        "google_url": None if event.status == "cancelled" else google_event_url(event),
        "cancelled": event.status == "cancelled",
        "feed_page_url": url_for("events_calendar_views.my_calendar") if current_user.is_authenticated else None,
    }


def google_event_url(event: Event) -> str:
    """Google Calendar's "add event" form, filled in (times in UTC, shown in Shanghai time)."""
    stamp = "%Y%m%dT%H%M%SZ"
    dates = f"{event.starts_at.astimezone(UTC):{stamp}}/{event.ends_at.astimezone(UTC):{stamp}}"
    details = "\n\n".join(p for p in (event.summary.strip(), _links().event(event.id)) if p)
    return GOOGLE_TEMPLATE + "?" + urlencode({
        "action": "TEMPLATE", "text": event_title(event), "dates": dates, "ctz": calendar.TIMEZONE,
        "location": event.venue, "details": details[:GOOGLE_DETAILS_MAX]})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["calendar_links"] = calendar_links
