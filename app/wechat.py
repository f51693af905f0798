"""WeChat's web authorisation (网页授权, OAuth 2.0) and the official account's API credentials: the one client every
package uses: sign-in and binding (app.accounts.wechat_views), share cards (app.share), linking a person's WeChat
for messages and sending them (notifications.wechat, notifications.channels.wechat).

Settings (environment, app.config): WECHAT_APP_ID and WECHAT_APP_SECRET (the official account, 公众号, in WeChat's
browser), WECHAT_WEB_APP_ID and WECHAT_WEB_APP_SECRET (the open platform's website app, 网站应用: a QR code on a
desktop that the person scans with WeChat, `snsapi_login`), and the base URLs of WeChat's servers,
WECHAT_OAUTH_BASE (open.weixin.qq.com: the pages the person is sent to) and WECHAT_API_BASE (api.weixin.qq.com),
which tests point at a local stand-in.

The flow, as WeChat documents it: the person is sent to `connect/oauth2/authorize?appid&redirect_uri&
response_type=code&scope&state#wechat_redirect`; WeChat comes back to `redirect_uri?code=CODE&state=STATE`; the code
(valid 5 minutes, once) is exchanged at `sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code` for
the person's `openid` (per app) and, when the account is bound to an open-platform account and the person has
authorised it, their `unionid` (the same for every app of that open platform).

The official account's credentials for its other APIs, the access token (`cgi-bin/token`) and the JS-SDK's
`jsapi_ticket` (`cgi-bin/ticket/getticket`), live two hours and WeChat caps how often they may be fetched: they are
cached, in Redis when REDIS_URL is set (shared by every instance) or in this process, and fetched again five minutes
before they expire by one instance at a time (a lock, in Redis or here). A token WeChat reports invalid (40001,
40014, 42001: replaced or expired early) is fetched again once and the call retried."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests

log = logging.getLogger(__name__)

API_BASE = "https://api.weixin.qq.com"
OAUTH_BASE = "https://open.weixin.qq.com"
SCOPES = ("snsapi_base", "snsapi_userinfo")
MAX_ID = 64  # openids are 28 characters and unionids 29 today; more than 64 is not WeChat


def api_base(config) -> str:
    return (config.get("WECHAT_API_BASE") or API_BASE).rstrip("/")


def oauth_base(config) -> str:
    return (config.get("WECHAT_OAUTH_BASE") or OAUTH_BASE).rstrip("/")


def configured(config) -> bool:
    """The official account's web authorisation can be used: both its app id and its secret are set."""
    return bool(config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET"))


def website_configured(config) -> bool:
    """The open platform's website app (微信扫码登录 on a desktop) can be used."""
    return bool(config.get("WECHAT_WEB_APP_ID") and config.get("WECHAT_WEB_APP_SECRET"))


def _credentials(config, website: bool) -> tuple[str, str]:
    prefix = "WECHAT_WEB_APP" if website else "WECHAT_APP"
    return str(config.get(f"{prefix}_ID") or ""), str(config.get(f"{prefix}_SECRET") or "")


def in_wechat(user_agent: str | None) -> bool:
    """WeChat's built-in browser says `MicroMessenger` in its user agent (WeCom's adds `wxwork`: not the same app)."""
    agent = user_agent or ""
    return "MicroMessenger" in agent and "wxwork" not in agent


def authorize_url(config, *, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
    """Where to send the person: for `snsapi_base` WeChat asks nothing (the openid only) and comes straight back to
    `redirect_uri?code=...&state=...`. The fragment `#wechat_redirect` is required by WeChat."""
    if scope not in SCOPES:
        raise ValueError(f"unknown WeChat scope {scope!r}")
    query = urlencode([("appid", config.get("WECHAT_APP_ID") or ""), ("redirect_uri", redirect_uri),
                       ("response_type", "code"), ("scope", scope), ("state", state)])
    return f"{oauth_base(config)}/connect/oauth2/authorize?{query}#wechat_redirect"


def qr_login_url(config, *, redirect_uri: str, state: str) -> str:
    """The website app's QR code page (`connect/qrconnect`, `snsapi_login`): the person scans it with WeChat and
    confirms on the phone; WeChat then brings this browser back to `redirect_uri?code=...&state=...`."""
    query = urlencode([("appid", _credentials(config, True)[0]), ("redirect_uri", redirect_uri),
                       ("response_type", "code"), ("scope", "snsapi_login"), ("state", state)])
    return f"{oauth_base(config)}/connect/qrconnect?{query}#wechat_redirect"


class OAuthRefused(Exception):
    """WeChat did not confirm the person: `errcode` (None when WeChat could not be reached or answered nonsense)
    and its words, for the log."""

    def __init__(self, detail: str, errcode: int | None = None) -> None:
        super().__init__(detail)
        self.errcode = errcode


@dataclass(frozen=True)
class Identity:
    """A WeChat account as one app sees it: `openid` is the app's own id of the person; `unionid`, when WeChat gives
    it, is the same across the apps of one open-platform account."""

    app_id: str
    openid: str
    unionid: str | None = None


def _clean_id(value) -> str | None:
    text = str(value or "").strip()
    return text if text and len(text) <= MAX_ID and text.isprintable() and " " not in text else None


def identity_for_code(config, code: str, *, website: bool = False) -> Identity:
    """Exchange the one-time `code` (`sns/oauth2/access_token`, with the official account's credentials or, for a
    QR code sign-in, the website app's) for the person's identity; OAuthRefused with WeChat's reason when the code
    is invalid, used or expired, or WeChat cannot be reached."""
    app_id, secret = _credentials(config, website)
    try:
        answer = requests.get(f"{api_base(config)}/sns/oauth2/access_token", timeout=10, params={
            "appid": app_id, "secret": secret, "code": code, "grant_type": "authorization_code"}).json()
    except (requests.RequestException, ValueError) as error:
        raise OAuthRefused(f"unreachable: {type(error).__name__}") from None
    if not isinstance(answer, dict):
        raise OAuthRefused("not a JSON object")
    openid = _clean_id(answer.get("openid"))
    if not openid or answer.get("errcode"):
        errcode = answer.get("errcode")
        raise OAuthRefused(f"{errcode} {answer.get('errmsg', '')}".strip(),
                           errcode=errcode if isinstance(errcode, int) else None)
    return Identity(app_id=app_id, openid=openid, unionid=_clean_id(answer.get("unionid")))


def openid_for_code(config, code: str) -> str:
    return identity_for_code(config, code).openid


# ---- the official account's access token and jsapi_ticket, cached and shared -----------------------------------------

TOKEN_INVALID = (40001, 40014, 42001)  # invalid credential, invalid access_token, access_token expired
REFRESH_BEFORE = 300  # seconds before WeChat's expiry that a credential is fetched again
LOCK_FOR = 15.0  # seconds a refresh may hold the lock (WeChat answers in well under that)


class WeChatUnavailable(Exception):
    """WeChat's API did not give what was asked: `errcode` (None: unreachable or nonsense) and its words."""

    def __init__(self, detail: str, errcode: int | None = None) -> None:
        super().__init__(detail)
        self.errcode = errcode


class _MemoryStore:
    """One process: a dict and a lock per key."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float]] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        return self.values.get(key)

    def put(self, key: str, value: str, expires_at: float, *, now: float) -> None:
        self.values[key] = (value, expires_at)

    @contextmanager
    def lock(self, key: str, ready: Callable[[], bool]) -> Iterator[bool]:
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        held = lock.acquire(timeout=LOCK_FOR)
        try:
            yield held
        finally:
            if held:
                lock.release()


class _RedisStore:
    """Every instance: the value with its expiry in one key (its TTL the same), the lock a key set if absent with a
    random token, deleted only by its holder, expiring by itself if the holder dies."""

    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def __init__(self, url: str) -> None:
        import redis  # optional: only with REDIS_URL  # noqa: PLC0415

        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    def get(self, key: str) -> tuple[str, float] | None:
        raw = self.client.get(key)
        try:
            stored = json.loads(raw) if raw else None
            return (str(stored["value"]), float(stored["expires_at"])) if stored else None
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, value: str, expires_at: float, *, now: float) -> None:
        self.client.set(key, json.dumps({"value": value, "expires_at": expires_at}),
                        px=max(1, int((expires_at - now + REFRESH_BEFORE) * 1000)))

    @contextmanager
    def lock(self, key: str, ready: Callable[[], bool]) -> Iterator[bool]:
        """Held, or False once `ready()` (another instance stored a fresh value) or after LOCK_FOR seconds."""
        token, lock_key = secrets.token_hex(16), f"{key}:lock"
        deadline = time.monotonic() + LOCK_FOR
        held = bool(self.client.set(lock_key, token, nx=True, px=int(LOCK_FOR * 1000)))
        while not held and time.monotonic() < deadline:
            time.sleep(0.05)
            if ready():  # the holder stored a fresh one: the caller takes it
                break
            held = bool(self.client.set(lock_key, token, nx=True, px=int(LOCK_FOR * 1000)))
        try:
            yield held
        finally:
            if held:
                self.client.eval(self._RELEASE, 1, lock_key, token)


_memory = _MemoryStore()
_redis_stores: dict[str, _RedisStore] = {}
_stores_guard = threading.Lock()


def _store(config):
    url = config.get("REDIS_URL")
    if not url:
        return _memory
    with _stores_guard:
        if url not in _redis_stores:
            _redis_stores[url] = _RedisStore(url)
        return _redis_stores[url]


def forget_credentials() -> None:
    """Tests: this process forgets its cached credentials (Redis keeps its own)."""
    _memory.values.clear()


def _cached(config, kind: str, fetch: Callable[[], tuple[str, int]], *, now: float, invalid: str | None) -> str:
    """The cached credential `kind` of this app, unless it expires soon or is the one WeChat just refused
    (`invalid`); otherwise fetched once (`fetch() -> (value, expires_in)`) by whoever holds the lock, while the
    others wait for it and take what it stored."""
    store, key = _store(config), f"beiyang:wechat:{kind}:{config.get('WECHAT_APP_ID')}"

    def usable():
        found = store.get(key)
        return found[0] if found and found[1] > now and found[0] != invalid else None

    value = usable()
    if value:
        return value
    with store.lock(key, lambda: usable() is not None) as held:
        value = usable()  # fetched by another instance while this one waited
        if value:
            return value
        if not held:
            raise WeChatUnavailable(f"{kind}: another instance is fetching it and has not finished")
        value, expires_in = fetch()
        store.put(key, value, now + max(60, expires_in - REFRESH_BEFORE), now=now)
        return value


def _get(config, path: str, params: dict) -> dict:
    try:
        answer = requests.get(f"{api_base(config)}{path}", params=params, timeout=10).json()
    except (requests.RequestException, ValueError) as error:
        raise WeChatUnavailable(f"{path}: unreachable: {type(error).__name__}") from None
    if not isinstance(answer, dict):
        raise WeChatUnavailable(f"{path}: not a JSON object")
    return answer


def _refused(path: str, answer: dict) -> WeChatUnavailable:
    errcode = answer.get("errcode")
    return WeChatUnavailable(f"{path}: {errcode} {answer.get('errmsg', '')}".strip(),
                             errcode=errcode if isinstance(errcode, int) else None)


def access_token(config, *, invalid: str | None = None, now: float | None = None) -> str:
    """The official account's access token (`cgi-bin/token`); `invalid`: the token WeChat just refused."""
    def fetch() -> tuple[str, int]:
        answer = _get(config, "/cgi-bin/token", {"grant_type": "client_credential",
                                                 "appid": config.get("WECHAT_APP_ID"),
                                                 "secret": config.get("WECHAT_APP_SECRET")})
        if not answer.get("access_token") or answer.get("errcode"):
            raise _refused("/cgi-bin/token", answer)
        return str(answer["access_token"]), int(answer.get("expires_in") or 7200)

    return _cached(config, "access_token", fetch, now=time.time() if now is None else now, invalid=invalid)


def with_access_token(config, call: Callable[[str], dict], *, now: float | None = None) -> dict:
    """`call(token)` (an API answer); when WeChat says the token is invalid or expired, a new token is fetched
    once and the call made again. The answer of the last call (its errcode for the caller to judge)."""
    token = access_token(config, now=now)
    answer = call(token)
    if answer.get("errcode") in TOKEN_INVALID:
        log.info("WeChat refused its access token (%s): fetching a new one", answer.get("errcode"))
        answer = call(access_token(config, invalid=token, now=now))
    return answer


def jsapi_ticket(config, *, now: float | None = None) -> str:
    """The JS-SDK's `jsapi_ticket` (`cgi-bin/ticket/getticket?type=jsapi`)."""
    def fetch() -> tuple[str, int]:
        answer = with_access_token(config, lambda token: _get(config, "/cgi-bin/ticket/getticket", {
            "access_token": token, "type": "jsapi"}), now=now)
        if answer.get("errcode") or not answer.get("ticket"):
            raise _refused("/cgi-bin/ticket/getticket", answer)
        return str(answer["ticket"]), int(answer.get("expires_in") or 7200)

    return _cached(config, "jsapi_ticket", fetch, now=time.time() if now is None else now, invalid=None)


def js_sdk_signature(ticket: str, nonce: str, timestamp: int, url: str) -> str:
    """WeChat's JS-SDK signature: the SHA-1 of `jsapi_ticket=...&noncestr=...&timestamp=...&url=...` (the fields in
    that order, their names lower case, values as they are), `url` being the page's full URL without its fragment."""
    text = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#', 1)[0]}"
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324  (WeChat's algorithm, not our choice)


def js_sdk_config(config, url: str, *, now: float) -> dict | None:
    """What `wx.config` needs on the page at `url` (appId, timestamp, nonceStr, signature), or None when WeChat
    cannot give a ticket now (logged; the page works without its share card)."""
    if not configured(config) or urlsplit(url).scheme not in ("http", "https"):
        return None
    try:
        ticket = jsapi_ticket(config, now=now)
    except WeChatUnavailable as error:
        log.warning("no WeChat JS-SDK ticket: %s", error)
        return None
    except Exception as error:  # Redis away: the page goes on without its share card
        log.warning("no WeChat JS-SDK ticket: %s", type(error).__name__)
        return None
    nonce, timestamp = secrets.token_urlsafe(12), int(now)
    return {"appId": str(config.get("WECHAT_APP_ID")), "timestamp": timestamp, "nonceStr": nonce,
            "signature": js_sdk_signature(ticket, nonce, timestamp, url)}
