"""Signing in with WeChat: which person a WeChat account is, and binding one to a person (no request objects here).

A WeChat account (app.wechat.Identity) is bound to at most one person, and a person to at most one WeChat account
per WeChat app. The unionid, when WeChat gives it, names the same WeChat account across the apps of one open
platform (the official account in WeChat's browser, the website app's QR code on a desktop): it is checked first,
so a person bound through one app is recognised through the other. Binding an account that is someone else's is
refused with a clear message, never moved: the person must unbind it there first."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User, WeChatBinding
from app.accounts.signals import wechat_bound
from app.errors import DomainError
from app.extensions import db
from app.wechat import Identity


def _bound_elsewhere() -> DomainError:
    return DomainError("wechat_bound_elsewhere", _l(
        "This WeChat account is already bound to another account here. Sign in with WeChat to use that account, "
        "or unbind WeChat on its profile page first."), status=409)


def _binding_of(identity: Identity) -> WeChatBinding | None:
    """This WeChat account's binding in this app, or (by its unionid) in another app of the same open platform."""
    binding = db.session.scalars(sa.select(WeChatBinding).where(WeChatBinding.app_id == identity.app_id,
                                                               WeChatBinding.openid == identity.openid)).first()
    if binding is None and identity.unionid:
        binding = db.session.scalars(sa.select(WeChatBinding).where(WeChatBinding.unionid == identity.unionid)
                                     .order_by(WeChatBinding.id)).first()
    return binding


def user_for_wechat(identity: Identity, *, now: datetime) -> User | None:
    """The person this WeChat account signs in as, or None when it is bound to nobody yet. Recognised through
    another app (its unionid), it is bound for this app too, so the next sign-in finds it directly."""
    binding = _binding_of(identity)
    if binding is None:
        return None
    user = db.session.get(User, binding.user_id)
    if binding.app_id != identity.app_id or (identity.unionid and not binding.unionid):
        bind_wechat(user, identity, now=now)
    return user


def bind_wechat(user: User, identity: Identity, *, now: datetime) -> WeChatBinding:
    """Bind this WeChat account to `user` (already theirs: nothing changes). Refused when it is bound to someone
    else, or when `user` already has another WeChat account in this app. Flushes; the caller commits."""
    bound = _binding_of(identity)
    if bound is not None and bound.user_id != user.id:
        raise _bound_elsewhere()
    own = db.session.scalars(sa.select(WeChatBinding).where(WeChatBinding.user_id == user.id,
                                                           WeChatBinding.app_id == identity.app_id)).first()
    if own is not None and own.openid != identity.openid:
        raise DomainError("wechat_already_bound", _l(
            "Your account is already bound to another WeChat account. Unbind it on your profile page first."),
            status=409)
    if own is not None:
        if identity.unionid and not own.unionid:
            own.unionid = identity.unionid
            db.session.flush()
        return own
    binding = WeChatBinding(user_id=user.id, app_id=identity.app_id, openid=identity.openid,
                            unionid=identity.unionid, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(binding)
    except sa.exc.IntegrityError:  # bound at the same moment by another request
        raise _bound_elsewhere() from None
    wechat_bound.send(None, user_id=user.id, app_id=identity.app_id, openid=identity.openid)
    return binding


def unbind_wechat(user_id: int) -> bool:
    """Unbind every WeChat account of this person (they sign in by phone and code again). True if one was bound."""
    removed = db.session.execute(sa.delete(WeChatBinding).where(WeChatBinding.user_id == user_id)).rowcount
    return bool(removed)


def has_wechat(user_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WeChatBinding)
                             .where(WeChatBinding.user_id == user_id)) > 0
