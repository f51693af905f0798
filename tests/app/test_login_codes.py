"""The one-time-code rules, at the service level."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import services
from app.accounts.models import OneTimeCode, User
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from tests.conftest import last_sms_code

PHONE = "+8613812345678"


def request_code(now=None):
    issued = services.request_login_code("13812345678", now=now or utcnow())
    db.session.commit()
    return issued


def test_a_code_is_sent_by_sms_and_stored_only_hashed(app):
    issued = request_code()
    assert last_sms_code(PHONE) == issued.code
    stored = db.session.scalars(sa.select(OneTimeCode)).one()
    assert issued.code not in stored.code_hash
    assert stored.phone == PHONE


def test_the_right_code_signs_in_and_creates_the_user_once(app):
    issued = request_code()
    user = services.verify_login_code(PHONE, issued.code, now=utcnow())
    db.session.commit()
    assert user.phone == PHONE and not user.profile_complete
    again = services.verify_login_code(PHONE, request_code().code, now=utcnow())
    assert again.id == user.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_code_works_only_once(app):
    issued = request_code()
    services.verify_login_code(PHONE, issued.code, now=utcnow())
    db.session.commit()
    with pytest.raises(DomainError) as error:
        services.verify_login_code(PHONE, issued.code, now=utcnow())
    assert error.value.code == "code_invalid"


def test_an_expired_code_is_refused(app):
    issued = request_code()
    with pytest.raises(DomainError) as error:
        services.verify_login_code(PHONE, issued.code, now=utcnow() + timedelta(minutes=6))
    assert error.value.code == "code_expired"


def test_a_new_code_replaces_the_old_one(app):
    first = request_code()
    second = request_code()
    if first.code != second.code:
        with pytest.raises(DomainError):
            services.verify_login_code(PHONE, first.code, now=utcnow())
        db.session.rollback()
    assert services.verify_login_code(PHONE, second.code, now=utcnow()).phone == PHONE


def test_wrong_guesses_stay_counted_even_when_the_caller_rolls_back(app):
    issued = request_code()
    wrong = "000000" if issued.code != "000000" else "111111"
    with pytest.raises(DomainError) as error:
        services.verify_login_code(PHONE, wrong, now=utcnow())
    assert error.value.code == "code_wrong"
    assert error.value.details["remaining_attempts"] == 4
    db.session.rollback()
    assert db.session.scalars(sa.select(OneTimeCode)).one().attempts == 1


def test_after_too_many_wrong_guesses_even_the_right_code_is_refused(app):
    issued = request_code()
    wrong = "000000" if issued.code != "000000" else "111111"
    codes = []
    for _ in range(5):
        with pytest.raises(DomainError) as error:
            services.verify_login_code(PHONE, wrong, now=utcnow())
        codes.append(error.value.code)
        db.session.rollback()
    assert codes == ["code_wrong"] * 4 + ["too_many_attempts"]
    with pytest.raises(DomainError) as error:
        services.verify_login_code(PHONE, issued.code, now=utcnow())
    assert error.value.code == "too_many_attempts"


def test_no_code_requested_is_a_clear_error(app):
    with pytest.raises(DomainError) as error:
        services.verify_login_code(PHONE, "123456", now=utcnow())
    assert error.value.code == "code_invalid"


def test_a_malformed_phone_changes_nothing(app):
    with pytest.raises(DomainError) as error:
        services.request_login_code("12345", now=utcnow())
    assert error.value.code == "invalid_phone"
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OneTimeCode)) == 0


def test_the_sms_is_in_the_requesters_language(app):
    services.request_login_code("13812345678", now=utcnow(), locale="en")
    db.session.commit()
    from app.accounts.models import DevSmsMessage

    assert "sign-in code" in db.session.scalars(sa.select(DevSmsMessage)).one().body
