"""Linking a person's WeChat (the official account's web authorisation) so that WeChat messages reach them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db
from app.wechat import OAuthRefused, configured, openid_for_code
from notifications.models import NotificationSettings


def wechat_configured() -> bool:
    return configured(current_app.config)


def link_wechat(user_id: int, code: str) -> str:
    """Bind the WeChat account that came back from the official account's authorisation (its one-time `code`) to
    this person: WeChat messages then reach them. One WeChat account belongs to one person here: a phone that
    linked it to another account before moves it to this one. Returns the openid."""
    if not wechat_configured():
        raise DomainError("wechat_not_configured", _l("WeChat is not set up on this site."), status=409)
    if not (code or "").strip() or len(code) > 200:
        raise DomainError("wechat_refused", _l("WeChat did not confirm your account. Please try again."))
    try:
        openid = openid_for_code(dict(current_app.config), code.strip())
    except OAuthRefused as error:
        current_app.logger.info("WeChat authorisation refused: %s", error)
        raise DomainError("wechat_refused", _l("WeChat did not confirm your account. Please try again.")) from None
    db.session.execute(sa.update(NotificationSettings).where(NotificationSettings.wechat_openid == openid,
                                                             NotificationSettings.user_id != user_id)
                       .values(wechat_openid=None).execution_options(synchronize_session=False))
    settings = db.session.get(NotificationSettings, user_id) or NotificationSettings(user_id=user_id)
    settings.wechat_openid = openid
    db.session.add(settings)
    db.session.flush()
    return openid


def unlink_wechat(user_id: int) -> None:
    settings = db.session.get(NotificationSettings, user_id)
    if settings is not None:
        settings.wechat_openid = None
        db.session.flush()


def wechat_linked(user_id: int) -> bool:
    return bool(db.session.scalar(sa.select(NotificationSettings.wechat_openid)
                                  .where(NotificationSettings.user_id == user_id)))


def adopt_sign_in_wechat(user_id: int, *, app_id: str, openid: str) -> bool:
    """A WeChat account bound for signing in (app.accounts) through the official account that sends messages is
    also where those messages reach this person, when they have not linked one and no one else has it. Flushes."""
    if app_id != current_app.config.get("WECHAT_APP_ID") or not openid:
        return False
    taken = db.session.scalar(sa.select(NotificationSettings.user_id).where(
        NotificationSettings.wechat_openid == openid, NotificationSettings.user_id != user_id))
    settings = db.session.get(NotificationSettings, user_id) or NotificationSettings(user_id=user_id)
    if taken is not None or settings.wechat_openid:
        return False
    settings.wechat_openid = openid
    db.session.add(settings)
    db.session.flush()
    return True
