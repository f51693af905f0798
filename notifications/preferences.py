"""Preferences: each (category, channel) on or off, quiet hours, and the defaults of someone who never chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db
from notifications.models import (
    CATEGORIES,
    PREFERENCE_CHANNELS,
    TRANSACTIONAL_CATEGORIES,
    NotificationSettings,
    Preference,
)


def default_enabled(category: str, channel: str) -> bool:
    """Everything on, except SMS outside transactional categories (it costs money, so only what must arrive)."""
    if channel == "sms":
        return category in TRANSACTIONAL_CATEGORIES
    return True


def preferences_of(user_id: int) -> dict[tuple[str, str], bool]:
    prefs = {(c, ch): default_enabled(c, ch) for c in CATEGORIES for ch in PREFERENCE_CHANNELS}
    for row in db.session.execute(sa.select(Preference.category, Preference.channel, Preference.enabled)
                                  .where(Preference.user_id == user_id)):
        if (row.category, row.channel) in prefs:
            prefs[(row.category, row.channel)] = row.enabled
    for category in TRANSACTIONAL_CATEGORIES:
        prefs[(category, "inbox")] = True  # can be moved to the inbox, never switched off
    return prefs


def settings_of(user_id: int) -> NotificationSettings:
    """The person's settings row, or an unsaved one with the defaults (22:00–08:00 Asia/Shanghai)."""
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None:
        settings = NotificationSettings(user_id=user_id, quiet_hours_enabled=True, quiet_start_minute=22 * 60,
                                        quiet_end_minute=8 * 60, timezone="Asia/Shanghai")
    return settings


@dataclass(frozen=True)
class DeliverySettings:
    """What planning a delivery reads of a person's settings: plain values (building an ORM object per recipient
    cost more than the whole INSERT of an announcement's chunk)."""

    quiet_hours_enabled: bool = True
    quiet_start_minute: int = 22 * 60
    quiet_end_minute: int = 8 * 60
    timezone: str = "Asia/Shanghai"
    wechat_openid: str | None = None


DEFAULT_SETTINGS = DeliverySettings()


def default_settings(user_id: int) -> DeliverySettings:
    """Settings of someone who never changed them: 22:00–08:00 Asia/Shanghai, no WeChat."""
    return DEFAULT_SETTINGS


def quiet_hours_end(settings: NotificationSettings | DeliverySettings, now: datetime) -> datetime | None:
    """When `now` falls in the person's quiet hours, the moment they end (UTC); otherwise None."""
    if not settings.quiet_hours_enabled:
        return None
    start, end = settings.quiet_start_minute, settings.quiet_end_minute
    if start == end:
        return None
    tz = ZoneInfo(settings.timezone or "Asia/Shanghai")
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    inside = (start <= minute or minute < end) if start > end else (start <= minute < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz) + timedelta(minutes=end)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


# ---- changing them -------------------------------------------------------------------------------------------------


def set_preference(user_id: int, category: str, channel: str, enabled: bool) -> None:
    """Switch one (category, channel) on or off. The inbox of a transactional category cannot be switched off:
    such messages can be moved to the inbox (every other channel off), never lost."""
    if category not in CATEGORIES:
        raise DomainError("unknown_category", _l("Unknown message category."))
    if channel not in PREFERENCE_CHANNELS:
        raise DomainError("unknown_channel", _l("Unknown channel."))
    if channel == "inbox" and category in TRANSACTIONAL_CATEGORIES and not enabled:
        raise DomainError("transactional_inbox", _l("Messages about your own registrations and events always stay "
                                                   "in your inbox."), status=409)
    row = db.session.scalar(sa.select(Preference).where(Preference.user_id == user_id, Preference.category == category,
                                                        Preference.channel == channel))
    if row is None:
        db.session.add(Preference(user_id=user_id, category=category, channel=channel, enabled=bool(enabled)))
    else:
        row.enabled = bool(enabled)
    db.session.flush()


def _parse_clock(value: str) -> int | None:
    try:
        hours, minutes = str(value).strip().split(":")
        hours, minutes = int(hours), int(minutes)
    except (ValueError, AttributeError):
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        return None
    return hours * 60 + minutes


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def update_preferences(user_id: int, *, channels: dict | None = None, quiet_hours: dict | None = None) -> None:
    """Save a person's choices at once: `channels` {category: {channel: bool}} (only what is given changes) and
    `quiet_hours` {"enabled": bool, "start": "22:00", "end": "08:00"} (any of them; the others keep their value).
    All or nothing: one bad value refuses all."""
    for category, by_channel in (channels or {}).items():
        if category not in CATEGORIES:
            raise DomainError("unknown_category", _l("Unknown message category."))
        for channel, enabled in (by_channel or {}).items():
            if channel not in PREFERENCE_CHANNELS:
                raise DomainError("unknown_channel", _l("Unknown channel."))
            if channel == "inbox" and category in TRANSACTIONAL_CATEGORIES and not enabled:
                raise DomainError("transactional_inbox", _l(
                    "Messages about your own registrations and events always stay in your inbox."), status=409)
    settings = None
    if quiet_hours is not None:  # only the keys given change; the others keep what the person chose
        current = settings_of(user_id)
        start = _parse_clock(quiet_hours["start"]) if "start" in quiet_hours else current.quiet_start_minute
        end = _parse_clock(quiet_hours["end"]) if "end" in quiet_hours else current.quiet_end_minute
        if start is None or end is None:
            raise DomainError("invalid_quiet_hours", _l("Quiet hours are times like 22:00."))
        enabled = bool(quiet_hours["enabled"]) if "enabled" in quiet_hours else current.quiet_hours_enabled
        settings = current  # the saved row, or a new one with the defaults
        settings.quiet_hours_enabled = enabled
        settings.quiet_start_minute, settings.quiet_end_minute = start, end
        settings.timezone = settings.timezone or "Asia/Shanghai"
        db.session.add(settings)
    for category, by_channel in (channels or {}).items():
        for channel, enabled in (by_channel or {}).items():
            set_preference(user_id, category, channel, bool(enabled))
    db.session.flush()


def preferences_view(user_id: int) -> dict:
    """What the settings page and the API show."""
    prefs = preferences_of(user_id)
    settings = settings_of(user_id)
    return {
        "channels": {c: {ch: prefs[(c, ch)] for ch in PREFERENCE_CHANNELS} for c in CATEGORIES},
        "transactional": list(TRANSACTIONAL_CATEGORIES),
        "quiet_hours": {"enabled": settings.quiet_hours_enabled, "start": clock(settings.quiet_start_minute),
                        "end": clock(settings.quiet_end_minute), "timezone": settings.timezone or "Asia/Shanghai"},
    }
