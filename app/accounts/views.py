"""Pages of accounts: sign in with phone and code, profile, sign out, and the demo-mode helpers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts import (
    api,  # noqa: F401  (declares the API blueprint)
    services,
    wechat_views,
)
from app.accounts.auth import after_sign_in_target, init_login_manager, sign_in, sign_out
from app.accounts.forms import CodeForm, PhoneForm, ProfileForm
from app.accounts.models import DevSmsMessage, User
from app.accounts.phones import mask_phone
from app.accounts.ratelimits import limit_code_requests, limit_code_verifications
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.safe_urls import safe_link

bp = Blueprint("accounts", __name__)
PENDING_PHONE = "login_phone"


@bp.route("/auth/login", methods=["GET", "POST"])
@limit_code_requests
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(after_sign_in_target(request.args.get("next")))
    form = PhoneForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            issued = services.request_login_code(form.phone.data, now=utcnow(), requested_from=request.remote_addr,
                                                 locale=_current_locale())
        except DomainError as error:
            form.phone.errors.append(str(error.message))
        else:
            db.session.commit()
            session[PENDING_PHONE] = issued.phone
            return redirect(url_for("accounts.verify", next=form.next.data or None))
    return render_template("accounts/login.html", form=form, wechat_offered=wechat_views.wechat_sign_in_offered(),
                           wechat_qr_offered=wechat_views.wechat_qr_offered(),
                           wechat_pending=wechat_views.pending_wechat() is not None)


@bp.route("/auth/verify", methods=["GET", "POST"])
@limit_code_verifications
def verify():
    phone = session.get(PENDING_PHONE)
    if not phone:
        return redirect(url_for("accounts.login"))
    form = CodeForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.verify_login_code(phone, form.code.data, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            form.code.errors.append(str(error.message))
        else:
            session.pop(PENDING_PHONE, None)
            sign_in(user, now=utcnow())  # commits
            wechat_views.bind_pending_wechat(user)  # a WeChat account that came here for its phone (commits)
            session.pop("lang", None) if user.locale else None
            return redirect(after_sign_in_target(form.next.data))
    return render_template("accounts/verify.html", form=form, masked_phone=mask_phone(phone))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user, next=request.args.get("next", ""))
    if request.method == "GET":
        form.interests.data = ", ".join(user.interests or [])
    first_time = not user.profile_complete
    if form.validate_on_submit():
        try:
            services.update_profile(user, now=utcnow(), **_sent_profile_fields(form))
        except DomainError as error:
            db.session.rollback()
            for field, message in error.details.get("fields", {}).items():
                getattr(form, field).errors.append(message)
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(safe_link(form.next.data) or url_for("events.index"))
    return render_template("accounts/profile.html", form=form, first_time=first_time,
                           wechat=wechat_views.profile_wechat(user.id))


def _sent_profile_fields(form: ProfileForm) -> dict:
    """The fields this form sent: a form that shows fewer of them (or an older page) keeps the others as they are."""
    return {name: getattr(form, name).data for name in services.PROFILE_FIELDS if name in request.form}


@bp.post("/auth/logout")
def logout():
    """Sign out on this device: its sign-in (and any judge pass it holds) ends, for every copy of its cookies."""
    sign_out(now=utcnow())
    session.pop(PENDING_PHONE, None)
    flash(_("You are signed out."), "info")
    return redirect(url_for("events.index"))


@bp.post("/auth/logout-everywhere")
@login_required
def logout_everywhere():
    """Sign out on every device: every sign-in and judge pass of this person ends, and every API token is revoked."""
    services.sign_out_everywhere(current_user._get_current_object(), now=utcnow())
    sign_out(now=utcnow())  # commits
    session.pop(PENDING_PHONE, None)
    flash(_("You are signed out on every device, and your API tokens are revoked."), "info")
    return redirect(url_for("events.index"))


def _current_locale() -> str:
    return str(get_locale())


# ---- demo mode: the development SMS outbox and "try as" ----------------------------------------------------------

dev_bp = Blueprint("dev", __name__, url_prefix="/dev")

DEMO_PERSONAS = {
    "founder": "+8613800000001",
    "organizer": "+8613800000002",
    "judge": "+8613800000003",
    "mentor": "+8613800000004",
}


@dev_bp.before_request
def _only_in_demo_mode():
    if not current_app.config.get("DEMO_MODE"):
        abort(404)


@dev_bp.get("/sms")
def sms_outbox():
    messages = db.session.scalars(sa.select(DevSmsMessage).order_by(DevSmsMessage.id.desc()).limit(30)).all()
    return render_template("dev/sms.html", messages=messages)


@dev_bp.get("/try")
def try_as():
    users = {key: db.session.scalars(sa.select(User).where(User.phone == phone)).first()
             for key, phone in DEMO_PERSONAS.items()}
    return render_template("dev/try.html", users=users)


@dev_bp.post("/try/<persona>")
def try_as_persona(persona: str):
    phone = DEMO_PERSONAS.get(persona)
    user = phone and db.session.scalars(sa.select(User).where(User.phone == phone)).first()
    if not user:
        raise DomainError("demo_user_missing", _("Demo data is not loaded. Run: flask --app app seed-demo"),
                          status=404)
    sign_in(user, now=utcnow())
    flash(_("You are now signed in as %(name)s.", name=user.display_name), "success")
    return redirect(url_for("events.index"))


def init_app(app: Flask) -> None:
    init_login_manager(app)
    app.register_blueprint(bp)
    app.register_blueprint(wechat_views.bp)
    app.register_blueprint(dev_bp)
