"""The rules of notifications, by concern (issue 18): notifications/writing.py (messages: who gets which, in which
language, with which deliveries), inbox.py, preferences.py (channels, quiet hours), deliveries.py (planning, the
workers' claims and outcomes, the SMS fallback), subscriptions.py (Web Push) and wechat.py (linking a WeChat).

This module only re-exports them for callers outside those modules (views, tests); code inside notifications/
imports the concern's module."""

from __future__ import annotations

from notifications.deliveries import (
    HELD_IN_QUIET_HOURS,
    Probe,
    add_sms_fallback,
    backoff_seconds,
    claim_due_deliveries,
    delivery_profile,
    finish_deliveries,
    finish_delivery,
    insert_planned_deliveries,
    plan_deliveries,
    plan_for_profile,
)
from notifications.inbox import (
    get_own_notification,
    inbox,
    mark_read,
    unread_count,
)
from notifications.preferences import (
    DEFAULT_SETTINGS,
    DeliverySettings,
    clock,
    default_enabled,
    default_settings,
    preferences_of,
    preferences_view,
    quiet_hours_end,
    set_preference,
    settings_of,
    update_preferences,
)
from notifications.subscriptions import (
    resubscribe_device,
    subscribe_device,
    unsubscribe_device,
    validate_subscription,
)
from notifications.wechat import (
    link_wechat,
    unlink_wechat,
    wechat_configured,
    wechat_linked,
)
from notifications.writing import (
    DEFAULT_LOCALE,
    Draft,
    forget_on_rollback,
    insert_ignoring_duplicates,
    locale_of,
    notify,
    notify_each,
    notify_many,
    recipients_query,
    render_in,
)

__all__ = [
    "DEFAULT_LOCALE",
    "DEFAULT_SETTINGS",
    "DeliverySettings",
    "Draft",
    "HELD_IN_QUIET_HOURS",
    "Probe",
    "add_sms_fallback",
    "backoff_seconds",
    "claim_due_deliveries",
    "clock",
    "default_enabled",
    "default_settings",
    "delivery_profile",
    "finish_deliveries",
    "finish_delivery",
    "forget_on_rollback",
    "get_own_notification",
    "inbox",
    "insert_ignoring_duplicates",
    "insert_planned_deliveries",
    "link_wechat",
    "locale_of",
    "mark_read",
    "notify",
    "notify_each",
    "notify_many",
    "plan_deliveries",
    "plan_for_profile",
    "preferences_of",
    "preferences_view",
    "quiet_hours_end",
    "recipients_query",
    "render_in",
    "resubscribe_device",
    "set_preference",
    "settings_of",
    "subscribe_device",
    "unlink_wechat",
    "unread_count",
    "unsubscribe_device",
    "update_preferences",
    "validate_subscription",
    "wechat_configured",
    "wechat_linked",
]
