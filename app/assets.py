"""Weight on the wire: compressed responses and static files that are fetched once a year.

- Compression (Flask-Compress): HTML, CSS, JavaScript, JSON, SVG, the manifest and calendars go out with brotli or
  gzip, whichever the browser asks for, on every server (the embedded `python -m app`, gunicorn, behind nginx).
  Socket.IO never passes through here (Engine.IO answers before Flask, with its own compression of long-polling
  payloads), and streamed responses are left alone (COMPRESS_STREAMS off), so a future server-sent stream is
  never buffered to be compressed.
- Static files: templates write `static_url('css/app.css')`, which adds the file's content hash
  (`/static/css/app.css?v=3f2a…`). A request whose `v` is the hash of the file being served is cached for a year,
  `immutable`: a page never revalidates it, and changing the file changes its URL. Any other request (no `v`, or
  the `v` of another version, e.g. an old page during a release) gets `no-cache`, so a stale copy is never kept
  under a new name. Service workers keep their own stable URLs (/tickets/sw.js, /sw.js, both `no-cache`); the
  tickets' worker matches its offline copies by path, so the query string does not change what it keeps.
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, current_app, request, url_for
from flask_compress import Compress
from werkzeug.security import safe_join

from app import page_cache

compress = Compress()

YEAR = 31536000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
COMPRESSED_TYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "application/problem+json", "application/manifest+json", "image/svg+xml", "text/calendar", "text/plain",
]
VERSION_ARG = "v"

_digests: dict[str, tuple[int, int, str]] = {}  # absolute path -> (mtime_ns, size, digest)
_digests_lock = threading.Lock()


def asset_digest(filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file, or None when there is no such file. Remembered
    per file until its modification time or size changes (a `make run` with an edited file picks it up)."""
    folder = current_app.static_folder
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    known = _digests.get(path)
    if known and known[0] == stat.st_mtime_ns and known[1] == stat.st_size:
        return known[2]
    try:
        with open(path, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()[:12]
    except OSError:
        return None
    with _digests_lock:
        _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def static_url(filename: str) -> str:
    """The URL of a static file with its content hash: what every template uses for its sheets and scripts."""
    digest = asset_digest(filename)
    if digest is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, **{VERSION_ARG: digest})


def _static_caching(response):
    """Static files: a year for the exact version asked for, revalidation otherwise. Any file sent (static, a
    service worker) is read whole when it is of a compressed type, so that Flask-Compress compresses it like any
    response: a file goes out streamed, which it would otherwise skip (COMPRESS_STREAMS off). A stream made by a
    generator is not a file (no direct_passthrough) and stays a stream."""
    if request.endpoint == "static":
        filename = (request.view_args or {}).get("filename") or ""
        version = request.args.get(VERSION_ARG)
        if response.status_code in (200, 304) and version and version == asset_digest(filename):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
    if (response.status_code == 200 and response.direct_passthrough
            and response.mimetype in compress.compress_mimetypes_set):
        response.direct_passthrough = False
        response.set_data(response.get_data())
    return response


def _same_key(_request) -> str:
    return ""  # Flask-Compress puts the encoding before it


def _compress(response):
    """Flask-Compress's step, asked only of a response it may compress. Of any other (a small JSON answer, a
    redirect, an image) it only adds `Vary: Accept-Encoding`, after parsing the request's Accept-Encoding first: a
    fifteenth of what /healthz costs. Its own conditions, asked cheapest first."""
    config = current_app.config
    length = response.content_length
    if (response.status_code < 200 or response.status_code >= 300
            or (response.is_streamed and not config["COMPRESS_STREAMS"])
            or response.mimetype not in compress.compress_mimetypes_set
            or (length is not None and length < config["COMPRESS_MIN_SIZE"])
            or "Content-Encoding" in response.headers):
        add_vary(response, "Accept-Encoding")
        return response
    return compress.after_request(response)


def add_vary(response, name: str) -> None:
    """`response.vary.add(name)`, without parsing the header into a set and writing it back: two steps that every
    response takes (Accept-Encoding, and Cookie when the session was looked at)."""
    current = response.headers.get("Vary")
    if not current:
        response.headers["Vary"] = name
    elif name.lower() not in (part.strip().lower() for part in current.split(",")):
        response.headers["Vary"] = f"{current}, {name}"


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # smaller than gzip -6 at a similar cost; 4 (the default) is not
    app.config.setdefault("COMPRESS_CACHE_BACKEND", page_cache.CompressedCopies)
    app.config.setdefault("COMPRESS_CACHE_KEY", _same_key)  # which copy: app.page_cache's answer says
    app.config["COMPRESS_REGISTER"] = False  # its step is registered below, behind a cheaper first look
    compress.init_app(app)
    app.after_request(_compress)
    # Registered after compression, so it runs before it (Flask calls after_request functions last-registered first).
    app.after_request(_static_caching)
    app.jinja_env.globals["static_url"] = static_url
