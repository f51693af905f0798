"""The rule of when a token's use is recorded (app.accounts.tokens._use_is_due): one function for all three lookups."""
from datetime import datetime, timedelta

from app.accounts.tokens import TOKEN_USE_RECORDED_EVERY, _use_is_due

NOW = datetime(2026, 1, 1, 12, 0, 0)


def test_never_recorded_is_due():
    assert _use_is_due(None, NOW)


def test_recorded_within_the_interval_is_not_due():
    assert not _use_is_due(NOW, NOW)
    assert not _use_is_due(NOW - TOKEN_USE_RECORDED_EVERY, NOW)


def test_recorded_over_the_interval_ago_is_due():
    assert _use_is_due(NOW - TOKEN_USE_RECORDED_EVERY - timedelta(seconds=1), NOW)
