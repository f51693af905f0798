"""Web Push (RFC 8030) with message encryption (RFC 8291, aes128gcm) and VAPID (RFC 8292).

One delivery goes to every subscription of the person. A push service's 404/410 means the subscription is gone:
it is removed. 429 and 5xx are temporary (Retry-After is honoured). Payloads stay under the push services' 4 KB
limit: the body is shortened, never the message failed. The service worker shows one notification per message id
(the `tag`), so a repeated push after a retry replaces instead of doubling.

Sending is waiting on the network, so each worker process keeps many pushes in flight from one asyncio loop (a
thread of its own) with one aiohttp session: keep-alive connections per push service, at most
NOTIFICATIONS_PUSH_CONNECTIONS at once. Per push only what must differ is computed: the payload, its encryption
(an ephemeral key per message, RFC 8291, by http_ece); the VAPID header is signed once per push service and reused."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import Future
from urllib.parse import urlsplit

import aiohttp
import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from app.safe_urls import RefusedURL, allowed_addresses, check_public_url
from notifications.channels import Outcome, Outgoing, PermanentFailure, TemporaryFailure

MAX_PLAINTEXT = 3000  # bytes of JSON; 4096 minus the aes128gcm header, tag and padding, with room to spare
_RECORD_SIZE = 4096
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_vapid_cache: dict[str, tuple[float, dict]] = {}
_vapid_lock = threading.Lock()
_pusher_lock = threading.Lock()
_pusher: _Pusher | None = None
log = logging.getLogger(__name__)


def payload_for(outgoing: Outgoing) -> str:
    """The JSON the service worker receives, shortened to fit: the body first, then the title."""
    data = {"id": outgoing.notification_id, "title": outgoing.title, "body": outgoing.body, "url": outgoing.url,
            "tag": f"n{outgoing.notification_id}", "category": outgoing.category, "urgent": outgoing.urgent}
    text = _JSON.encode(data)
    while len(text.encode()) > MAX_PLAINTEXT and data["body"]:
        excess = len(text.encode()) - MAX_PLAINTEXT
        keep = max(0, len(data["body"]) - max(1, excess // 3 + 1) - 1)  # CJK is 3 bytes a character
        data["body"] = data["body"][:keep] + "…" if keep else ""
        text = _JSON.encode(data)
    while len(text.encode()) > MAX_PLAINTEXT and len(data["title"]) > 1:
        data["title"] = data["title"][: len(data["title"]) // 2] + "…"
        text = _JSON.encode(data)
    return text


def _vapid_headers(private_key: str, subject: str, endpoint: str) -> dict:
    """Signed once per push service origin and reused for an hour (the token is valid for 12)."""
    parts = urlsplit(endpoint)
    audience = f"{parts.scheme}://{parts.netloc}"
    now = time.time()
    with _vapid_lock:
        cached = _vapid_cache.get(audience + private_key[:8])
        if cached and cached[0] > now:
            return dict(cached[1])
    vapid = Vapid.from_string(private_key=private_key)
    headers = vapid.sign({"sub": subject, "aud": audience, "exp": int(now) + 12 * 3600})
    with _vapid_lock:
        _vapid_cache[audience + private_key[:8]] = (now + 3600, headers)
    return dict(headers)


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def encrypt(data: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291 message encryption (RFC 8188 aes128gcm, one record) for one subscription, by http_ece as pywebpush
    does it: an ephemeral P-256 key per message, the header carrying its public key."""
    receiver = _unb64(p256dh)
    secret = _unb64(auth)
    if len(receiver) != 65 or receiver[0] != 4 or len(secret) < 16:
        raise ValueError("invalid keys in the subscription")
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    return http_ece.encrypt(data, salt=os.urandom(16), private_key=ephemeral, dh=receiver, auth_secret=secret,
                            rs=_RECORD_SIZE, version="aes128gcm")


class ProxyChoice:
    """The proxy for a push service's address, as the environment says: HTTPS_PROXY / HTTP_PROXY, except for the
    hosts in NO_PROXY (read once; the answer is kept per host, as a worker talks to a handful of push services)."""

    def __init__(self):
        self.proxies = {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")}
        self.bypassed: dict[str, bool] = {}

    def __call__(self, endpoint: str) -> str | None:
        parts = urlsplit(endpoint)
        proxy = self.proxies.get(parts.scheme)
        if proxy is None:
            return None
        host = parts.hostname or ""
        if host not in self.bypassed:
            self.bypassed[host] = bool(urllib.request.proxy_bypass(host))
        return None if self.bypassed[host] else proxy


class CheckedResolver(aiohttp.abc.AbstractResolver):
    """Push services' host names resolved through app.safe_urls.allowed_addresses (public addresses only; loopback too
    under the tests' NOTIFICATIONS_ALLOW_INSECURE_PUSH): the addresses checked are the very ones connected to, so a
    DNS answer that changes after a check (rebinding) cannot lead to an internal address. The proxies' own hosts
    (the operators' choice) are resolved plainly."""

    def __init__(self, proxy_hosts: set[str]):
        self.allow_local = False
        self.proxy_hosts = proxy_hosts
        self.plain = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        if host.rstrip(".") in self.proxy_hosts:
            return await self.plain.resolve(host, port, family)
        addresses = await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(allowed_addresses, host, port, allow_local=self.allow_local))
        results = [{"hostname": host, "host": address, "port": port, "proto": 0, "flags": socket.AI_NUMERICHOST,
                    "family": socket.AF_INET6 if ":" in address else socket.AF_INET} for address in addresses]
        return [r for r in results if family in (socket.AF_UNSPEC, r["family"])] or results

    async def close(self) -> None:
        await self.plain.close()


class _Pusher:
    """This process's asyncio loop (its own daemon thread) and aiohttp session. Threads hand it whole batches."""

    def __init__(self, connections: int):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.connections = connections
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), name="webpush-sender", daemon=True).start()
        ready.wait()
        if not hasattr(self, "session"):
            raise RuntimeError("the push sender could not start (see the log)")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.proxy_for = ProxyChoice()
        proxy_hosts = {urlsplit(proxy).hostname or "" for proxy in self.proxy_for.proxies.values()}

        async def open_session() -> aiohttp.ClientSession:
            self.resolver = CheckedResolver(proxy_hosts)  # (needs the running loop)
            connector = aiohttp.TCPConnector(limit=self.connections, ttl_dns_cache=300, resolver=self.resolver)
            return aiohttp.ClientSession(connector=connector,
                                         trust_env=False, auto_decompress=False,
                                         cookie_jar=aiohttp.DummyCookieJar())  # push services set no cookies

        try:
            self.session = self.loop.run_until_complete(open_session())
        finally:
            ready.set()  # (and when opening failed: the caller sees it at once instead of waiting for ever)
        self.loop.run_forever()

    def submit(self, items: Sequence[Outgoing], config: dict) -> Future:
        """A future of one result per item: its Outcome, or the exception its sending raised."""
        self.resolver.allow_local = bool(config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH"))
        return asyncio.run_coroutine_threadsafe(self._send_all(list(items), config), self.loop)

    async def _send_all(self, items: list[Outgoing], config: dict) -> list:
        return await asyncio.gather(*(self._send(item, config) for item in items), return_exceptions=True)

    async def _send(self, outgoing: Outgoing, config: dict) -> Outcome:
        private_key = config.get("NOTIFICATIONS_VAPID_PRIVATE_KEY")
        if not private_key:
            raise TemporaryFailure("web push is not configured (VAPID_PRIVATE_KEY)", retry_after=3600)
        subject = config.get("NOTIFICATIONS_VAPID_SUBJECT", "mailto:ops@beiyang.local")
        ttl = str(config.get("NOTIFICATIONS_PUSH_TTL", 86400))
        seconds = config.get("NOTIFICATIONS_SEND_TIMEOUT", 10)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)
        data = payload_for(outgoing).encode()
        answers: list[tuple[int, int | None, str]] = []  # (subscription id, status or None, reason / Retry-After)
        for sub in outgoing.subscriptions:
            headers = _vapid_headers(private_key, subject, sub["endpoint"])
            headers.update({"TTL": ttl, "Content-Encoding": "aes128gcm",
                            "Urgency": "high" if outgoing.urgent else "normal",
                            # a newer push of the same message replaces a queued one
                            "Topic": f"n{outgoing.notification_id}"})
            try:
                body = encrypt(data, sub["p256dh"], sub["auth"])
            except (PermanentFailure, ValueError, TypeError):
                answers.append((sub["id"], 0, "invalid subscription keys"))
                continue
            answers.append((sub["id"], *await self._post(sub["endpoint"], body, headers, timeout, config)))
        return outcome_of(answers)

    async def _post(self, endpoint: str, body: bytes, headers: dict, timeout, config: dict) -> tuple[int | None, str]:
        """(status, Retry-After) of one subscription's push; (None, why) when unreachable or its address cannot be
        found (temporary), (0, why) when its address is refused (app.safe_urls: checked at every sending, DNS may
        have changed). Never raises: one broken subscription does not keep the message from the person's others."""
        allow_local = bool(config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH"))
        proxy = self.proxy_for(endpoint)
        try:
            if proxy:  # the proxy resolves the name: check it here (the resolver sees only the proxy's host)
                await asyncio.get_running_loop().run_in_executor(
                    None, functools.partial(check_public_url, endpoint, allow_local=allow_local))
            else:  # the URL and an IP literal here; a name's addresses when connecting (CheckedResolver)
                check_public_url(endpoint, allow_local=allow_local, names_at_connect=True)
            async with self.session.post(endpoint, data=body, headers=headers, timeout=timeout,
                                         allow_redirects=False, proxy=proxy) as answer:
                await answer.read()
                return answer.status, answer.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            refused = error if isinstance(error, RefusedURL) else error.__cause__
            if isinstance(refused, RefusedURL):
                return (None if refused.code == "dns" else 0), f"push service address refused: {refused}"
            return None, type(error).__name__
        except Exception as error:  # noqa: BLE001  (whatever it is, it concerns this subscription alone)
            log.exception("sending a push failed")
            return None, f"{type(error).__name__}: {error}"


def outcome_of(answers: list[tuple[int, int | None, str]]) -> Outcome:
    """The delivery's result from each subscription's answer (status None: unreachable, 0: not sendable): delivered
    if any took it (2xx up to 202); gone ones noted; otherwise a temporary failure (unreachable, 429, 5xx) to retry,
    or a permanent one."""
    outcome = Outcome()
    temporary: list[tuple[str, int | None]] = []
    permanent: list[str] = []
    for subscription_id, status, detail in answers:
        if status is None:
            temporary.append((detail if "refused" in detail else f"push service unreachable: {detail}", None))
        elif status == 0:
            permanent.append(detail)
        elif 200 <= status <= 202:
            outcome.delivered_subscription_ids.append(subscription_id)
        elif status in (404, 410):
            outcome.gone_subscription_ids.append(subscription_id)
        elif status == 429 or status >= 500:
            temporary.append((f"push service answered {status}", int(detail) if detail.isdigit() else None))
        else:
            permanent.append(f"push service answered {status}")
    if temporary and not outcome.delivered_subscription_ids:
        reason, retry_after = temporary[0]
        raise _with_outcome(TemporaryFailure(reason, retry_after=retry_after), outcome)
    if permanent and not outcome.delivered_subscription_ids and not temporary:
        if outcome.gone_subscription_ids:
            return outcome
        raise _with_outcome(PermanentFailure(permanent[0]), outcome)
    return outcome


def pusher(config: dict) -> _Pusher:
    """This process's sender (a new one after a fork: a loop's thread does not survive it)."""
    global _pusher
    with _pusher_lock:
        if _pusher is None or _pusher.pid != os.getpid():
            _pusher = _Pusher(config.get("NOTIFICATIONS_PUSH_CONNECTIONS", 128))
        return _pusher


def send_many(items: Sequence[Outgoing], config: dict) -> Future:
    """Send these pushes side by side; a future of one result per item (an Outcome or the exception raised)."""
    return pusher(config).submit(items, config)


def send_webpush(outgoing: Outgoing, config: dict) -> Outcome:
    result = send_many([outgoing], config).result()[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _with_outcome(error: Exception, outcome: Outcome) -> Exception:
    error.outcome = outcome  # gone subscriptions are removed even when the delivery as a whole is retried
    return error


def generate_vapid_keys() -> tuple[str, str]:
    """(private key as base64url of the raw 32 bytes, public key as base64url of the uncompressed point)."""
    vapid = Vapid()
    vapid.generate_keys()
    raw_private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    raw_public = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)

    def b64(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    return b64(raw_private), b64(raw_public)
