"""In Chromium at a phone's size, against a live server: an attendee opens "my ticket" (a QR that decodes to the
token); a steward at gate A pastes that code into the scanner and sees the green screen while a second scanner
(gate B, another browser context) sees the counter move; a second scan is red ("already admitted"); with the network
gone the scanner switches to offline by itself, verifies the next ticket with the event's public key, shows green,
and syncs the queued scan when the network is back."""

from __future__ import annotations

import io
import logging
import re
import threading

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.extensions import db
from checkin.models import Admission, Scan
from tests import services as test_services
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": test_services.CHROMIUM,
            "args": [*test_services.CHROMIUM_ARGS,
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]}


@pytest.fixture
def server(app):
    from werkzeug.serving import make_server

    logging.getLogger("app.errors").disabled = False
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def phone_as(browser, app, base, user):
    cookie = session_cookie_for(app, user)
    context = browser.new_context(**PHONE)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base}])
    return context


def count(model, **where) -> int:
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))
    finally:
        db.session.rollback()


def test_a_ticket_is_scanned_green_then_red_and_counters_move_online_and_offline(
        app, browser, server, door_event, confirmed, steward, tmp_path):
    from playwright.sync_api import expect

    event = door_event(title="模速路演日")
    first = confirmed(event, name="林晓舟", phone="+8613812345678")
    second = confirmed(event, name="赵一鸣")
    gate_a, gate_b = steward(event, "A门志愿者"), steward(event, "B门志愿者")
    attendee_user, second_user = first.user, second.user
    db.session.rollback()

    # ---- the attendee's ticket page: a big QR that decodes to the ticket's token
    attendee = phone_as(browser, app, server, attendee_user).new_page()
    attendee.goto(f"{server}/tickets/{first.id}")
    expect(attendee.get_by_test_id("ticket-event")).to_have_text("模速路演日")
    expect(attendee.get_by_test_id("ticket-name")).to_have_text("林晓舟")
    token = attendee.get_by_test_id("ticket-qr").get_attribute("data-token")
    shot = attendee.get_by_test_id("ticket-qr").screenshot()
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))] == [token]
    expect(attendee.get_by_test_id("offline-ready")).to_be_visible()  # the service worker keeps a copy
    attendee.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)

    second_page = phone_as(browser, app, server, second_user).new_page()
    second_page.goto(f"{server}/tickets/{second.id}")
    second_token = second_page.get_by_test_id("ticket-qr").get_attribute("data-token")

    # ---- two scanners, gates A and B
    scanner_b = phone_as(browser, app, server, gate_b).new_page()
    scanner_b.goto(f"{server}/events/{event.id}/scan?gate=B")
    expect(scanner_b.get_by_test_id("expected")).to_have_text("2")
    expect(scanner_b.get_by_test_id("admitted")).to_have_text("0")

    context_a = phone_as(browser, app, server, gate_a)
    scanner_a = context_a.new_page()
    scanner_a.goto(f"{server}/events/{event.id}")
    scanner_a.goto(f"{server}/events/{event.id}/scan")
    scanner_a.get_by_test_id("gate-A").tap()
    expect(scanner_a.get_by_test_id("mode")).to_have_attribute("data-mode", "online")
    expect(scanner_a.locator("[data-testid=scanner]")).to_have_attribute("data-kit", "ready")

    scanner_a.get_by_test_id("manual-token").fill(token)
    scanner_a.get_by_test_id("manual-token").press("Enter")
    result = scanner_a.get_by_test_id("result")
    expect(result).to_be_visible()
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_have_class(re.compile("ok"))
    expect(scanner_a.get_by_test_id("who")).to_contain_text("林晓舟")
    expect(scanner_a.get_by_test_id("who")).to_contain_text("138****5678")
    scanner_a.screenshot(path=str(tmp_path / "green.png"))
    expect(scanner_b.get_by_test_id("admitted")).to_have_text("1")  # live, from the other gate
    result.tap()

    scanner_a.get_by_test_id("manual-token").fill(token)
    scanner_a.get_by_test_id("manual-token").press("Enter")
    expect(result).to_have_attribute("data-result", "already_admitted")
    expect(result).to_have_class(re.compile("refused"))
    expect(scanner_a.get_by_test_id("detail")).to_contain_text("A")
    result.tap()

    # ---- the network drops: offline by itself, verified in the browser, queued, synced when it returns
    context_a.set_offline(True)
    scanner_a.get_by_test_id("manual-token").fill(second_token)
    scanner_a.get_by_test_id("manual-token").press("Enter")
    expect(scanner_a.get_by_test_id("mode")).to_have_attribute("data-mode", "offline")
    expect(result).to_have_attribute("data-result", "admitted")
    expect(result).to_have_attribute("data-mode", "offline")
    expect(scanner_a.get_by_test_id("who")).to_contain_text("赵一鸣")
    expect(scanner_a.get_by_test_id("queued")).to_have_text("1")
    result.tap()
    forged = second_token[:50] + ("A" if second_token[50] != "A" else "B") + second_token[51:]
    scanner_a.get_by_test_id("manual-token").fill(forged)
    scanner_a.get_by_test_id("manual-token").press("Enter")
    expect(result).to_have_attribute("data-result", "invalid")
    result.tap()
    assert count(Admission) == 1

    context_a.set_offline(False)
    expect(scanner_a.get_by_test_id("mode")).to_have_attribute("data-mode", "online", timeout=15000)
    expect(scanner_a.get_by_test_id("queued")).to_have_text("0", timeout=15000)
    expect(scanner_b.get_by_test_id("admitted")).to_have_text("2", timeout=15000)
    assert count(Admission) == 2
    assert count(Scan, mode="offline", result="admitted") == 1
