"""The Content-Security-Policy breaks nothing: on a phone (375 px), the demo town's main pages, reached by following
links as each demo persona (resident, organizer, judge, mentor), raise no `securitypolicyviolation` and log no
console error. Real Chromium against a live server."""

from __future__ import annotations

from urllib.parse import urljoin, urlparse

import pytest
from playwright.sync_api import Browser

from app.accounts.models import User
from app.db_types import utcnow
from app.demo import seed_demo
from app.extensions import db
from tests.e2e.test_team_application import signed_in_phone

pytestmark = pytest.mark.browser

COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at "
                           + (e.sourceFile || location.pathname) + ":" + e.lineNumber);
});
"""
SKIP = (".ics", ".csv", ".xlsx", "/auth/logout", "/dev/", "/static/", "/api/", "/healthz", "/ping")
PAGES_PER_PERSONA = 30
PERSONAS = ["+8613800000001", "+8613800000002", "+8613800000003", "+8613800000004"]


def key_pages() -> list[str]:
    """Pages with the most script (visited first; those a persona may not open answer 403 and are skipped)."""
    from events.models import Event
    from judging.models import CompetitionRound

    rounds = db.session.scalars(db.select(CompetitionRound.id)).all()
    events = db.session.scalars(db.select(Event.id).order_by(Event.id)).all()[:2]
    pages = [f"/judging/rounds/{r}/{view}" for r in rounds for view in ("judge", "console", "screen", "fairness")]
    pages += [f"/events/{e}/scan?gate=A" for e in events] + [f"/events/{e}/checkin" for e in events]
    pages += [f"/manage/events/{e}" for e in events] + [f"/manage/events/{e}/registrations" for e in events]
    pages += ["/manage/events/new", "/me/calendar", "/notifications/settings"]
    db.session.rollback()
    return pages


def crawl(page, base: str, limit: int, first: list[str]) -> list[str]:
    """Visit `first`, then pages breadth-first from the home page, same site only; returns the paths visited."""
    queue, seen, visited = ["/", "/auth/login"] + first, set(), []
    while queue and len(visited) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(base + path)
        if response is None or response.status >= 400 or not urlparse(page.url).path:
            continue
        page.wait_for_timeout(250)  # scripts that start after load (sockets, workers) get their turn
        visited.append(path)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            url = urlparse(urljoin(page.url, href))
            if url.netloc == urlparse(base).netloc and not url.path.endswith(SKIP) and \
                    not any(part in url.path for part in SKIP):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return visited


@pytest.mark.parametrize("phone", PERSONAS)
def test_main_pages_raise_no_policy_violation_and_no_console_error(app, browser: Browser, browser_context_args,
                                                                    live_server, phone):
    seed_demo(now=utcnow())
    db.session.commit()
    user = db.session.scalars(db.select(User).where(User.phone == phone)).one()
    db.session.rollback()
    page = signed_in_phone(browser, app, live_server, user, browser_context_args)
    page.add_init_script(COLLECT)
    problems: list[str] = []

    def on_console(message):
        refused_page = "Failed to load resource" in message.text and message.location.get("url") == page.url
        if message.type == "error" and not refused_page:  # a page this persona may not open is skipped, not a fault
            problems.append(f"console {message.type}: {message.text} {message.location.get('url')} ({page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error} ({page.url})"))
    violations: list[str] = []
    visited = crawl(page, live_server, PAGES_PER_PERSONA, key_pages())
    for path in visited:
        page.goto(live_server + path)
        page.wait_for_timeout(150)
        violations += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
    page.context.close()

    assert len(visited) >= 8, visited
    assert violations == []
    assert problems == []
