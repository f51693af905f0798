"""Pages of notifications: the inbox (消息中心) with read/unread and deep links, the unread badge in the top bar,
and the one-click unsubscribe link of e-mails. Thin: every rule is in notifications/services.py."""

from __future__ import annotations

import json
import secrets

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import csrf, db
from app.inputs import parse_id
from app.safe_urls import safe_link
from app.wechat import authorize_url
from events import services as events
from notifications import announcements, services, webhooks
from notifications.models import CATEGORIES, PREFERENCE_CHANNELS, TRANSACTIONAL_CATEGORIES
from notifications.unsubscribe import read_unsubscribe_token
from notifications.webhooks import masked_address

bp = Blueprint("notifications", __name__, template_folder="templates")

CATEGORY_LABELS = {
    "registrations": _l("My registrations and tickets"),
    "reminders": _l("Reminders"),
    "schedule": _l("Schedule changes"),
    "results": _l("Results and decisions"),
    "mentoring": _l("Mentor matches"),
    "announcements": _l("Town announcements"),
}


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))


@bp.get("/notifications")
@login_required
def inbox():
    unread_only = request.args.get("unread") in ("1", "true", "on")
    before_id = request.args.get("before", type=parse_id)
    items = services.inbox(current_user.id, unread_only=unread_only, before_id=before_id, limit=30)
    return render_template("notifications/inbox.html", items=items, unread_only=unread_only,
                           next_before=items[-1].id if len(items) == 30 else None,
                           unread=services.unread_count(current_user.id))


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_message(notification_id: int):
    """Follow a message's deep link, marking it read on the way."""
    notification = services.get_own_notification(notification_id, current_user.id)
    services.mark_read(current_user.id, [notification.id], now=utcnow())
    db.session.commit()
    return redirect(safe_link(notification.link) or url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    services.mark_read(current_user.id, None, now=utcnow())
    db.session.commit()
    return redirect(url_for("notifications.inbox"))


CHANNEL_LABELS = {
    "inbox": _l("Inbox"),
    "webpush": _l("Push"),
    "email": _l("E-mail"),
    "sms": _l("SMS"),
    "wechat": _l("WeChat"),
}


def usable_channels(user) -> dict[str, str]:
    """The channels this person's settings page offers, each with its state: only what can work. The inbox always;
    push when the server has VAPID keys (whether this device is subscribed, the page's script tells); e-mail and SMS
    when the server can send them (an SMTP host / an SMS provider, or the log and console of demo mode) and the
    person has an address / a phone, as plan_deliveries reaches them; WeChat when the server is set up for it, as
    "link" until this person has linked theirs ("on" after)."""
    config = current_app.config
    demo = bool(config.get("DEMO_MODE"))
    usable = {"inbox": "on"}
    if config.get("NOTIFICATIONS_VAPID_PUBLIC_KEY") and config.get("NOTIFICATIONS_VAPID_PRIVATE_KEY"):
        usable["webpush"] = "on"
    if user.email and (config.get("NOTIFICATIONS_SMTP_HOST") or demo):
        usable["email"] = "on"
    sms_provider = config.get("NOTIFICATIONS_SMS_PROVIDER") or config.get("SMS_PROVIDER") or "console"
    if user.phone and (sms_provider != "console" or demo):
        usable["sms"] = "on"
    if services.wechat_configured():
        usable["wechat"] = "on" if services.wechat_linked(user.id) else "link"
    return usable


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def preferences():
    """Channels per category (transactional ones can be moved to the inbox, never switched off) and quiet hours.
    Only channels that can work are offered (usable_channels); the form names them in `shown`, and only those
    change, so a channel the server or person cannot use now keeps its choice for when it can."""
    if request.method == "POST":
        shown = request.form.get("shown")
        editable = PREFERENCE_CHANNELS if shown is None else [c for c in PREFERENCE_CHANNELS if c in shown.split(",")]
        channels = {c: {ch: f"{c}.{ch}" in request.form for ch in editable} for c in CATEGORIES}
        for category in TRANSACTIONAL_CATEGORIES:
            channels[category]["inbox"] = True
        quiet_hours = {"enabled": "quiet_enabled" in request.form}  # a checkbox: absent means off
        quiet_hours.update({key: request.form[f"quiet_{key}"] for key in ("start", "end")
                            if f"quiet_{key}" in request.form})  # a time not sent keeps its value
        services.update_preferences(current_user.id, channels=channels, quiet_hours=quiet_hours)
        db.session.commit()
        flash(_l("Your notification settings are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    usable = usable_channels(current_user)
    toggles = [channel for channel, state in usable.items() if state == "on"]
    return render_template("notifications/preferences.html", view=services.preferences_view(current_user.id),
                           channel_labels=CHANNEL_LABELS, usable=usable, toggles=toggles)


_WECHAT_STATE = "notifications.wechat_state"


@bp.get("/notifications/wechat")
@login_required
def wechat():
    """Link this account to the person's WeChat (the town's official account), so messages can reach them there."""
    return render_template("notifications/wechat.html", configured=services.wechat_configured(),
                           linked=services.wechat_linked(current_user.id))


@bp.post("/notifications/wechat/link")
@login_required
def wechat_link():
    """Off to WeChat's authorisation page, with a one-time `state` kept in this session (no other site can finish
    a link into this account)."""
    if not services.wechat_configured():
        abort(404)
    state = session[_WECHAT_STATE] = secrets.token_urlsafe(16)
    callback = url_for("notifications.wechat_callback", _external=True)
    return redirect(authorize_url(dict(current_app.config), redirect_uri=callback, state=state))


@bp.get("/notifications/wechat/callback")
@login_required
def wechat_callback():
    """WeChat comes back here with `code` and our `state`: the state must be this session's, once."""
    expected = session.pop(_WECHAT_STATE, None)
    if not expected or request.args.get("state") != expected:
        flash(_l("This WeChat link has expired. Please start again."), "error")
        return redirect(url_for("notifications.wechat")), 303
    try:
        services.link_wechat(current_user.id, request.args.get("code", ""))
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
    else:
        flash(_l("Your WeChat is linked: messages you choose will reach you there."), "success")
    return redirect(url_for("notifications.wechat")), 303


@bp.post("/notifications/wechat/unlink")
@login_required
def wechat_unlink():
    services.unlink_wechat(current_user.id)
    db.session.commit()
    flash(_l("Your WeChat is no longer linked."), "success")
    return redirect(url_for("notifications.wechat"))


SEGMENT_LABELS = {
    "all": _l("All residents"),
    "registrants": _l("Everyone signed up for an event"),
    "checked_in": _l("Checked-in attendees of an event"),
    "no_show": _l("No-shows of an event"),
    "interest": _l("Residents interested in a topic"),
    "company": _l("Residents of one company"),
}


@bp.route("/notifications/announcements", methods=["GET", "POST"])
@login_required
def announcements_page():
    """Organizers write to a segment of residents and see each announcement's reach."""
    items = announcements.visible_announcements(current_user)
    form, error, error_code, fields = {}, None, None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        segment = {"kind": form.get("segment", ""), "event_id": form.get("event_id") or None,
                   "tag": form.get("tag", ""), "company": form.get("company", "")}
        try:
            announcement = announcements.create_announcement(
                current_user, segment=segment, title=form.get("title", ""), body=form.get("body", ""),
                title_en=form.get("title_en", ""), body_en=form.get("body_en", ""), link=form.get("link", ""),
                urgent="urgent" in form, now=utcnow())
            db.session.commit()
        except DomainError as refused:
            db.session.rollback()
            if refused.status in (401, 403):
                raise
            error, error_code, fields = str(refused.message), refused.code, refused.details.get("fields", {})
        else:
            flash(_l("The announcement is on its way."), "success")
            return redirect(url_for("notifications.announcement_page", announcement_id=announcement.id))
    stats = {a.id: announcements.announcement_stats(a.id) for a in items}
    return render_template("notifications/announcements.html", items=items, stats=stats, form=form, error=error,
                           error_code=error_code, fields=fields, segment_labels=SEGMENT_LABELS), (
        (422 if error_code == "invalid_announcement" else 400) if error else 200)


@bp.get("/notifications/announcements/<int:announcement_id>")
@login_required
def announcement_page(announcement_id: int):
    announcement = announcements.get_announcement(announcement_id, current_user)
    return render_template("notifications/announcement.html", announcement=announcement,
                           stats=announcements.announcement_stats(announcement.id), segment_labels=SEGMENT_LABELS,
                           channel_labels=CHANNEL_LABELS)


ROBOT_LABELS = {"wecom": _l("WeCom (企业微信)"), "dingtalk": _l("DingTalk (钉钉)"), "feishu": _l("Feishu (飞书)")}


@bp.app_template_filter("robot_address")
def robot_address(url: str) -> str:
    """A robot's address as its page shows it (webhooks.masked_address: never its whole key)."""
    return masked_address(url)


@bp.route("/manage/events/<int:event_id>/robots", methods=["GET", "POST"])
@login_required
def robots_page(event_id: int):
    """An event's organizers connect group robots (WeCom, DingTalk, Feishu) for their alerts, and see whether each
    one is working: its last answer and how many alerts were sent, are waiting, or failed."""
    event = events.organized_event(event_id, current_user)
    form, error, fields = {}, None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            webhooks.add_webhook(event.id, current_user, kind=form.get("kind", ""), url=form.get("url", ""),
                                 secret=form.get("secret", ""), now=utcnow())
            db.session.commit()
        except DomainError as refused:
            db.session.rollback()
            error, fields = str(refused.message), refused.details.get("fields", {})
        else:
            flash(_l("The robot is connected. Send it a test message to check it."), "success")
            return redirect(url_for("notifications.robots_page", event_id=event.id))
    form.pop("secret", None)  # never echoed back into the page
    return render_template("notifications/robots.html", event=event, robots=webhooks.webhooks_of(event.id),
                           counts=webhooks.alert_status(event.id), robot_labels=ROBOT_LABELS, form=form,
                           error=error, fields=fields), (400 if error else 200)


@bp.post("/manage/events/<int:event_id>/robots/<int:webhook_id>/test")
@login_required
def test_robot(event_id: int, webhook_id: int):
    """Post a test message to one robot now and show what it answered."""
    event = events.organized_event(event_id, current_user)
    robot = webhooks.get_webhook(webhook_id, current_user, event_id=event.id)
    reason = webhooks.post_alert(robot, str(_l("Test message from Beiyang Events")),
                                 str(_l("Alerts of “%(title)s” will arrive in this group.", title=event.title)))
    db.session.commit()  # the robot's last status
    if reason:
        flash(_l("The robot did not accept the message: %(reason)s", reason=reason), "error")
    else:
        flash(_l("The robot accepted the test message."), "success")
    return redirect(url_for("notifications.robots_page", event_id=event.id))


@bp.post("/manage/events/<int:event_id>/robots/<int:webhook_id>/delete")
@login_required
def delete_robot(event_id: int, webhook_id: int):
    webhooks.remove_webhook(webhook_id, current_user, event_id=event_id)
    db.session.commit()
    flash(_l("The robot is disconnected."), "success")
    return redirect(url_for("notifications.robots_page", event_id=event_id))


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """One click from an e-mail (RFC 8058: mail clients POST here without a session). A GET shows a confirmation
    button, so that link scanners that fetch every URL change nothing."""
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user_id, category = found
    if request.method == "POST":
        services.set_preference(user_id, category, "email", False)
        db.session.commit()
        return render_template("notifications/unsubscribed.html", category=category_label(category), done=True)
    return render_template("notifications/unsubscribed.html", category=category_label(category), done=False,
                           token=token)


@bp.get("/sw.js")
def service_worker():
    """The site's service worker (scope /): it imports each package's part (SERVICE_WORKER_SCRIPTS; the push part
    is static/js/push-sw.js). Served from the root so that its scope covers every page; never cached long, so an
    update reaches browsers at their next visit."""
    scripts = current_app.config.get("SERVICE_WORKER_SCRIPTS") or []
    body = "\n".join(f"importScripts({json.dumps(url_for('static', filename=path))});" for path in scripts)
    response = current_app.response_class(body + "\n", mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The installable app (PWA): name, icons, start at the events list, standalone."""
    response = jsonify({
        "name": str(_l("Beiyang Events")), "short_name": "北杨小镇", "lang": "zh-CN", "start_url": "/",
        "scope": "/", "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b5cab",
        "icons": [{"src": url_for("static", filename=f"icons/icon-{n}.png"), "sizes": f"{n}x{n}",
                   "type": "image/png", "purpose": "any maskable"} for n in (192, 512)],
    })
    response.mimetype = "application/manifest+json"
    return response


def _unread_badge() -> dict:
    def unread_badge() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(current_user.id)

    return {"notifications_unread": unread_badge, "notification_category_label": category_label}


def init_app(app: Flask) -> None:
    app.config.setdefault("SERVICE_WORKER_SCRIPTS", [])
    if "js/push-sw.js" not in app.config["SERVICE_WORKER_SCRIPTS"]:
        app.config["SERVICE_WORKER_SCRIPTS"].append("js/push-sw.js")
    app.register_blueprint(bp)
    app.context_processor(_unread_badge)
    csrf.exempt("notifications.views.unsubscribe")  # the token is the proof; mail clients POST without a session
