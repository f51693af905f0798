"""The service worker in Chromium: a push event shows the message as a notification, and a repeated push of the
same message (at-least-once delivery) does not show a second one. The push is handed to the worker through the
DevTools protocol (ServiceWorker.deliverPushMessage), exactly as a push service's message would arrive."""

import json
import threading
import time

import pytest

from tests import services
from tests.live_server import live_server

pytestmark = pytest.mark.browser
ARGS = services.CHROMIUM_ARGS


@pytest.fixture
def chromium_available():
    problem = services.chromium_available()
    if problem:
        services.service_missing("Chromium", problem)


def in_own_thread(test):
    """Playwright's sync API refuses a thread with a running asyncio loop (pytest-playwright leaves one in the main
    thread when the e2e tests ran first): drive Chromium from a thread of our own."""
    from playwright.sync_api import sync_playwright

    failure = []

    def run():
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=services.CHROMIUM, args=ARGS)
                try:
                    test(browser)
                finally:
                    browser.close()
        except BaseException as error:  # re-raised in the test's own thread
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if failure:
        raise failure[0]
    assert not thread.is_alive(), "the browser test did not finish"


def shown(page):
    return page.evaluate("""navigator.serviceWorker.ready
        .then(r => r.getNotifications())
        .then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))""")


def test_a_push_shows_one_notification_per_message(app, chromium_available):
    with live_server(app) as base:
        in_own_thread(lambda chromium: _push_twice_then_another(base, chromium))


def _push_twice_then_another(base, chromium):
    """A push, the same push again, then another message: two notifications, one per message."""
    context = chromium.new_context(permissions=["notifications"])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    registrations = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda e: registrations.update({r["scopeURL"]: r["registrationId"] for r in e["registrations"]}))
    cdp.send("ServiceWorker.enable")
    page.goto(base + "/")
    page.evaluate("navigator.serviceWorker.register('/sw.js', {scope: '/'})"
                  ".then(() => navigator.serviceWorker.ready)")
    deadline = time.monotonic() + 10
    while base + "/" not in registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    registration_id = registrations[base + "/"]
    payload = {"id": 41, "title": "报名成功：模速路演日", "body": "12月3日 14:00 · 模速空间", "tag": "n41",
               "url": base + "/events/7", "category": "registrations", "urgent": False}
    for _ in range(2):  # the second one is a repeat after a retry: it must not show twice
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": base, "registrationId": registration_id,
                                                      "data": json.dumps(payload, ensure_ascii=False)})
        page.wait_for_timeout(300)
    deadline = time.monotonic() + 10
    notifications = shown(page)
    while not notifications and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        notifications = shown(page)
    assert notifications == [{"title": "报名成功：模速路演日", "body": "12月3日 14:00 · 模速空间", "tag": "n41",
                              "url": base + "/events/7"}]
    other = {**payload, "id": 42, "tag": "n42", "title": "候补转正"}
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": base, "registrationId": registration_id,
                                                  "data": json.dumps(other, ensure_ascii=False)})
    deadline = time.monotonic() + 10
    while len(shown(page)) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert sorted(n["tag"] for n in shown(page)) == ["n41", "n42"]
    context.close()
