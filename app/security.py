"""Security headers on every response: the Content-Security-Policy (scripts from this site only, inline scripts only
with the request's nonce), HSTS over https, and the classic nosniff / referrer / framing headers.

Templates that truly need an inline script write <script nonce="{{ csp_nonce() }}">; none does today (page
behaviour lives in static files, driven by data attributes). The numbers and why: docs/decisions.md."""

from __future__ import annotations

import functools
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, request

from app import wechat

_NONCE_KEY = "beiyang.csp_nonce"
HSTS = "max-age=31536000; includeSubDomains"
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def csp_nonce() -> str:
    """This request's nonce for inline scripts (made on first use; the header names it only then)."""
    # Kept in the request's environ, not in g: g belongs to the app context, which a test's requests may share.
    return request.environ.setdefault(_NONCE_KEY, secrets.token_urlsafe(18))


def content_security_policy(nonce: str | None, host: str, form_targets: tuple[str, ...] = ()) -> str:
    """`form_targets`: origins besides this site that a form may end up at: a form that starts WeChat's web
    authorisation (binding WeChat) is answered with a redirect there, and browsers check form-action on redirects."""
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        # Style elements and sheets from this site only; style *attributes* are allowed: a few templates and the
        # vendored qr-scanner (its scan-region overlay) set them, and they cannot run script or select elements.
        # Browsers without style-src-elem/-attr (before CSP 3) fall back to style-src.
        "style-src": "'self' 'unsafe-inline'",
        "style-src-elem": "'self'",
        "style-src-attr": "'unsafe-inline'",
        "img-src": "'self' data: blob:",  # QR images as data: URLs, the camera's frames as blobs
        "font-src": "'self'",
        # Socket.IO: older Safari's 'self' does not cover ws:/wss: (a Host header that is not a host name adds none)
        "connect-src": f"'self' ws://{host} wss://{host}" if _HOST.fullmatch(host or "") else "'self'",
        "worker-src": "'self' blob:",  # qr-scanner starts its decoder as a blob: worker; service workers from self
        "manifest-src": "'self'",
        "media-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": " ".join(("'self'", *form_targets)),
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _form_targets(app: Flask) -> tuple[str, ...]:
    if not (wechat.configured(app.config) or wechat.website_configured(app.config)):
        return ()
    parts = urlsplit(wechat.oauth_base(app.config))
    return (f"{parts.scheme}://{parts.netloc}",)


def serves_https(app: Flask, req=None) -> bool:
    config = app.config
    return ((req or request).is_secure or config.get("PREFERRED_URL_SCHEME") == "https"
            or bool(config.get("SESSION_COOKIE_SECURE")))


def _security_headers(response):
    req = request._get_current_object()  # looked up once: every response passes here
    app = current_app._get_current_object()
    nonce = req.environ.get(_NONCE_KEY)
    https = serves_https(app, req)
    if nonce:  # a nonce is new on every response: its policy is built for it and not remembered
        policy = content_security_policy(nonce, req.host, _form_targets(app))
        wanted = (("Content-Security-Policy", policy), *_fixed_headers(https))
    else:
        wanted = _headers_for(req.host, https, _form_targets(app))
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])  # a view's own win
    return response


def _fixed_headers(https: bool) -> tuple[tuple[str, str], ...]:
    fixed = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"))
    return (*fixed, ("Strict-Transport-Security", HSTS)) if https else fixed


@functools.lru_cache(maxsize=256)  # a handful of hosts per deployment: built once each, not per response
def _headers_for(host: str, https: bool, form_targets: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return (("Content-Security-Policy", content_security_policy(None, host, form_targets)), *_fixed_headers(https))


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
