"""Security headers on every page: a Content-Security-Policy that runs scripts from this site only (inline ones only
with the request's nonce), HSTS over https only, and no inline script or on*= handler left in any template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string

from app.config import PROJECT_ROOT


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split("; ")}


@pytest.mark.parametrize("path", ["/", "/auth/login", "/api/v1/openapi.json", "/static/js/page.js", "/no-such-page"])
def test_every_response_has_the_policy(client, path):
    policy = directives(client.get(path))
    assert policy["script-src"] == "'self'"  # no nonce when no template asked for one; never 'unsafe-inline'/eval
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert policy["img-src"] == "'self' data: blob:"
    assert policy["connect-src"] == "'self' ws://localhost wss://localhost"
    assert policy["worker-src"] == "'self' blob:"
    assert policy["style-src-elem"] == "'self'"


def test_an_inline_script_runs_only_with_the_nonce_of_its_request(app):
    from app.security import _security_headers

    seen = []
    for _ in range(2):
        with app.test_request_context("/"):
            html = render_template_string('<script nonce="{{ csp_nonce() }}">1</script>')
            nonce = re.search(r'nonce="([^"]+)"', html).group(1)
            response = _security_headers(app.response_class(html))
            assert f"'nonce-{nonce}'" in directives(response)["script-src"]
            seen.append(nonce)
    assert seen[0] != seen[1] and len(seen[0]) >= 22


def test_a_host_header_cannot_add_to_the_policy(client):
    policy = directives(client.get("/", headers={"Host": "evil; script-src *"}))
    assert policy["connect-src"] == "'self'" and policy["script-src"] == "'self'"


def test_hsts_only_over_https(client, app):
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert client.get("/", base_url="https://events.beiyang.test").headers["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains"
    app.config["SESSION_COOKIE_SECURE"] = True  # behind a proxy that terminates TLS
    try:
        assert "Strict-Transport-Security" in client.get("/").headers
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def _templates() -> list[Path]:
    return [p for p in PROJECT_ROOT.glob("*/templates/**/*.html") if ".venv" not in p.parts]


def test_no_template_has_an_inline_script_or_event_handler_attribute():
    assert len(_templates()) > 50
    offenders = []
    for path in _templates():
        html = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", html):
            attributes = match.group(1)
            if "src=" not in attributes and 'type="application/json"' not in attributes and "nonce=" not in attributes:
                offenders.append(f"{path}: inline <script{attributes}>")
        offenders += [f"{path}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", html)]
        offenders += [f"{path}: <style>" for _ in re.finditer(r"<style\b", html)]
    assert offenders == []


def test_our_scripts_use_no_eval():
    for path in list((PROJECT_ROOT / "app/static").glob("*.js")) + list((PROJECT_ROOT / "app/static/js").glob("*.js")):
        source = path.read_text()
        assert "new Function(" not in source and not re.search(r"\beval\(", source), path
