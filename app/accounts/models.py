"""Tables of accounts: users, role grants, one-time codes, API tokens, and the development SMS outbox."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from app.accounts.phones import mask_phone
from app.authz import GLOBAL_SCOPE
from app.db_types import UTCDateTime, utcnow
from app.extensions import db

PERSONAS = ("founder", "investor", "engineer", "other")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)  # E.164, e.g. +8613812345678
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    company: Mapped[str] = mapped_column(sa.String(120), default="")
    title: Mapped[str] = mapped_column(sa.String(80), default="")
    persona: Mapped[str] = mapped_column(sa.String(16), default="other")
    interests: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # private .ics feed; rotatable
    profile_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )  # loaded when a role is checked (API requests load them with the bearer token)
    api_tokens: WriteOnlyMapped[ApiToken] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:  # Flask-Login
        """What the session and remember cookies hold: this sign-in's own token (an AuthSession), never the user
        id, so that a cookie stops working when its sign-in ends. Set by app.accounts.auth when it signs the person
        in or loads them from a cookie; a user loaded any other way cannot be put in a cookie."""
        auth_id = getattr(self, "auth_id", None)
        if not auth_id:
            raise RuntimeError("sign in through app.accounts.auth.sign_in: a cookie holds a session token")
        return auth_id

    @property
    def profile_complete(self) -> bool:
        return self.profile_completed_at is not None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def display_name(self) -> str:
        return self.name or self.masked_phone

    def __repr__(self) -> str:
        return f"<User {self.id} {self.masked_phone}>"


class RoleGrant(db.Model):
    """A role, global (scope "") or scoped to one event or competition ("event:12", "competition:3")."""

    __tablename__ = "role_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[str] = mapped_column(sa.String(40), default=GLOBAL_SCOPE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")


class OneTimeCode(db.Model):
    """A sign-in code: only its HMAC is stored; it expires, allows a few attempts, and is consumed once."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_from: Mapped[str | None] = mapped_column(sa.String(64))


class SignInCodeEvent(db.Model):
    """What sign-in caps and the lock-out count, per phone and per address, over the last hours: a code sent, a wrong
    code, a lock-out begun. Rows older than two days are deleted when codes are requested."""

    __tablename__ = "sign_in_code_events"
    __table_args__ = (sa.Index("ix_sign_in_code_events_phone_kind_at", "phone", "kind", "at"),
                      sa.Index("ix_sign_in_code_events_address_kind_at", "address", "kind", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(8))  # sent | wrong | locked
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApiToken(db.Model):
    """A bearer token for API clients (scanner devices, mobile apps). Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="api_tokens")


SESSION_SCOPE_ACCOUNT = ""  # a full sign-in (phone and code)


class AuthSession(db.Model):
    """One sign-in on one device (scope ""), or a judge pass (scope "judging:competition:<id>": that competition's
    judging pages only, never the account). The cookie holds the random token; only its SHA-256 is stored. Signing
    out ends the row, and with it every copy of the cookie. `origin` says what made it ("judge:<id>" for a pass
    made by that judge's invitation, so a new invitation ends it). `last_seen_at` is recorded coarsely."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(60), default=SESSION_SCOPE_ACCOUNT)
    origin: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    user_agent: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WeChatBinding(db.Model):
    """A person's WeChat account, as one WeChat app (the official account, the website app) sees it: signing in
    with it signs in as this person (app.accounts.wechat). One WeChat account per person per app, one person per
    WeChat account: `openid` is unique within its app; `unionid` (the same across the apps of one open platform,
    when WeChat gives it) belongs to one person, checked by the binding rule."""

    __tablename__ = "wechat_bindings"
    __table_args__ = (sa.UniqueConstraint("app_id", "openid"), sa.UniqueConstraint("user_id", "app_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[str] = mapped_column(sa.String(32))
    openid: Mapped[str] = mapped_column(sa.String(64))
    unionid: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DevSmsMessage(db.Model):
    """What the console SMS provider 'sent', shown on the development page in demo mode only."""

    __tablename__ = "dev_sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
