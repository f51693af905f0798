"""Pages of signing in with WeChat (the official account's web authorisation, in WeChat's browser), and binding or
unbinding WeChat from the profile page. Nothing here exists without WECHAT_APP_ID and WECHAT_APP_SECRET (404).

The `state` sent to WeChat is random, kept in this browser's session with what the trip is for and where to go
after, and taken out when WeChat comes back: a state from another browser, a replayed one or a second use of the
same one finds nothing, and WeChat is never asked. The return path is a path on this site (app.safe_urls).
A WeChat account bound to nobody yet is kept in the session (for a few minutes) while the person confirms their
phone with an SMS code, once; app.accounts.views.verify then binds it (bind_pending_wechat)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import wechat
from app.accounts.auth import after_sign_in_target, sign_in
from app.accounts.wechat_bindings import bind_wechat, has_wechat, unbind_wechat, user_for_wechat
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.safe_urls import safe_link

bp = Blueprint("wechat_sign_in", __name__)
TRIP = "wechat.trip"  # the session key of the trip to WeChat under way: state, purpose, return path
PENDING = "wechat.pending"  # the session key of a WeChat account waiting for its phone
PENDING_FOR = timedelta(minutes=15)
SIGN_IN, BIND = "sign_in", "bind"
OFFICIAL, WEBSITE = "official", "website"  # the official account (in WeChat), the website app (QR code)


MOBILE_MARKS = ("Mobile", "Android", "iPhone", "iPad", "HarmonyOS")


def _in_wechat() -> bool:
    return wechat.in_wechat(request.headers.get("User-Agent"))


def _on_a_desktop() -> bool:
    """A QR code is for a computer's screen: a phone cannot scan its own screen."""
    agent = request.headers.get("User-Agent") or ""
    return not _in_wechat() and not any(mark in agent for mark in MOBILE_MARKS)


def wechat_sign_in_offered() -> bool:
    """The sign-in page offers "微信一键登录": WeChat is set up and this is WeChat's browser."""
    return wechat.configured(current_app.config) and _in_wechat()


def wechat_qr_offered() -> bool:
    """The sign-in page offers "微信扫码登录": the website app is set up and this is a computer's browser."""
    return wechat.website_configured(current_app.config) and _on_a_desktop()


def _way_here() -> str | None:
    """How this browser reaches WeChat: the official account in WeChat's browser, the website app's QR code on a
    desktop (or elsewhere when only it is set up), or None when WeChat is not set up."""
    config = current_app.config
    if wechat.configured(config) and (_in_wechat() or not wechat.website_configured(config)):
        return OFFICIAL
    return WEBSITE if wechat.website_configured(config) else None


def _off_to_wechat(purpose: str, way: str, next_url: str | None):
    state = secrets.token_urlsafe(24)
    session[TRIP] = {"state": state, "purpose": purpose, "way": way, "next": safe_link(next_url) or "",
                     "user_id": current_user.id if purpose == BIND else None}
    callback = url_for("wechat_sign_in.callback", _external=True)
    if way == WEBSITE:
        return redirect(wechat.qr_login_url(current_app.config, redirect_uri=callback, state=state))
    return redirect(wechat.authorize_url(current_app.config, redirect_uri=callback, state=state))


@bp.get("/auth/wechat")
def start():
    """"微信一键登录": off to WeChat's authorisation page (snsapi_base: nothing to confirm there)."""
    if not wechat.configured(current_app.config):
        abort(404)
    return _off_to_wechat(SIGN_IN, OFFICIAL, request.args.get("next"))


@bp.get("/auth/wechat/qr")
def start_qr():
    """"微信扫码登录" on a computer: off to the website app's QR code page (snsapi_login)."""
    if not wechat.website_configured(current_app.config):
        abort(404)
    return _off_to_wechat(SIGN_IN, WEBSITE, request.args.get("next"))


@bp.post("/profile/wechat/bind")
@login_required
def bind():
    """A signed-in person binds their WeChat from the profile page (a form: CSRF-checked)."""
    way = _way_here()
    if way is None:
        abort(404)
    return _off_to_wechat(BIND, way, url_for("accounts.profile"))


@bp.post("/profile/wechat/unbind")
@login_required
def unbind():
    if unbind_wechat(current_user.id):
        db.session.commit()
        flash(_l("WeChat is unbound: sign in with your phone and a code from now on."), "success")
    return redirect(url_for("accounts.profile")), 303


@bp.get("/auth/wechat/callback")
def callback():
    """WeChat comes back here with `code` and our `state`: the state must be this session's, once."""
    if _way_here() is None:
        abort(404)
    trip = session.pop(TRIP, None)
    state = request.args.get("state", "")
    if not isinstance(trip, dict) or not state or not secrets.compare_digest(str(trip.get("state", "")), state):
        flash(_l("This WeChat sign-in has expired. Please tap the WeChat button again."), "error")
        return redirect(url_for("accounts.login")), 303
    target = safe_link(trip.get("next")) or None
    code = request.args.get("code", "").strip()
    try:
        if not code or len(code) > 200:  # the person refused, or this is not WeChat
            raise wechat.OAuthRefused("no code")
        identity = wechat.identity_for_code(current_app.config, code, website=trip.get("way") == WEBSITE)
    except wechat.OAuthRefused as refused:
        current_app.logger.info("WeChat authorisation refused: %s", refused)
        flash(_l("WeChat did not confirm your account. Please try again, or sign in with your phone."), "error")
        back = url_for("accounts.profile") if trip.get("purpose") == BIND else url_for("accounts.login", next=target)
        return redirect(back), 303
    if trip.get("purpose") == BIND:
        return _bind_signed_in(identity, trip.get("user_id"))
    user = user_for_wechat(identity, now=utcnow())
    if user is not None and user.is_active_account:
        session.pop(PENDING, None)
        sign_in(user, now=utcnow())  # commits
        return redirect(after_sign_in_target(target)), 303
    db.session.rollback()
    session[PENDING] = {"app_id": identity.app_id, "openid": identity.openid, "unionid": identity.unionid,
                        "until": (utcnow() + PENDING_FOR).timestamp()}
    return redirect(url_for("accounts.login", next=target)), 303


def _bind_signed_in(identity: wechat.Identity, started_by: int | None):
    if not current_user.is_authenticated or current_user.id != started_by:  # signed out, or someone else, since
        flash(_l("Please sign in first."), "error")
        return redirect(url_for("accounts.login")), 303
    try:
        bind_wechat(current_user._get_current_object(), identity, now=utcnow())
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
    else:
        flash(_l("WeChat is bound: in WeChat, sign in with one tap."), "success")
    return redirect(url_for("accounts.profile")), 303


def pending_wechat() -> wechat.Identity | None:
    """The WeChat account waiting in this session for its phone, if it has not waited too long."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or float(pending.get("until") or 0) < utcnow().timestamp():
        return None
    try:
        return wechat.Identity(app_id=str(pending["app_id"]), openid=str(pending["openid"]),
                               unionid=pending.get("unionid") or None)
    except KeyError:
        return None


def bind_pending_wechat(user) -> None:
    """After the phone's code: bind the WeChat account waiting in this session to this person (once). A refusal
    (bound to someone else meanwhile, or this person has another WeChat) is said; the sign-in stands. Commits."""
    identity = pending_wechat()
    session.pop(PENDING, None)
    if identity is None:
        return
    try:
        bind_wechat(user, identity, now=utcnow())
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
    else:
        flash(_l("WeChat is bound: next time, sign in with one tap."), "success")


def profile_wechat(user_id: int) -> dict | None:
    """What the profile page shows of WeChat: None when WeChat is not set up (nothing shows)."""
    if _way_here() is None:
        return None
    return {"bound": has_wechat(user_id)}
