import pytest

from app.accounts.phones import mask_phone, normalise_phone
from app.errors import DomainError


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                                 "008613812345678", "+8613812345678"])
def test_chinese_mobile_numbers_in_every_usual_spelling(app, raw):
    assert normalise_phone(raw) == "+8613812345678"


def test_numbers_of_other_countries_through_phonenumbers(app):
    assert normalise_phone("+852 9123 4567") == "+85291234567"
    assert normalise_phone("+44 7911 123456") == "+447911123456"


@pytest.mark.parametrize("raw", ["", "12345", "1381234567", "138123456789", "02112345678", "abc", "+999 123"])
def test_malformed_or_landline_numbers_are_refused(app, raw):
    with pytest.raises(DomainError) as error:
        normalise_phone(raw)
    assert error.value.code == "invalid_phone"


def test_masking_hides_the_middle_digits():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+85291234567") == "+85****4567"
