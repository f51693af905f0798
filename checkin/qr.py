"""QR images of a ticket's token: PNG (error correction M, a quiet zone of 4 modules) and SVG (one path; scales to
any screen without blurring)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M


def qr_png(token: str, *, box_size: int = 10) -> bytes:
    """The token as a QR code (error correction M, a quiet zone of 4 modules), PNG."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(token)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(token: str) -> str:
    """The same QR code as SVG (one path; scales to any screen without blurring)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(token)
    code.make(fit=True)
    return code.make_image().to_string(encoding="unicode")


# ---- the saved ticket ("保存为图片") ------------------------------------------------------------------------------

DEFAULT_TICKET_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
_CARD_WIDTH = 640
_MARGIN = 40
_INK, _MUTED, _ACCENT = (17, 17, 17), (85, 85, 85), (11, 92, 171)


def _wrap(draw, text: str, font, width: int, max_lines: int = 3) -> list[str]:
    """Lines of `text` no wider than `width`, broken between characters (Chinese has no spaces to break at), at
    most `max_lines` (the last one ends in an ellipsis when cut)."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) <= width or not line:
            line += char
            continue
        lines.append(line)
        line = char.lstrip()
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last + "…"]
    return lines


def _load_fonts(font_path: str | None):
    """(title, text, small) fonts from the CJK font at `font_path`, or None when it cannot be read (a server without
    fonts-wqy-microhei): the caller then writes ASCII only, with Pillow's own font."""
    if not font_path:
        return None
    try:
        return (ImageFont.truetype(font_path, 36), ImageFont.truetype(font_path, 28),
                ImageFont.truetype(font_path, 22))
    except OSError:
        return None


def ticket_png(token: str, *, title: str, when: str, venue: str, name: str, footer: str,
               font_path: str | None = DEFAULT_TICKET_FONT, ascii_lines: list[str] | None = None) -> bytes:
    """A ticket to save on the phone: the event's title, time and venue above the QR code, the attendee's name and
    `footer` below it, on white, in the CJK font at `font_path`. Without that font the same card carries
    `ascii_lines` (Pillow's built-in font has no Chinese) instead, and never fails. The QR code itself is the one
    qr_png draws, with its quiet zone, so it decodes exactly as before."""
    code = Image.open(io.BytesIO(qr_png(token))).convert("RGB")
    side = min(code.width, _CARD_WIDTH)  # its own quiet zone (4 modules) is the margin around it
    if code.width != side:
        code = code.resize((side, side), Image.NEAREST)
    fonts = _load_fonts(font_path)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = _CARD_WIDTH - 2 * _MARGIN
    above: list[tuple[str, object, tuple]] = []  # (line, font, colour)
    below: list[tuple[str, object, tuple]] = []
    if fonts is not None:
        title_font, text_font, small_font = fonts
        above += [(line, title_font, _INK) for line in _wrap(scratch, title, title_font, text_width)]
        above += [(line, text_font, _ACCENT) for line in _wrap(scratch, when, text_font, text_width, 2)]
        if venue:
            above += [(line, text_font, _MUTED) for line in _wrap(scratch, venue, text_font, text_width, 2)]
        below += [(line, title_font, _INK) for line in _wrap(scratch, name, title_font, text_width, 1)]
        below += [(line, small_font, _MUTED) for line in _wrap(scratch, footer, small_font, text_width, 2)]
    else:
        font = ImageFont.load_default(size=24)
        for line in ascii_lines or []:
            safe = line.encode("ascii", "ignore").decode().strip()
            if safe:
                above += [(part, font, _INK) for part in _wrap(scratch, safe, font, text_width, 2)]

    def height(lines) -> int:
        return sum(int(font.size * 1.35) for _, font, _ in lines)

    card = Image.new("RGB", (_CARD_WIDTH, _MARGIN + height(above) + side + height(below) + _MARGIN), "white")
    draw = ImageDraw.Draw(card)
    y = _MARGIN
    for line, font, colour in above:
        draw.text((_MARGIN, y), line, font=font, fill=colour)
        y += int(font.size * 1.35)
    card.paste(code, ((_CARD_WIDTH - side) // 2, y))
    y += side
    for line, font, colour in below:
        draw.text(((_CARD_WIDTH - draw.textlength(line, font=font)) / 2, y), line, font=font, fill=colour)
        y += int(font.size * 1.35)
    buffer = io.BytesIO()
    card.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
