"""In Chromium, at a phone's size: a phone without WebCrypto Ed25519 still checks tickets offline (the vendored
@noble/ed25519 verifies them, a forged one is refused); a supervisor registers a walk-in at the door and sees the
green screen; at an event with re-entry, "going out" then "coming in" lets the same ticket out and in again, and
"who is inside now" follows."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from checkin import services
from checkin.models import Admission, WalkIn
from tests.checkin.test_browser import browser_type_launch_args, phone_as, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

# What a browser without Ed25519 in WebCrypto does (Chrome before 137, Safari before 17): importKey refuses it.
NO_WEBCRYPTO_ED25519 = """
(() => {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = function (format, key, algorithm, ...rest) {
    const name = algorithm && (algorithm.name || algorithm);
    if (String(name).toLowerCase() === "ed25519") {
      return Promise.reject(new DOMException("no Ed25519", "NotSupportedError"));
    }
    return importKey(format, key, algorithm, ...rest);
  };
})();
"""


def count(model, **where) -> int:
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))
    finally:
        db.session.rollback()


def enter(page, code: str) -> None:
    page.get_by_test_id("manual-token").fill(code)
    page.get_by_test_id("manual-token").press("Enter")


def test_a_phone_without_webcrypto_ed25519_verifies_offline_with_the_vendored_library(
        app, browser, server, door_event, confirmed, token_of, steward):  # noqa: F811
    from playwright.sync_api import expect

    event = door_event()
    token = token_of(confirmed(event, name="赵一鸣"))
    gate = steward(event)
    db.session.rollback()

    context = phone_as(browser, app, server, gate)
    context.add_init_script(NO_WEBCRYPTO_ED25519)
    page = context.new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=A")
    scanner = page.locator("[data-testid=scanner]")
    expect(scanner).to_have_attribute("data-kit", "ready")
    expect(scanner).to_have_attribute("data-verifier", "noble")

    context.set_offline(True)
    forged = token[:60] + ("A" if token[60] != "A" else "B") + token[61:]
    enter(page, forged)
    result = page.get_by_test_id("result")
    expect(page.get_by_test_id("mode")).to_have_attribute("data-mode", "offline")
    expect(result).to_have_attribute("data-result", "invalid")
    result.tap()
    enter(page, token)
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_have_attribute("data-mode", "offline")
    expect(page.get_by_test_id("who")).to_contain_text("赵一鸣")
    result.tap()

    context.set_offline(False)
    expect(page.get_by_test_id("queued")).to_have_text("0", timeout=15000)
    assert count(Admission) == 1


def test_walk_ins_and_re_entry_at_the_door(app, browser, server, door_event, confirmed, token_of,  # noqa: F811
                                           supervisor):
    from playwright.sync_api import expect

    event = door_event(capacity=2)
    config = services.ensure_config(event.id, now=event.starts_at)
    config.allow_reentry = True
    db.session.commit()
    token = token_of(confirmed(event, name="林晓舟"))
    chief = supervisor(event)
    db.session.rollback()

    page = phone_as(browser, app, server, chief).new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=A")
    expect(page.locator("[data-testid=scanner]")).to_have_attribute("data-kit", "ready")
    result = page.get_by_test_id("result")

    # a walk-in: registered and admitted at once, shown green as a walk-in
    page.get_by_test_id("walk-in").locator("summary").tap()
    page.get_by_test_id("walk-in-phone").fill("139 1234 0001")
    page.get_by_test_id("walk-in-name").fill("现场来宾")
    page.get_by_test_id("walk-in-phone").press("Enter")
    expect(result).to_have_attribute("data-result", "admitted")
    expect(page.get_by_test_id("who")).to_contain_text("现场来宾")
    expect(page.get_by_test_id("who")).to_contain_text("139****0001")
    result.tap()
    assert count(WalkIn) == 1

    # the event is now full: the next walk-in is refused with the reason, nothing is written
    page.get_by_test_id("walk-in-phone").fill("13912340002")
    page.get_by_test_id("walk-in-phone").press("Enter")
    expect(page.get_by_test_id("walk-in-note")).to_be_visible()
    assert count(WalkIn) == 1

    # in, out, in again
    enter(page, token)
    expect(result).to_have_attribute("data-result", "admitted")
    result.tap()
    expect(page.get_by_test_id("inside")).to_have_text("2")
    page.get_by_test_id("direction-out").tap()
    enter(page, token)
    expect(result).to_have_attribute("data-result", "exited")
    expect(result).to_have_class(re.compile("ok"))
    result.tap()
    expect(page.get_by_test_id("inside")).to_have_text("1")
    page.get_by_test_id("inside-panel").locator("summary").tap()
    expect(page.get_by_test_id("inside-list")).to_contain_text("现场来宾")
    expect(page.get_by_test_id("inside-list")).not_to_contain_text("林晓舟")
    page.get_by_test_id("direction-in").tap()
    enter(page, token)
    expect(result).to_have_attribute("data-result", "admitted")
    result.tap()
    expect(page.get_by_test_id("inside")).to_have_text("2")
    expect(page.get_by_test_id("inside-list")).to_contain_text("林晓舟")


def test_a_supervisor_lets_in_a_cancelled_ticket_with_a_logged_reason(app, browser, server, door_event,  # noqa: F811
                                                                       confirmed, token_of, supervisor):
    from playwright.sync_api import expect

    from app.db_types import utcnow
    from checkin.models import Scan
    from events.services import cancel_registration

    event = door_event()
    registration = confirmed(event, name="取消了的嘉宾")
    token = token_of(registration)
    cancel_registration(registration.id, registration.user, now=utcnow())
    db.session.commit()
    chief = supervisor(event)
    db.session.rollback()

    page = phone_as(browser, app, server, chief).new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=A")
    expect(page.locator("[data-testid=scanner]")).to_have_attribute("data-kit", "ready")
    enter(page, token)
    result = page.get_by_test_id("result")
    expect(result).to_have_attribute("data-result", "revoked")
    expect(page.get_by_test_id("override-form")).to_be_visible()
    page.get_by_test_id("override-reason").fill("主办方临时邀请的嘉宾")
    page.get_by_test_id("override").tap()
    expect(result).to_have_attribute("data-result", "admitted")
    expect(page.get_by_test_id("override-form")).to_be_hidden()
    override = db.session.scalars(sa.select(Scan).where(Scan.mode == "override")).one()
    assert override.result == "admitted" and override.reason == "主办方临时邀请的嘉宾" and override.actor_id == chief.id
    db.session.rollback()
