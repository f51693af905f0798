"""Phone numbers: parse with `phonenumbers`, store E.164, show masked."""

from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import PhoneNumberType

from app.errors import DomainError

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_phone(raw: str, default_region: str = "CN") -> str:
    """Return the E.164 form of a mobile number (a bare 11-digit number is taken as +86), or raise invalid_phone."""
    text = (raw or "").strip().replace(" ", "").replace("-", "")
    if not text:
        raise DomainError("invalid_phone", _l("Please enter your mobile number."))
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise DomainError("invalid_phone", _l("This is not a valid mobile number.")) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise DomainError("invalid_phone", _l("This is not a valid mobile number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """138****5678 for Chinese numbers; for others keep the country code and the last four digits."""
    if e164.startswith("+86") and len(e164) == 14:
        national = e164[3:]
        return f"{national[:3]}****{national[-4:]}"
    if len(e164) <= 6:
        return "****"
    return f"{e164[:3]}****{e164[-4:]}"


def format_phone(e164: str) -> str:
    """How people write a number in a list: 138 0013 8000 for Chinese numbers, +852 9123 4567 for others. (Also
    keeps spreadsheets from reading the number as a figure: 8.61E+12.)"""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_last4(e164: str) -> str:
    return e164[-4:]
