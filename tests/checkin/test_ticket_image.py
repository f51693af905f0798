"""The saved ticket ("保存为图片"): the PNG is a ticket, not a bare QR code. It carries the event's title, time,
venue and the attendee's name (in the CJK font of TICKET_FONT_PATH), its QR code still decodes to exactly the
token, and its file name carries the event. Without the font it falls back to ASCII text and still works."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import zxingcpp
from PIL import Image, ImageFont

from app.extensions import db
from checkin import qr
from checkin.qr import DEFAULT_TICKET_FONT
from tests.conftest import sign_in

ZH = {"Accept-Language": "zh-CN"}


def image_of(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body)).convert("L")


def dark_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(image.crop(box).histogram()[:128])


@pytest.fixture
def roadshow_ticket(client, create_event, confirmed):
    """A confirmed attendee of a roadshow on Wednesday 9 December 2026, 14:00–16:00 in Shanghai, signed in."""
    event = create_event(title="北杨 AI 路演日", title_en="Beiyang AI Roadshow")
    registration = confirmed(event, name="林晓舟")
    event.starts_at = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
    event.ends_at = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)
    event.venue = "北杨小镇 3 号楼路演厅"
    db.session.commit()
    sign_in(client, registration.user)
    token = client.get(f"/api/v1/registrations/{registration.id}/ticket", headers=ZH).json["token"]
    return registration, token


@pytest.fixture
def fonts_opened(monkeypatch):
    """The paths of the TrueType fonts the image was drawn with."""
    opened: list[str] = []
    truetype = ImageFont.truetype

    def spy(font, *args, **kwargs):
        opened.append(str(font))
        return truetype(font, *args, **kwargs)

    monkeypatch.setattr(ImageFont, "truetype", spy)
    return opened


def test_the_saved_ticket_shows_the_event_and_the_attendee_around_a_qr_that_still_decodes(
        app, client, roadshow_ticket, fonts_opened):
    registration, token = roadshow_ticket
    assert app.config["TICKET_FONT_PATH"] == DEFAULT_TICKET_FONT

    response = client.get(f"/api/v1/registrations/{registration.id}/ticket.png", headers=ZH)

    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "no-cache" in response.headers["Cache-Control"]
    ticket = image_of(response.data)
    assert [r.text for r in zxingcpp.read_barcodes(ticket)] == [token]
    bare = image_of(qr.qr_png(token))
    assert ticket.height > bare.height + 150 and ticket.width >= bare.width  # room for four lines of text
    assert set(fonts_opened) == {DEFAULT_TICKET_FONT}  # drawn in the CJK font
    # text above the code (title, time, venue) and below it (name, ticket number); the code's quiet zone is white
    (found,) = zxingcpp.read_barcodes(ticket)
    top, bottom = found.position.top_left.y, found.position.bottom_left.y
    assert dark_pixels(ticket, (0, 0, ticket.width, top - 45)) > 1500
    assert dark_pixels(ticket, (0, bottom + 45, ticket.width, ticket.height)) > 500
    # the same ticket drawn without the font differs only by its text: the Chinese text is really there
    fallback = image_of(qr.ticket_png(token, title="", when="", venue="", name="", footer="", font_path=None))
    assert ticket.height > fallback.height

    disposition = response.headers["Content-Disposition"]
    assert f"filename=\"ticket-{registration.id}.png\"" in disposition  # for clients without RFC 5987
    assert f"filename*=UTF-8''{quote(f'北杨 AI 路演日-门票-{registration.id}.png', safe='')}" in disposition


def test_the_ticket_page_saves_the_image_under_the_events_name(client, roadshow_ticket):
    registration, _ = roadshow_ticket
    page = client.get(f"/tickets/{registration.id}", headers=ZH).get_data(as_text=True)
    assert f'download="北杨 AI 路演日-门票-{registration.id}.png"' in page


def test_the_chinese_text_reads_as_a_ticket(app, roadshow_ticket, monkeypatch):
    """What is drawn: the title, '12月9日周三 14:00–16:00' in Beijing time, the venue, the name, the ticket number."""
    from checkin import presenters

    registration, token = roadshow_ticket
    drawn = {}

    def capture(token_, **text):
        drawn.update(text)
        return b""

    monkeypatch.setattr(qr, "ticket_png", capture)
    with app.test_request_context(headers=ZH):
        presenters.ticket_image(registration, token, font_path=DEFAULT_TICKET_FONT)
    assert drawn["title"] == "北杨 AI 路演日"
    assert drawn["when"].replace(" ", "") == "12月9日周三14:00–16:00"
    assert drawn["venue"] == "北杨小镇 3 号楼路演厅" and drawn["name"] == "林晓舟"
    assert str(registration.id) in drawn["footer"] and "票号" in drawn["footer"]
    assert drawn["ascii_lines"][:2] == ["Beiyang AI Roadshow", "2026-12-09 14:00-16:00 (Beijing time, UTC+8)"]


def test_without_the_cjk_font_the_ticket_has_ascii_text_and_still_decodes(app, client, roadshow_ticket,
                                                                            fonts_opened, tmp_path):
    registration, token = roadshow_ticket
    app.config["TICKET_FONT_PATH"] = str(tmp_path / "no-such-font.ttc")

    response = client.get(f"/api/v1/registrations/{registration.id}/ticket.png", headers=ZH)

    assert response.status_code == 200 and response.mimetype == "image/png"
    ticket = image_of(response.data)
    assert [r.text for r in zxingcpp.read_barcodes(ticket)] == [token]
    assert DEFAULT_TICKET_FONT not in fonts_opened
    (found,) = zxingcpp.read_barcodes(ticket)
    assert dark_pixels(ticket, (0, 0, ticket.width, found.position.top_left.y - 45)) > 300  # the ASCII lines
    assert ticket.height > image_of(qr.qr_png(token)).height
