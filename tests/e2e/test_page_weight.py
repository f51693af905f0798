"""Weight on the wire (issue 17), in Chromium on a phone (375 x 812): the four pages a resident opens first (home,
an event, the event signed in with its sign-up form, the ticket) each cost under 60 KB with an empty cache; their
HTML, CSS and JavaScript come compressed, their static files by hash with a year's cache, so the next page
revalidates none of them; and none of them loads the Socket.IO client. bench/page_weight.py prints the same
numbers on the demo town, with Lighthouse's score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser

from app.db_types import utcnow
from app.extensions import db
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.browser

BUDGET = 60 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
QUESTIONS = [{"id": "track", "label": "你关注哪个方向？", "kind": "choice", "required": True,
              "choices": ["大模型应用", "AI 基础设施", "具身智能"]}]


@pytest.fixture
def town(create_event, create_resident):
    from events.services import register_for_event

    roadshow = create_event(title="模速路演日", title_en="Roadshow day", kind="roadshow", capacity=200,
                            description="十支 AI 团队现场路演，投资人点评。" * 8)
    salon = create_event(title="技术沙龙：RAG 落地实践", title_en="Salon: RAG in practice", capacity=40,
                         questions=QUESTIONS, starts_in=timedelta(days=5))
    for n in range(6):
        create_event(title=f"AI 创业者早餐会 第 {n + 1} 期", starts_in=timedelta(days=7 + n))
    founder = create_resident(name="林晓舟", company="星河智算")
    registration, _ = register_for_event(roadshow.id, founder, now=utcnow())
    db.session.commit()
    pages = {"home": ("/", False), "event": (f"/events/{salon.id}", False),
             "sign-up": (f"/events/{salon.id}", True), "ticket": (f"/tickets/{registration.id}", True)}
    db.session.rollback()
    return founder, pages


def load_cold(browser: Browser, browser_context_args, live_server: str, path: str, cookie: dict | None):
    """A new context (empty cache, no cookies but the session's), the page until the network is quiet: every
    finished request with what it cost on the wire (headers and body as sent)."""
    context = browser.new_context(**browser_context_args)
    if cookie:
        context.add_cookies([cookie])
    finished: list = []
    context.on("requestfinished", lambda request: finished.append(request))  # the page's and its worker's
    page = context.new_page()
    page.goto(live_server + path, wait_until="networkidle")
    page.wait_for_timeout(300)
    return context, page, finished


def wire_bytes(request) -> int:
    sizes = request.sizes()
    return sizes["responseBodySize"] + sizes["responseHeadersSize"]


def test_the_first_pages_are_light_compressed_and_cached_for_a_year(app, browser: Browser, browser_context_args,
                                                                      live_server, town):
    founder, pages = town
    cookie = {"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie_for(app, founder),
              "url": live_server}
    db.session.rollback()
    weights = {}
    for name, (path, signed_in) in pages.items():
        context, page, finished = load_cold(browser, browser_context_args, live_server, path,
                                            cookie if signed_in else None)
        try:
            assert page.url == live_server + path, name  # the page itself, not a sign-in redirect
            weights[name] = sum(wire_bytes(request) for request in finished)
            for request in finished:
                response = request.response()
                url = request.url[len(live_server):]
                assert response is not None and response.status < 400, (name, url)
                headers = response.headers
                assert "socket.io" not in url, (name, url)  # the live client is for live pages only
                if request.resource_type in ("document", "stylesheet", "script") and len(response.body()) > 1000:
                    assert headers.get("content-encoding") in ("gzip", "br", "zstd"), (name, url, headers)
                if url.startswith("/static/") and not request.service_worker:  # the worker keeps its own copies
                    assert "?v=" in url and headers.get("cache-control") == IMMUTABLE, (name, url, headers)
        finally:
            context.close()
    print("transferred cold, bytes:", weights)
    assert all(weight < BUDGET for weight in weights.values()), weights


def test_the_next_page_revalidates_no_static_file(app, browser: Browser, browser_context_args, live_server, town):
    founder, pages = town
    db.session.rollback()
    context, page, _ = load_cold(browser, browser_context_args, live_server, "/", None)
    try:
        page.goto(live_server + pages["event"][0], wait_until="networkidle")
        entries = page.evaluate("""() => performance.getEntriesByType("resource")
            .filter(e => new URL(e.name).pathname.startsWith("/static/"))
            .map(e => [e.name, e.deliveryType])""")
        assert entries, "the event page loads static files"
        assert all(delivery == "cache" for _, delivery in entries), entries  # from the browser's cache, not a 304
    finally:
        context.close()
