"""Issue 17, "At the door": what a walk-through on a 375 px phone in Chromium (zh-CN) found, each checked the way it
was found. The phones here live in New York, so a time shown in the phone's own zone instead of the event's
(Asia/Shanghai) shows up."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db_types import utcnow
from app.extensions import db
from checkin import services
from checkin.models import Scan
from tests.checkin.test_browser import PHONE, browser_type_launch_args, server  # noqa: F401  (fixtures)
from tests.checkin.test_browser_door import count, enter
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def phone_far_away(browser, app, base, user):
    """A phone signed in as `user` whose own clock is set to New York's time zone."""
    context = browser.new_context(**PHONE, timezone_id="America/New_York")
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie_for(app, user),
                          "url": base}])
    return context


def shanghai_clock(moment) -> str:
    """"18:52" in Shanghai; the scanner puts the date first ("12-08 18:52") when that is not today there."""
    local = moment.astimezone(SHANGHAI)
    today = utcnow().astimezone(SHANGHAI).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


def test_offline_already_admitted_names_the_gate_and_the_events_time(app, browser, server, door_event,  # noqa: F811
                                                                      confirmed, token_of, steward):
    from playwright.sync_api import expect

    event = door_event()
    registration = confirmed(event, name="赵一鸣")
    token = token_of(registration)
    services.scan_ticket(event.id, steward(event, "B门志愿者"), token=token, gate="B", scan_id="at-gate-b",
                         now=utcnow())
    db.session.commit()
    admitted_at = services.attendance(event.id)["came"][0]["at"]
    gate_a = steward(event, "A门志愿者")
    db.session.rollback()

    context = phone_far_away(browser, app, server, gate_a)
    page = context.new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=A")
    expect(page.locator("[data-testid=scanner]")).to_have_attribute("data-kit", "ready")

    # offline: the ticket list knows where and when (it used to say "从 入口入场" in New York's time)
    context.set_offline(True)
    enter(page, token)
    result = page.get_by_test_id("result")
    expect(result).to_have_attribute("data-mode", "offline")
    expect(result).to_have_attribute("data-result", "already_admitted")
    expect(page.get_by_test_id("detail")).to_contain_text(f"已于 {shanghai_clock(admitted_at)} 从 B 口入场")
    result.tap()

    # online: the server's answer, in Shanghai's time too
    context.set_offline(False)
    expect(page.get_by_test_id("mode")).to_have_attribute("data-mode", "online", timeout=15000)
    enter(page, token)
    expect(result).to_have_attribute("data-mode", "online")
    expect(result).to_have_attribute("data-result", "already_admitted")
    expect(page.get_by_test_id("detail")).to_contain_text(f"已于 {shanghai_clock(admitted_at)} 从 B 口入场")


def test_check_in_not_open_says_when_it_opens(app, browser, server, door_event, confirmed, token_of,  # noqa: F811
                                              steward):
    from playwright.sync_api import expect

    event = door_event(starts_in=timedelta(hours=5))
    config = services.ensure_config(event.id, now=utcnow())
    opens_at = event.starts_at - timedelta(minutes=config.opens_minutes_before)
    token = token_of(confirmed(event))
    gate = steward(event)
    db.session.rollback()

    context = phone_far_away(browser, app, server, gate)
    page = context.new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=A")
    expect(page.locator("[data-testid=scanner]")).to_have_attribute("data-kit", "ready")
    enter(page, token)
    result = page.get_by_test_id("result")
    expect(result).to_have_attribute("data-result", "not_open")
    expect(page.get_by_test_id("verdict")).to_have_text("签到尚未开放")
    expect(page.get_by_test_id("detail")).to_contain_text(f"签到将于 {shanghai_clock(opens_at)} 开放")
    result.tap()

    context.set_offline(True)
    enter(page, token)
    expect(result).to_have_attribute("data-mode", "offline")
    expect(result).to_have_attribute("data-result", "not_open")
    expect(page.get_by_test_id("detail")).to_contain_text(f"签到将于 {shanghai_clock(opens_at)} 开放")
    context.set_offline(False)
    assert count(Scan) == 1


# ---- 2. the ticket kept on the phone follows the registration -------------------------------------------------------

def test_a_ticket_cancelled_on_this_phone_shows_no_code_offline(app, browser, server, door_event,  # noqa: F811
                                                                 confirmed):
    from playwright.sync_api import expect

    event = door_event(title="技术沙龙：向量数据库")
    registration = confirmed(event, name="林晓舟")
    owner = registration.user
    db.session.rollback()

    context = phone_far_away(browser, app, server, owner)
    page = context.new_page()
    page.goto(f"{server}/tickets/{registration.id}")
    expect(page.get_by_test_id("offline-ready")).to_be_visible()  # the service worker keeps a copy

    page.goto(f"{server}/events/{event.id}")
    page.get_by_test_id("cancel").locator("summary").tap()
    page.get_by_test_id("confirm-cancel").tap()
    expect(page.get_by_test_id("signup-card")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("signup-card")).to_have_attribute("data-ticket-cache", "updated")

    context.set_offline(True)
    page.goto(f"{server}/tickets/{registration.id}")
    expect(page.get_by_test_id("ticket-void")).to_contain_text("这张门票已失效")  # said in words
    expect(page.get_by_test_id("ticket-qr")).to_have_count(0)
    expect(page.get_by_text("入场时出示此码")).to_have_count(0)


def test_an_open_ticket_follows_a_reissue_and_a_cancellation_made_elsewhere(app, browser, server, door_event,  # noqa: F811
                                                                            confirmed, token_of, organizer):
    from playwright.sync_api import expect

    from checkin.services import reissue_ticket
    from events.services import cancel_registration

    event = door_event()
    registration = confirmed(event, name="赵一鸣")
    old_token = token_of(registration)
    owner = registration.user
    db.session.rollback()

    context = phone_far_away(browser, app, server, owner)
    page = context.new_page()
    page.goto(f"{server}/tickets/{registration.id}")
    expect(page.get_by_test_id("offline-ready")).to_be_visible()
    expect(page.get_by_test_id("ticket-qr")).to_have_attribute("data-token", old_token)

    # re-issued from another device: as soon as this phone is online again it shows the new code, and keeps it
    reissue_ticket(registration.id, owner, now=utcnow())
    db.session.commit()
    new_token = token_of(registration)
    context.set_offline(True)
    page.wait_for_timeout(500)
    context.set_offline(False)
    expect(page.get_by_test_id("ticket-qr")).to_have_attribute("data-token", new_token, timeout=15000)
    context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("ticket-qr")).to_have_attribute("data-token", new_token)

    # cancelled by the organizer: the open page learns it when the network returns, and offline stays void
    context.set_offline(False)
    cancel_registration(registration.id, organizer, now=utcnow())
    db.session.commit()
    context.set_offline(True)
    page.wait_for_timeout(500)
    context.set_offline(False)
    expect(page.get_by_test_id("ticket-void")).to_be_visible(timeout=15000)
    context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("ticket-void")).to_be_visible()
    expect(page.get_by_test_id("ticket-qr")).to_have_count(0)


# ---- 4. the scanner opens offline --------------------------------------------------------------------------------

def test_the_scanner_page_opens_offline_with_its_kit(app, browser, server, door_event, confirmed,  # noqa: F811
                                                     token_of, steward):
    from playwright.sync_api import expect

    from checkin.models import Admission

    event = door_event()
    token = token_of(confirmed(event, name="林晓舟"))
    gate = steward(event)
    db.session.rollback()

    context = phone_far_away(browser, app, server, gate)
    page = context.new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=B")
    scanner = page.locator("[data-testid=scanner]")
    expect(scanner).to_have_attribute("data-kit", "ready")
    expect(scanner).to_have_attribute("data-offline-page", "ready", timeout=15000)
    expect(page.get_by_test_id("expected")).to_have_text("1")
    page.close()

    # the next morning at the door, no network: the page opens from the phone, with its ticket list
    context.set_offline(True)
    page = context.new_page()
    page.goto(f"{server}/events/{event.id}/scan?gate=B")
    scanner = page.locator("[data-testid=scanner]")
    expect(page.get_by_role("heading", name="入口 B")).to_be_visible()
    expect(page.get_by_test_id("mode")).to_have_attribute("data-mode", "offline")
    expect(scanner).to_have_attribute("data-kit", "ready")
    expect(page.get_by_test_id("expected")).to_have_text("1")  # the last numbers seen
    enter(page, token)
    result = page.get_by_test_id("result")
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_have_attribute("data-mode", "offline")
    expect(page.get_by_test_id("who")).to_contain_text("林晓舟")
    result.tap()
    expect(page.get_by_test_id("queued")).to_have_text("1")
    assert count(Admission) == 0

    context.set_offline(False)
    expect(page.get_by_test_id("queued")).to_have_text("0", timeout=15000)
    assert count(Admission) == 1


# ---- 3. /manage leads to check-in; 6. the door settings fit a phone -----------------------------------------------

def test_manage_leads_to_check_in_the_gates_scanners_and_tidy_door_settings(app, browser, server, door_event,  # noqa: F811
                                                                             organizer):
    import io

    import zxingcpp
    from PIL import Image
    from playwright.sync_api import expect

    event = door_event(title="模速路演日")
    chief = organizer
    db.session.rollback()

    page = phone_far_away(browser, app, server, chief).new_page()
    page.goto(f"{server}/manage/events/{event.id}")
    door = page.get_by_test_id("door")
    expect(door).to_contain_text("签到")
    for gate in ("A", "B", "C"):
        expect(page.get_by_test_id(f"scanner-{gate}")).to_have_attribute(
            "href", f"{server}/events/{event.id}/scan?gate={gate}")

    # a QR code that opens gate B's scanner on another phone
    page.get_by_test_id("scanner-qr-open-B").tap()
    shot = page.get_by_test_id("scanner-qr-B").screenshot()
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))] == [
        f"{server}/events/{event.id}/scan?gate=B"]
    page.get_by_test_id("scanner-B").tap()
    expect(page.get_by_role("heading", name="入口 B")).to_be_visible()

    page.go_back()
    page.get_by_test_id("open-checkin").tap()
    expect(page.get_by_test_id("checkin-summary")).to_be_visible()
    expect(page.get_by_test_id("no-shows")).to_have_text("0")

    # the door settings at 375 px: nothing wider than the screen, every control at least 44 px tall
    page.go_back()
    page.get_by_test_id("open-door-settings").tap()
    form = page.get_by_test_id("door-settings")
    expect(form).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for control in (form.locator("label").first, page.get_by_test_id("opens-minutes"), form.locator("button")):
        box = control.bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    box = page.get_by_test_id("allow-reentry").bounding_box()
    assert box["width"] >= 20, box  # a checkbox a thumb can find
