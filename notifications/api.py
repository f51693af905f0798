"""JSON API of the inbox (list, unread count, mark read) and of this browser's push subscription. A person only
ever sees and changes their own messages: another person's message answers 404, like one that does not exist."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_login import current_user
from marshmallow import fields, validate

from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.extensions import db
from app.schemas import Id, Schema
from events import services as events
from notifications import announcements, inbox, preferences, subscriptions
from notifications.webhooks import add_webhook, masked_address, remove_webhook, webhooks_of

blp = api_blueprint("notifications_api", __name__, "/notifications",
                    "The inbox (消息中心): messages, unread count, read state; Web Push subscriptions.")


class NotificationSchema(Schema):
    id = Id()
    category = fields.String(metadata={"description": "registrations, reminders, schedule, results, mentoring, "
                                                      "announcements"})
    kind = fields.String(metadata={"description": "registration_confirmed, event_changed, announcement ..."})
    title = fields.String()
    body = fields.String()
    link = fields.String(metadata={"description": "path on this site of what the message is about"})
    urgent = fields.Boolean()
    transactional = fields.Boolean()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class InboxQuerySchema(Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread messages"})
    before_id = Id(load_default=None, metadata={"description": "page: ids below this one"})
    limit = fields.Integer(load_default=30, validate=validate.Range(min=1, max=100))


class InboxSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread_count = fields.Integer()
    next_before_id = Id(allow_none=True)


class UnreadSchema(Schema):
    unread_count = fields.Integer()


class MarkReadSchema(Schema):
    ids = fields.List(fields.Integer(), validate=validate.Length(max=500),
                      metadata={"description": "messages to mark read; omit with all=true"})
    all = fields.Boolean(load_default=False)


class MarkedSchema(Schema):
    changed = fields.Integer()
    unread_count = fields.Integer()


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True)
    auth = fields.String(required=True)


class PushSubscriptionSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(max=1000))
    keys = fields.Nested(PushKeysSchema, required=True)
    expirationTime = fields.Raw(allow_none=True, load_default=None)  # noqa: N815  (the browser's own field name)


class PushEndpointSchema(Schema):
    endpoint = fields.String(required=True)


class OldPushKeysSchema(Schema):
    auth = fields.String(required=True)
    p256dh = fields.String(load_default="")


class OldPushSubscriptionSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(max=1000))
    keys = fields.Nested(OldPushKeysSchema, required=True)
    expirationTime = fields.Raw(allow_none=True, load_default=None)  # noqa: N815


class ResubscribeSchema(Schema):
    old = fields.Nested(OldPushSubscriptionSchema, required=True)
    new = fields.Nested(PushSubscriptionSchema, required=True)


class PushConfigSchema(Schema):
    public_key = fields.String(metadata={"description": "VAPID public key (applicationServerKey), base64url"})
    enabled = fields.Boolean()


@blp.route("")
@blp.arguments(InboxQuerySchema, location="query")
@blp.response(200, InboxSchema)
@login_required
def list_notifications(query):
    """My messages, newest first (page with before_id)."""
    items = inbox.inbox(current_user.id, unread_only=query["unread"], before_id=query["before_id"],
                           limit=query["limit"])
    return {"items": items, "unread_count": inbox.unread_count(current_user.id),
            "next_before_id": items[-1].id if len(items) == query["limit"] else None}


@blp.route("/unread-count")
@blp.response(200, UnreadSchema)
@login_required
def unread_count():
    """How many of my messages are unread (the badge)."""
    return {"unread_count": inbox.unread_count(current_user.id)}


@blp.route("/read", methods=["POST"])
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkedSchema)
@login_required
def mark_read(payload):
    """Mark some of my messages read ({"ids": [...]}) or all of them ({"all": true})."""
    ids = None if payload["all"] else payload.get("ids") or []
    changed = inbox.mark_read(current_user.id, ids, now=utcnow())
    db.session.commit()
    return {"changed": changed, "unread_count": inbox.unread_count(current_user.id)}


@blp.route("/<int:notification_id>")
@blp.response(200, NotificationSchema)
@blp.alt_response(404, schema="Error", description="notification_not_found (also for another person's)")
@login_required
def get_notification(notification_id: int):
    """One of my messages."""
    return inbox.get_own_notification(notification_id, current_user.id)


@blp.route("/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
@blp.alt_response(404, schema="Error", description="notification_not_found")
@login_required
def mark_one_read(notification_id: int):
    """Mark one of my messages read."""
    notification = inbox.get_own_notification(notification_id, current_user.id)
    inbox.mark_read(current_user.id, [notification.id], now=utcnow())
    db.session.commit()
    db.session.refresh(notification)
    return notification


@blp.route("/push/config")
@blp.response(200, PushConfigSchema)
def push_config():
    """The VAPID public key a browser subscribes with (PushManager.subscribe applicationServerKey)."""
    key = current_app.config.get("NOTIFICATIONS_VAPID_PUBLIC_KEY", "")
    return {"public_key": key, "enabled": bool(key and current_app.config.get("NOTIFICATIONS_VAPID_PRIVATE_KEY"))}


@blp.route("/push/subscriptions")
class PushSubscriptions(MethodView):
    decorators = [login_required]

    @blp.arguments(PushSubscriptionSchema)
    @blp.response(201, PushEndpointSchema)
    @blp.alt_response(422, schema="Error", description="invalid_subscription (the fields that are wrong; an endpoint "
                                                        "must be a public HTTPS address)")
    def post(self, payload):
        """Subscribe this browser to my pushes (the body is PushSubscription.toJSON())."""
        subscription = subscriptions.subscribe_device(
            current_user.id, endpoint=payload["endpoint"], p256dh=payload["keys"]["p256dh"],
            auth=payload["keys"]["auth"], user_agent=request.headers.get("User-Agent", ""), now=utcnow())
        db.session.commit()
        return {"endpoint": subscription.endpoint}

    @blp.arguments(PushEndpointSchema)
    @blp.response(204)
    def delete(self, payload):
        """Unsubscribe this browser (only my own subscription)."""
        subscriptions.unsubscribe_device(current_user.id, payload["endpoint"])
        db.session.commit()


@blp.route("/push/resubscribe", methods=["POST"])
@blp.arguments(ResubscribeSchema)
@blp.response(200, PushEndpointSchema)
@blp.alt_response(404, schema="Error", description="subscription_not_found (unknown endpoint or wrong auth secret)")
def resubscribe(payload):
    """The service worker's `pushsubscriptionchange`: replace the old subscription (proved by its auth secret) with
    the new one, for the same person. Sent without cookies; no sign-in needed."""
    subscription = subscriptions.resubscribe_device(
        old_endpoint=payload["old"]["endpoint"], old_auth=payload["old"]["keys"]["auth"],
        endpoint=payload["new"]["endpoint"], p256dh=payload["new"]["keys"]["p256dh"],
        auth=payload["new"]["keys"]["auth"], now=utcnow())
    db.session.commit()
    return {"endpoint": subscription.endpoint}


class QuietHoursSchema(Schema):
    """Any of them: a key not sent keeps its value (first time: on, 22:00–08:00)."""

    enabled = fields.Boolean()
    start = fields.String(metadata={"description": "HH:MM, Asia/Shanghai"})
    end = fields.String()
    timezone = fields.String(dump_only=True)


class PreferencesSchema(Schema):
    channels = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Boolean()),
                           metadata={"description": "{category: {inbox|webpush|email|sms|wechat: on}}"})
    transactional = fields.List(fields.String(), dump_only=True,
                                metadata={"description": "categories whose inbox cannot be switched off"})
    quiet_hours = fields.Nested(QuietHoursSchema)


@blp.route("/preferences")
class Preferences(MethodView):
    decorators = [login_required]

    @blp.response(200, PreferencesSchema)
    def get(self):
        """My channels per category, and my quiet hours (non-urgent pushes wait until they end)."""
        return preferences.preferences_view(current_user.id)

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    @blp.alt_response(409, schema="Error", description="transactional_inbox")
    def put(self, payload):
        """Change some of my choices (only what is given changes)."""
        preferences.update_preferences(current_user.id, channels=payload.get("channels"),
                                    quiet_hours=payload.get("quiet_hours"))
        db.session.commit()
        return preferences.preferences_view(current_user.id)


class MaskedRobotURL(fields.String):
    """Read whole; shown masked (webhooks.masked_address): the key in a robot's address lets anyone post into the
    group."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else masked_address(value)


class WebhookSchema(Schema):
    id = Id(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(["wecom", "dingtalk", "feishu"]))
    url = MaskedRobotURL(required=True, metadata={"description": "the robot's webhook address (HTTPS, the platform's "
                                                                "own host); shown masked: host · …last 4 characters"})
    secret = fields.String(load_only=True, load_default="", metadata={"description": "DingTalk 加签 / Feishu "
                                                                                     "签名校验 secret"})
    last_status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


@blp.route("/events/<int:event_id>/webhooks")
class EventWebhooks(MethodView):
    decorators = [login_required]

    @blp.response(200, WebhookSchema(many=True))
    def get(self, event_id: int):
        """The group robots (WeCom, DingTalk, Feishu) that this event's organizers get alerts in."""
        events.organized_event(event_id, current_user)
        return webhooks_of(event_id)

    @blp.arguments(WebhookSchema)
    @blp.response(201, WebhookSchema)
    @blp.alt_response(400, schema="Error", description="invalid_webhook_url")
    def post(self, payload, event_id: int):
        """Connect a group robot to this event (organizers)."""
        webhook = add_webhook(event_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return webhook


@blp.route("/webhooks/<int:webhook_id>", methods=["DELETE"])
@blp.response(204)
@login_required
def delete_webhook(webhook_id: int):
    """Disconnect a group robot."""
    remove_webhook(webhook_id, current_user)
    db.session.commit()


class SegmentSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["all", "registrants", "checked_in", "no_show",
                                                                 "interest", "company"]))
    event_id = Id()
    tag = fields.String()
    company = fields.String()


class AnnouncementSchema(Schema):
    id = Id(dump_only=True)
    segment = fields.Nested(SegmentSchema, required=True)
    title = fields.String(required=True)
    body = fields.String(load_default="")
    title_en = fields.String(load_default="")
    body_en = fields.String(load_default="")
    link = fields.String(load_default="", metadata={"description": "a path on this site, e.g. /events/12"})
    urgent = fields.Boolean(load_default=False, metadata={"description": "goes out even in quiet hours"})
    status = fields.String(dump_only=True, metadata={"description": "sending (fan-out running) or sent"})
    recipients = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    stats = fields.Dict(dump_only=True, metadata={"description": "{recipients, read, channels: {channel: {sent, "
                                                                 "pending, failed, skipped, reasons}}}"})


@blp.route("/announcements")
class Announcements(MethodView):
    decorators = [login_required]

    @blp.response(200, AnnouncementSchema(many=True))
    def get(self):
        """Announcements I may see (organizers): newest first, with their reach."""
        items = announcements.visible_announcements(current_user)
        for item in items:
            item.stats = announcements.announcement_stats(item.id)
        return items

    @blp.arguments(AnnouncementSchema)
    @blp.response(201, AnnouncementSchema)
    @blp.alt_response(409, schema="Error", description="empty_segment")
    @blp.alt_response(403, schema="Error", description="forbidden")
    def post(self, payload):
        """Send an announcement to a segment; the inbox rows are written by a background job after this answer."""
        announcement = announcements.create_announcement(current_user, now=utcnow(), **payload)
        db.session.commit()
        db.session.refresh(announcement)
        announcement.stats = announcements.announcement_stats(announcement.id)
        return announcement


@blp.route("/announcements/<int:announcement_id>")
@blp.response(200, AnnouncementSchema)
@blp.alt_response(404, schema="Error", description="announcement_not_found")
@login_required
def get_announcement(announcement_id: int):
    """One announcement with its reach per channel (sent, failed and why, pending) and how many read it."""
    announcement = announcements.get_announcement(announcement_id, current_user)
    announcement.stats = announcements.announcement_stats(announcement.id)
    return announcement
