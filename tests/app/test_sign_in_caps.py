"""Sign-in codes over a day: a cap per phone and per address, and a lock-out after repeated wrong codes across codes,
so neither slow guessing nor SMS bombing pays. Counted in the database, with a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts import services
from app.errors import DomainError
from app.extensions import db

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
PHONE = "+8613812345678"


def request_code(phone=PHONE, *, at, address="203.0.113.7"):
    issued = services.request_login_code(phone, now=at, requested_from=address)
    db.session.commit()
    return issued


def guess_wrong(issued, *, at, phone=PHONE):
    wrong = "000000" if issued.code != "000000" else "111111"
    with pytest.raises(DomainError) as error:
        services.verify_login_code(phone, wrong, now=at)
    db.session.rollback()
    return error.value


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as error:
        call()
    db.session.rollback()
    return error.value


def test_a_phone_gets_at_most_ten_codes_in_24_hours_and_is_told_when_to_try_again(app):
    for hour in range(10):
        request_code(at=NOW + timedelta(hours=hour))
    error = refused(lambda: request_code(at=NOW + timedelta(hours=23)))
    assert error.code == "daily_code_limit" and error.status == 429
    assert error.details["retry_at"] == (NOW + timedelta(hours=24)).isoformat()
    assert "2026/12/6 10:00" in str(error.message) and "24 小时" in str(error.message)
    # another phone from the same address is not affected; this phone is again after the first code ages out
    request_code("+8613812345679", at=NOW + timedelta(hours=23))
    request_code(at=NOW + timedelta(hours=24, seconds=1))


def test_an_address_gets_at_most_a_hundred_codes_in_24_hours_whatever_the_phones(app):
    for i in range(100):
        request_code(f"+86138000{i:05d}", at=NOW + timedelta(minutes=i))
    error = refused(lambda: request_code("+8613900000000", at=NOW + timedelta(hours=2)))
    assert error.code == "daily_code_limit_address" and error.status == 429
    assert error.details["retry_at"] == (NOW + timedelta(hours=24)).isoformat()
    assert "网络" in str(error.message)
    request_code("+8613900000000", at=NOW + timedelta(hours=2), address="198.51.100.1")  # another address


def test_ten_wrong_codes_across_codes_lock_the_phone_for_six_hours(app):
    at = NOW
    for _ in range(2):  # five wrong tries per code, two codes: ten wrong codes for the phone
        issued = request_code(at=at)
        for _ in range(5):
            at += timedelta(seconds=50)
            last = guess_wrong(issued, at=at)
    assert last.code == "sign_in_locked" and last.status == 429
    until = at + timedelta(hours=6)
    assert last.details["retry_at"] == until.isoformat() and last.details["retry_after_seconds"] == 6 * 3600 + 1
    assert "已暂停登录" in str(last.message)
    # no new code is sent, and even the right code of a fresh one... cannot be had while locked
    assert refused(lambda: request_code(at=at + timedelta(hours=1))).code == "sign_in_locked"
    assert refused(lambda: services.verify_login_code(PHONE, "123456", now=at + timedelta(hours=5))).code \
        == "sign_in_locked"
    # after the lock-out the right code works
    issued = request_code(at=until + timedelta(seconds=1))
    assert services.verify_login_code(PHONE, issued.code, now=until + timedelta(seconds=2)).phone == PHONE


def test_after_a_lock_out_each_wrong_code_in_the_same_24_hours_locks_again(app):
    at = NOW
    for _ in range(2):
        issued = request_code(at=at)
        for _ in range(5):
            at += timedelta(seconds=50)
            guess_wrong(issued, at=at)
    at += timedelta(hours=6, minutes=1)
    issued = request_code(at=at)
    again = guess_wrong(issued, at=at + timedelta(minutes=1))
    assert again.code == "sign_in_locked"  # one slow guess per six hours, not ten
    assert again.details["retry_at"] == (at + timedelta(minutes=1, hours=6)).isoformat()


def test_wrong_codes_spread_over_more_than_24_hours_do_not_lock(app):
    at = NOW
    for _ in range(3):
        issued = request_code(at=at)
        for _ in range(4):
            at += timedelta(hours=3)
            assert guess_wrong(issued, at=issued.expires_at - timedelta(seconds=1)).code == "code_wrong"
    issued = request_code(at=at)
    assert services.verify_login_code(PHONE, issued.code, now=at).phone == PHONE


def test_the_api_answers_429_with_retry_after_and_the_message(client):
    client.application.config["RATELIMIT_ENABLED"] = False
    for hour in range(10):
        request_code(at=NOW + timedelta(hours=hour), address="127.0.0.1")
    from unittest import mock

    with mock.patch("app.accounts.api.utcnow", return_value=NOW + timedelta(hours=12)):
        response = client.post("/api/v1/auth/codes", json={"phone": "13812345678"},
                               headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "daily_code_limit" and "2026/12/6 10:00" in error["message"]
    assert abs(int(response.headers["Retry-After"]) - (12 * 3600 + 1)) <= 2  # the limiter keeps the larger one
