"""An organizer on a phone (375 × 812, touch, zh-CN): creates a salon that needs approval, publishes it, watches the
registrations page while residents sign up (the rows appear live, without a reload), approves them in bulk, and
downloads the CSV and XLSX exports (Chinese intact). Real Chromium against a live server, Socket.IO included."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, expect

from app.db_types import utcnow
from app.extensions import db
from events import services
from events.models import Event, Registration
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.e2e.test_signup_flow import signed_in_phone

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def sign_up_now(event_id: int, user, **answers) -> Registration:
    """A resident signs up (through the service, as the JSON API does), committed at once; then this thread's
    transaction ends so it never holds a lock the live server's threads could wait on."""
    db.session.rollback()  # read what the server committed, not an older snapshot
    try:
        registration, _created = services.register_for_event(event_id, user, now=utcnow(), answers=answers)
        db.session.commit()
        return registration
    finally:
        db.session.rollback()


def statuses(event_id: int) -> list[str]:
    try:
        return [r.status for r in db.session.scalars(
            sa.select(Registration).where(Registration.event_id == event_id).order_by(Registration.waitlist_seq))]
    finally:
        db.session.rollback()


def test_an_organizer_creates_a_salon_sees_sign_ups_live_approves_them_and_exports(
        app, browser: Browser, browser_context_args, live_server, create_resident, tmp_path):
    organizer = create_resident(name="王珂", company="北杨小镇运营中心", roles=["organizer"])
    lin = create_resident(name="林晓舟", company="星河智算", persona="founder")
    zhao = create_resident(name="赵一鸣", company="深言科技", persona="investor")
    db.session.rollback()
    phone = signed_in_phone(browser, app, live_server, organizer, browser_context_args)

    # ---- create the salon: approval needed, two seats, one question
    phone.goto(live_server + "/manage")
    phone.get_by_test_id("new-event").tap()
    expect(phone.get_by_role("heading", name="新建活动")).to_be_visible()
    start = (datetime.now(SHANGHAI) + timedelta(days=8)).replace(hour=19, minute=0, second=0, microsecond=0)
    form = phone.get_by_test_id("event-form")
    form.get_by_label("标题（中文）").fill("技术沙龙：Agent 工程化实践")
    form.get_by_label("地点").fill("模速空间 2 楼路演厅")
    form.get_by_label("开始时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("结束时间").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("人数上限").fill("2")
    form.get_by_label("报名需组织者审核").check()
    expect(form.get_by_label("抽签时间")).to_be_hidden()  # only the fields that apply
    form.get_by_label("问题 1").fill("你在做什么项目？")
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "manage-new.png"), full_page=True)
    form.get_by_test_id("save-draft").tap()

    expect(phone.get_by_role("status").filter(has_text="已存为草稿")).to_be_visible()
    expect(phone.get_by_test_id("event-status")).to_have_text("草稿")
    try:
        event = db.session.scalars(sa.select(Event).where(Event.title == "技术沙龙：Agent 工程化实践")).one()
        assert event.requires_approval and event.capacity == 2 and event.starts_at == start
        assert event.questions == [{"id": "q1", "label": "你在做什么项目？", "kind": "text", "required": False}]
        event_id = event.id
    finally:
        db.session.rollback()  # never keep a read snapshot (or a lock) open while the server works
    phone.get_by_test_id("publish").tap()
    expect(phone.get_by_role("status").filter(has_text="已发布")).to_be_visible()
    expect(phone.get_by_test_id("event-status")).to_have_text("已发布")
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "manage-event.png"), full_page=True)

    # ---- the registrations page, live
    phone.get_by_test_id("open-registrations").tap()
    section = phone.locator("[data-live-registrations]")
    expect(section).to_have_attribute("data-live-ready", "1")  # joined the organizers' room
    expect(phone.locator("[data-live-status]")).to_have_text("实时更新中：新报名会自动出现")
    expect(phone.get_by_text("还没有人报名。新的报名会实时出现在这里。")).to_be_visible()
    rows = phone.get_by_test_id("registration-row")
    expect(rows).to_have_count(0)

    first = sign_up_now(event_id, lin, q1="法律检索的 RAG")
    expect(rows).to_have_count(1)  # no reload
    expect(rows.first).to_contain_text("林晓舟")
    expect(rows.first).to_contain_text("星河智算")
    expect(rows.first).to_contain_text("待审核")
    expect(rows.first).to_contain_text("法律检索的 RAG")
    expect(rows.first).to_contain_text("爽约 0 次")
    expect(phone.locator('[data-count="pending"]').first).to_have_text("1")
    sign_up_now(event_id, zhao)
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("赵一鸣")
    expect(phone.locator('[data-count="pending"]').first).to_have_text("2")
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "manage-live.png"), full_page=True)

    # ---- approve both at once
    phone.locator("[data-select-all] input").check()
    expect(phone.locator("[data-selected-count]")).to_have_text("已选 2 人")
    phone.get_by_test_id("approve-selected").tap()
    expect(phone.get_by_role("status").filter(has_text="已通过 2 人，均已获得名额。")).to_be_visible()
    expect(rows.first).to_contain_text("已确认")
    assert statuses(event_id) == ["confirmed", "confirmed"]
    # a change made elsewhere (the person cancels on their phone) shows up live here too
    expect(section).to_have_attribute("data-live-ready", "1")
    services.cancel_registration(first.id, lin, now=utcnow())
    db.session.commit()
    db.session.rollback()
    expect(phone.locator(f'[data-registration-id="{first.id}"]')).to_have_attribute("data-status", "cancelled")
    expect(phone.locator('[data-count="confirmed"]').first).to_have_text("1")

    # ---- exports: they download and open, Chinese intact
    with phone.expect_download() as csv_download:
        phone.get_by_test_id("export-csv").tap()
    body = Path(csv_download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel and WPS read UTF-8
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("序号,姓名,手机号码,公司") and "你在做什么项目？" in text
    assert "林晓舟" in text and "赵一鸣" in text and "法律检索的 RAG" in text
    assert csv_download.value.suggested_filename.endswith(".csv")

    from openpyxl import load_workbook

    with phone.expect_download() as xlsx_download:
        phone.get_by_test_id("export-xlsx").tap()
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    values = list(sheet.values)
    assert values[0][1] == "姓名" and {values[1][1], values[2][1]} == {"林晓舟", "赵一鸣"}
    assert re.search(r"\.xlsx$", xlsx_download.value.suggested_filename)

    # ---- the same pages on a laptop
    phone.set_viewport_size({"width": 1280, "height": 800})
    phone.reload()
    expect(rows).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 1280
    phone.screenshot(path=str(tmp_path / "manage-laptop.png"), full_page=True)
    phone.goto(live_server + "/manage")
    expect(phone.get_by_test_id("manage-upcoming")).to_contain_text("技术沙龙：Agent 工程化实践")
    expect(phone.get_by_test_id("manage-upcoming")).to_contain_text("已确认 1 / 2")
    phone.context.close()
