"""Pages that are the same for every anonymous visitor, served from a cache instead of being rendered again.

At noon, when a popular salon opens, a thousand people refresh its page: rendering it (queries, dates in Chinese,
a template) costs a hundred times what answering from memory does. A view marked `@cached_for_anonymous` is cached
per instance, keyed by what its answer depends on for someone who is not signed in: the path and query, the host and
scheme (absolute links, the CSP), the language picked for the request, and whether the browser is WeChat's (which
gets a share signature of its own and is never cached).

What keeps it right:
- Only anonymous requests fill it: no bearer token, no remember cookie, and a session holding nothing but its CSRF
  token and language. A signed-in person, a judge's pass, a pending flash message: rendered every time, never kept.
  One exception: an API read marked `same_for_token_holders`, whose 200 answer is the same for everyone unless
  marked private, serves a valid bearer token's holder the same copy, and keeps theirs (their token checked first).
- Any write to the database makes every cached page stale: each commit that wrote bumps a generation number (in
  Redis when configured, so every instance sees it; in the process otherwise), and an entry made under an older
  generation is never served. The bump happens both just before the commit and after it, so a page rendered in
  between cannot keep the old data under the new number.
- Time changes pages too (sign-up opens at noon): an entry lives at most PAGE_CACHE_SECONDS, and a view says when
  its page changes by itself (`valid_until`), e.g. the event's registration opening.
- The CSRF token in a page is this visitor's: the cached copy holds a placeholder, replaced on every answer with the
  token of the visitor's own session (made if needed, exactly as rendering would have).
- Every after-request step (security headers, compression, cookies) still runs on a cached answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.db_types import utcnow

log = logging.getLogger(__name__)

MAX_ENTRIES = 512
_CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
# Session keys an anonymous visitor may have: the CSRF secret, the language chosen (app.i18n), and what Flask-Login
# writes for nobody.
_ANONYMOUS_SESSION_KEYS = frozenset({"csrf_token", "lang", "_fresh", "_permanent"})
_STATE = "beiyang.page_cache"  # per request, in the environ: g belongs to the app context, which tests share


@dataclass
class _Miss:
    """A cacheable request answered by its view: where and until when its page may be kept."""

    key: tuple
    generation: int
    now: datetime
    reader: str
    until: datetime | None = None


def cached_for_anonymous(view):
    """Mark a GET view whose page is the same for every anonymous visitor (see the module's rules)."""
    view.page_cacheable = True
    return view


def same_for_token_holders(view):
    """Mark a cached API read whose 200 answer is the same for anyone holding a valid bearer token as for an anonymous
    caller (an event's public fields), unless the view marks it `Cache-Control: private` (a draft, for its
    organizers): a token holder is answered from the cached copy once their token is checked, and on a miss their
    answer (the token checked as on any request) is kept like an anonymous one."""
    view.same_for_token_holders = True
    return view


def valid_until(moment: datetime | None) -> None:
    """The page being rendered changes by itself at `moment` (a sign-up opening, an event starting): its cached
    copy ends then. Moments in the past are ignored."""
    miss = request.environ.get(_STATE) if has_request_context() else None
    if moment is None or not isinstance(miss, _Miss):
        return
    if moment > miss.now and (miss.until is None or moment < miss.until):
        miss.until = moment


# ---- the generation: any committed write makes every cached page stale --------------------------------------------

class _Generation:
    """The number every cached page is kept under. One process: a counter. Several (REDIS_URL): the number is
    Redis's (INCR on a write), and each process mirrors it from a subscription to the bumps, so a cached answer
    costs no round trip to Redis; while that subscription is not up, each request asks Redis."""

    def __init__(self) -> None:
        self._local = 0
        self._lock = threading.Lock()
        self.redis_url: str | None = None
        self.key = "beiyang:pages:generation"
        self._heard: int | None = None  # Redis's number as last heard while subscribed; None: ask Redis
        self._listening: tuple | None = None  # the (url, key) the running subscriber serves

    def configure(self, redis_url: str | None, key: str) -> None:
        with self._lock:
            self.redis_url, self.key = redis_url, key
            self._heard = None

    def current(self) -> int | None:
        """The generation now, or None when it cannot be known (Redis away): then nothing is served or kept."""
        url, key = self.redis_url, self.key
        if not url:
            return self._local
        self._listen(url, key)
        heard = self._heard
        if heard is not None:
            return heard
        try:
            return int(_redis(url).get(key) or 0)
        except Exception:
            log.warning("page cache: Redis cannot say the generation; rendering", exc_info=True)
            return None

    def bump(self) -> None:
        with self._lock:
            self._local += 1
        url, key = self.redis_url, self.key
        if not url:
            return
        try:
            client = _redis(url)
            value = client.incr(key)
            client.publish(f"{key}:bumps", value)
            self._hear(url, key, value)
        except Exception:  # Redis away: pages may be stale for PAGE_CACHE_SECONDS; the write itself stands
            log.warning("page cache: could not bump the generation in Redis", exc_info=True)

    def _hear(self, url: str, key: str, value: int | None, *, subscribed: bool = False) -> None:
        with self._lock:
            if (url, key) != (self.redis_url, self.key):
                return
            if value is None:
                self._heard = None
            elif subscribed or self._heard is not None:
                self._heard = max(self._heard or 0, value)

    def _listen(self, url: str, key: str) -> None:
        with self._lock:
            if self._listening == (url, key):
                return
            self._listening = (url, key)
        threading.Thread(target=self._subscriber, args=(url, key), name="page-cache-generation",
                         daemon=True).start()

    def _subscriber(self, url: str, key: str) -> None:
        import redis  # optional: only with REDIS_URL

        backoff = 0.5
        while (url, key) == (self.redis_url, self.key):
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=10)
                pubsub = client.pubsub()
                pubsub.subscribe(f"{key}:bumps")
                for message in pubsub.listen():
                    if (url, key) != (self.redis_url, self.key):
                        break
                    backoff = 0.5
                    if message["type"] == "subscribe":  # read after subscribing: no bump falls in between
                        self._hear(url, key, int(client.get(key) or 0), subscribed=True)
                    elif message["type"] == "message":
                        self._hear(url, key, int(message["data"]))
            except Exception:
                log.warning("page cache: the generation's subscription lost Redis; asking it on each request",
                            exc_info=True)
            self._hear(url, key, None)
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
        with self._lock:
            if self._listening == (url, key):
                self._listening = None


generation = _Generation()
_wrote = threading.local()


def _redis(url: str):
    from app.realtime import redis_client

    return redis_client(url)


@sa.event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, cursor, statement, parameters, context, executemany):
    """A write makes pages stale, unless its statement says no page shows what it changes (`pages_unchanged`: a
    token's last use)."""
    if not getattr(_wrote, "pending", False) and statement.lstrip()[:6].upper() in (
            "INSERT", "UPDATE", "DELETE", "REPLAC", "UPSERT", "MERGE ", "TRUNCA") \
            and not (context is not None and context.execution_options.get("pages_unchanged")):
        _wrote.pending = True


@sa.event.listens_for(Engine, "commit")
def _before_commit(conn):
    if getattr(_wrote, "pending", False):
        _wrote.pending = False
        _wrote.committing = True
        generation.bump()


@sa.event.listens_for(Engine, "rollback")
def _rolled_back(conn):
    _wrote.pending = False
    _wrote.committing = False


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session):
    if getattr(_wrote, "committing", False):
        _wrote.committing = False
        generation.bump()


# ---- the store --------------------------------------------------------------------------------------------------

@dataclass
class _Entry:
    generation: int
    expires_at: datetime
    status: int
    headers: list[tuple[str, str]]  # the view's own (type, disposition, ETag, Vary...), not cookies or length
    body: bytes
    has_csrf: bool
    compressed: dict[str, bytes] = field(default_factory=dict)  # the body as compressed, per "encoding;" key


class _Store:
    """A bounded map, least recently used out first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


store = _Store()  # the pages: key -> _Entry
valid_tokens = _Store(max_entries=10_000)  # bearer tokens found valid: their hash -> (generation, when)


# ---- the request ------------------------------------------------------------------------------------------------

ANONYMOUS, TOKEN_HOLDER = "anonymous", "token holder"


def _session_is_anonymous() -> bool:
    if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    return set(session.keys()) <= _ANONYMOUS_SESSION_KEYS


def _anonymous() -> bool:
    return not request.headers.get("Authorization") and _session_is_anonymous()


def _cached_reader() -> str | None:
    """Who may be answered from the cache: ANONYMOUS (they may fill it too), TOKEN_HOLDER (a bearer token, nothing
    else signed in, on a view marked same_for_token_holders), or None: rendered, never kept."""
    req = request._get_current_object()  # looked up once: every request passes here
    app = current_app._get_current_object()
    if req.method != "GET" or not app.config.get("PAGE_CACHE_SECONDS"):
        return None
    cacheable, same_for_token_holders = _marks(app, req.endpoint)
    if not cacheable:
        return None
    from app.wechat import in_wechat

    if in_wechat(req.headers.get("User-Agent")) or not _session_is_anonymous():
        return None
    authorization = req.headers.get("Authorization")
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip() and same_for_token_holders:
        return TOKEN_HOLDER
    return None


def _marks(app: Flask, endpoint: str | None) -> tuple[bool, bool]:
    """The view's marks (cached_for_anonymous, same_for_token_holders), found once per endpoint and kept with the
    application."""
    found = app.extensions.setdefault("beiyang.page_cache.marks", {})
    marks = found.get(endpoint)
    if marks is None:
        view = app.view_functions.get(endpoint)
        view_class = getattr(view, "view_class", None)  # a MethodView (the JSON API): its get method's own mark
        if view_class is not None:
            view = getattr(view_class, "get", None)
        marks = found[endpoint] = (getattr(view, "page_cacheable", False),
                                   getattr(view, "same_for_token_holders", False))
    return marks


def _key() -> tuple:
    from app.i18n import anonymous_locale

    return (request.full_path, request.host, request.scheme, anonymous_locale())


def _serve_from_cache():
    """Before any other step of the request: a fresh cached copy, if there is one."""
    reader = _cached_reader()
    if reader is None:
        return None
    now = utcnow()
    key = _key()
    current = generation.current()
    if current is None:
        return None
    entry = store.get(key)
    if entry is None or entry.generation != current or entry.expires_at <= now:
        request.environ[_STATE] = _Miss(key, current, now, reader)  # the token, if any, is checked as always
        return None
    if reader == TOKEN_HOLDER and (entry.status != 200 or not _token_holder_may_read(now, current)):
        return None  # answered as any request with a token is (401 for a bad one)
    return _answer(entry)


def _token_holder_may_read(now: datetime, current: int) -> bool:
    """The token is valid: checked in the database, or found valid under this same generation (no write since,
    so no revocation or blocked account either) less than TOKEN_USE_RECORDED_EVERY ago (its use is then recorded
    again). What it is answered with is the public copy whatever it holds: the check only keeps its refusal."""
    from app.accounts.tokens import TOKEN_USE_RECORDED_EVERY, api_token_is_valid, hash_token

    token = request.headers["Authorization"].partition(" ")[2].strip()
    hashed = hash_token(token)
    checked = valid_tokens.get(hashed)
    if checked is not None and checked[0] == current and now - checked[1] < TOKEN_USE_RECORDED_EVERY:
        return True
    if not api_token_is_valid(token, now=now):
        return False
    valid_tokens.put(hashed, (current, now))
    return True


def _answer(entry: _Entry) -> Response:
    body = entry.body
    if entry.has_csrf:
        g.pop("csrf_token", None)  # a token signed for another session (tests share one app context)
        body = body.replace(_CSRF_PLACEHOLDER, generate_csrf().encode())
    request.environ[_STATE] = entry
    response = Response(body, status=entry.status, headers=entry.headers)
    return response.make_conditional(request) if "ETag" in response.headers else response


class CompressedCopies:
    """Flask-Compress's cache (COMPRESS_CACHE_BACKEND, app/assets.py): a cached page is compressed once per
    encoding, and the compressed copy is kept with the page, instead of compressing the same bytes on every answer
    (a third of what a cached API read costs). Only a copy that is the same for everyone keeps one: a page holding
    the visitor's CSRF token, and every response not answered from the cache, is compressed each time."""

    def get(self, key: str) -> bytes | None:
        entry = _shared_entry_answered()
        return None if entry is None else entry.compressed.get(key)

    def set(self, key: str, value: bytes) -> None:
        entry = _shared_entry_answered()
        if entry is not None:
            entry.compressed[key] = value


def _shared_entry_answered() -> _Entry | None:
    entry = request.environ.get(_STATE)
    return entry if isinstance(entry, _Entry) and not entry.has_csrf else None


def _keep(response: Response) -> Response:
    """After the view, before compression: keep an anonymous page that can be shared."""
    miss = request.environ.get(_STATE)
    if not isinstance(miss, _Miss) or response.status_code != 200 or response.direct_passthrough:
        return response
    if response.headers.get("Set-Cookie") or response.headers.get("Cache-Control", "").startswith("private"):
        return response  # the view signed someone in, or said the answer is personal
    if not (_anonymous() if miss.reader == ANONYMOUS else _session_is_anonymous()):
        return response
    from app.security import _NONCE_KEY

    if request.environ.get(_NONCE_KEY):
        return response  # an inline script's nonce is this response's alone
    body = response.get_data()
    token = g.get("csrf_token")
    has_csrf = bool(token) and token.encode() in body
    if has_csrf:
        body = body.replace(token.encode(), _CSRF_PLACEHOLDER)
    expires_at = miss.now + timedelta(seconds=current_app.config["PAGE_CACHE_SECONDS"])
    if miss.until is not None:
        expires_at = min(expires_at, miss.until)
    headers = [(name, value) for name, value in response.headers.items()
               if name.lower() not in ("set-cookie", "content-length")]
    store.put(miss.key, _Entry(miss.generation, expires_at, response.status_code, headers, body, has_csrf))
    return response


def init_app(app: Flask) -> None:
    """Call last in create_app: the cache answers before every other before-request step, and keeps a page before
    the after-request steps that every answer gets anyway (compression, headers, cookies)."""
    generation.configure(app.config.get("REDIS_URL"),
                         f"{app.config.get('RATELIMIT_KEY_PREFIX', 'beiyang')}:pages:generation")
    app.before_request_funcs.setdefault(None, []).insert(0, _serve_from_cache)
    app.after_request(_keep)
