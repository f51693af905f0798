"""QR images of a ticket's token: PNG (error correction M, a quiet zone of 4 modules) and SVG (one path; scales to
any screen without blurring)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
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
