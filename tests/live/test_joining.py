"""Joining the live room: the big screen and a printable sheet show a QR code and a short link; the short link
opens the room (signing in first when needed); the QR code on the screen decodes to the short link."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from tests.conftest import sign_in


def test_the_short_link_opens_the_room_after_signing_in(app, client, room_event, attendee):
    response = client.get(f"/l/{room_event.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/events/{room_event.id}/live")
    signed_out = client.get(f"/events/{room_event.id}/live", headers={"Accept-Language": "zh-CN"})
    assert signed_out.status_code in (302, 401)
    sign_in(client, attendee(room_event))
    assert client.get(f"/events/{room_event.id}/live").status_code == 200


def test_the_printable_sheet_is_for_organizers(app, client, room_event, attendee, event_organizer):
    sign_in(client, attendee(room_event))
    assert client.get(f"/events/{room_event.id}/live/join").status_code == 403
    sign_in(client, event_organizer(room_event))
    html = client.get(f"/events/{room_event.id}/live/join", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True)
    assert f"localhost/l/{room_event.id}</strong>" in html and "<svg" in html and "扫码或打开" in html


def decoded_qr(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]
