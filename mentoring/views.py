"""Pages of mentor matching (Chinese first, phone-sized): the mentoring home (a founder's match, a mentor's offers and
mentees, the organizers' cycles), the mentor profile, the founder's request, and the organizers' cycle page (run,
pin/forbid, priority groups, rerun, publish). Thin: every rule is in mentoring.services."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.authz import has_role, login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inputs import MAX_ID, MIN_INT
from mentoring import meetings, office_hours, services

bp = Blueprint("mentoring", __name__, url_prefix="/mentoring", template_folder="templates")
MAX_NEED_CHOICES = 3


def _user():
    return current_user._get_current_object()


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in labels.items()]


@bp.get("/")
@login_required
def index():
    user = _user()
    organizer = has_role(user, "organizer")
    now = utcnow()
    return render_template(
        "mentoring/index.html", organizer=organizer, is_mentor=has_role(user, "mentor"),
        cycles=services.list_cycles() if organizer else [], open_cycles=services.open_cycles(),
        my_requests={c.id: services.request_of(c.id, user.id) for c in services.open_cycles()},
        requests=services.my_requests(user),
        matches=services.my_matches(user), mentees=services.my_mentees(user),
        profile=services.mentor_profile_of(user.id), now=now,
        bookings=[b for b in office_hours.bookings_of(user, now=now) if b.status == "booked"],
        to_rate=office_hours.meetings_to_rate(user, now=now), roadshows=meetings.upcoming_roadshows(now=now))


# ---- mentors -----------------------------------------------------------------------------------------------------

@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = _user()
    if not has_role(user, "mentor"):
        flash(_("Only mentors keep a mentor profile."), "error")
        return redirect(url_for(".index"))
    current = services.mentor_profile_of(user.id)
    values = {"bio": current.bio if current else "", "expertise": current.expertise if current else [],
              "industries": "，".join(current.industries) if current else "",
              "stages": current.stages if current else [], "languages": current.languages if current else ["zh"],
              "capacity": current.capacity if current else 3}
    errors, form_error = {}, None
    if request.method == "POST":
        form = request.form
        values = {"bio": form.get("bio", ""), "expertise": form.getlist("expertise"),
                  "industries": form.get("industries", ""), "stages": form.getlist("stages"),
                  "languages": form.getlist("languages"), "capacity": form.get("capacity", "")}
        try:
            capacity = int(values["capacity"])
        except ValueError:
            capacity = -1
        try:
            services.save_mentor_profile(user, bio=values["bio"], expertise=values["expertise"],
                                         industries=values["industries"], stages=values["stages"],
                                         languages=values["languages"], capacity=capacity)
        except DomainError as error:
            db.session.rollback()
            errors, form_error = error.details.get("fields") or {}, str(error.message)
        else:
            db.session.commit()
            flash(_("Your mentor profile is saved."), "success")
            return redirect(url_for(".index"))
    return render_template("mentoring/profile.html", values=values, errors=errors, form_error=form_error,
                           expertise=_choices(services.EXPERTISE), stages=_choices(services.STAGES),
                           languages=_choices(services.LANGUAGES), max_capacity=services.MAX_CAPACITY,
                           industry_suggestions=services.INDUSTRY_SUGGESTIONS)


@bp.post("/matches/<int:match_id>/answer")
@login_required
def answer(match_id: int):
    accept = request.form.get("answer") == "accept"
    try:
        services.respond_to_match(match_id, _user(), accept=accept, reason=request.form.get("reason", ""),
                                  now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Thank you: the founder will be told.") if accept else
              _("Declined. The founder will be offered another mentor."), "success")
    return redirect(url_for(".index"))


# ---- founders ----------------------------------------------------------------------------------------------------

@bp.route("/cycles/<int:cycle_id>/request", methods=["GET", "POST"])
@login_required
def ask(cycle_id: int):
    """Ask for mentoring in a cycle; while the request is pending (the matching not published), the same page
    shows it to change or withdraw."""
    user = _user()
    cycle = services.get_cycle(cycle_id)
    existing = services.request_of(cycle.id, user.id)
    editable = existing is not None and cycle.status in ("open", "proposed")
    if existing is not None:
        values = {"needs": (list(existing.needs) + [""] * MAX_NEED_CHOICES)[:MAX_NEED_CHOICES],
                  "industry": existing.industry, "stage": existing.stage, "description": existing.description,
                  "languages": list(existing.languages), "prefer_ids": [str(i) for i in existing.prefer_ids],
                  "avoid_ids": [str(i) for i in existing.avoid_ids]}
    else:
        values = {"needs": [""] * MAX_NEED_CHOICES, "industry": "", "stage": "", "description": "",
                  "languages": ["zh"], "prefer_ids": [], "avoid_ids": []}
    errors, form_error = {}, None
    if request.method == "POST" and (existing is None or editable):
        form = request.form
        values = {"needs": [form.get(f"need-{i}", "") for i in range(MAX_NEED_CHOICES)],
                  "industry": form.get("industry", ""), "stage": form.get("stage", ""),
                  "description": form.get("description", ""), "languages": form.getlist("languages"),
                  "prefer_ids": form.getlist("prefer_ids"), "avoid_ids": form.getlist("avoid_ids")}
        fields = dict(needs=[n for n in values["needs"] if n], industry=values["industry"], stage=values["stage"],
                      description=values["description"], languages=values["languages"],
                      prefer_ids=values["prefer_ids"], avoid_ids=values["avoid_ids"], now=utcnow())
        try:
            if existing is None:
                services.submit_request(cycle.id, user, **fields)
            else:
                services.update_request(cycle.id, user, **fields)
        except DomainError as error:
            db.session.rollback()
            errors, form_error = error.details.get("fields") or {}, str(error.message)
        else:
            db.session.commit()
            flash(_("Your request is in. You will be told when you are matched.") if existing is None
                  else _("Your request is updated."), "success")
            return redirect(url_for(".index"))
    return render_template("mentoring/request.html", cycle=cycle, existing=existing, editable=editable,
                           values=values, errors=errors,
                           form_error=form_error, expertise=_choices(services.EXPERTISE),
                           stages=_choices(services.STAGES), languages=_choices(services.LANGUAGES),
                           mentors=services.list_mentors(), industry_suggestions=services.INDUSTRY_SUGGESTIONS)


@bp.post("/cycles/<int:cycle_id>/request/withdraw")
@login_required
def withdraw(cycle_id: int):
    services.withdraw_request(cycle_id, _user(), now=utcnow())
    db.session.commit()
    flash(_("Your request is withdrawn. You can ask again while the cycle is open."), "success")
    return redirect(url_for(".index"))


# ---- organizers --------------------------------------------------------------------------------------------------

@bp.post("/cycles")
@login_required
def create_cycle():
    try:
        cycle = services.create_cycle(_user(), name=request.form.get("name", ""),
                                      description=request.form.get("description", ""),
                                      per_founder=_int(request.form.get("per_founder"), 1),
                                      mode=request.form.get("mode", "optimal"), now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if error.status == 403:
            raise
        flash(str(error.message) + " " + " ".join(error.details.get("fields", {}).values()), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    return redirect(url_for(".cycle", cycle_id=cycle.id))


@bp.get("/cycles/<int:cycle_id>")
@login_required
def cycle(cycle_id: int):
    user = _user()
    data = services.proposal(cycle_id, user)
    mentors = services.list_mentors()
    return render_template("mentoring/cycle.html", **data, rules=services.rules_of_cycle(cycle_id),
                           groups=services.priority_groups(cycle_id), mentors=mentors,
                           mentor_names={p.user_id: p.user.display_name for p in mentors},
                           founder_names={r.founder_id: r.founder.display_name for r in data["requests"]},
                           expertise=services.EXPERTISE, stages=services.STAGES)


def _organizer_action(cycle_id: int, action, success: str):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if error.status in (401, 403, 404):
            raise
        details = " ".join(str(v) for v in (error.details.get("fields") or {}).values())
        flash(f"{error.message} {details}".strip(), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".cycle", cycle_id=cycle_id))


@bp.post("/cycles/<int:cycle_id>/run")
@login_required
def run(cycle_id: int):
    mode = request.form.get("mode") or None
    return _organizer_action(cycle_id, lambda: services.run_matching(cycle_id, _user(), mode=mode, now=utcnow()),
                             _("The matching ran. Review the proposal below."))


@bp.post("/cycles/<int:cycle_id>/publish")
@login_required
def publish(cycle_id: int):
    return _organizer_action(cycle_id, lambda: services.publish_cycle(cycle_id, _user(), now=utcnow()),
                             _("Published: every mentor is asked to accept."))


@bp.post("/cycles/<int:cycle_id>/rules")
@login_required
def add_rule(cycle_id: int):
    form = request.form
    return _organizer_action(cycle_id, lambda: services.set_pair_rule(
        cycle_id, _user(), founder_id=_int(form.get("founder_id"), 0), mentor_id=_int(form.get("mentor_id"), 0),
        kind=form.get("kind", ""), reason=form.get("reason", ""), now=utcnow()),
        _("Saved. Run the matching again to apply it."))


@bp.post("/cycles/<int:cycle_id>/rules/<int:rule_id>/delete")
@login_required
def delete_rule(cycle_id: int, rule_id: int):
    return _organizer_action(cycle_id, lambda: services.delete_pair_rule(cycle_id, rule_id, _user()),
                             _("Removed. Run the matching again to apply it."))


@bp.post("/cycles/<int:cycle_id>/groups")
@login_required
def set_group(cycle_id: int):
    form = request.form
    weight = _float(form.get("weight"))
    return _organizer_action(cycle_id, lambda: services.set_priority_group(
        cycle_id, _user(), name=form.get("name", ""), weight=weight,
        founder_ids=[_int(x, 0) for x in form.getlist("founder_ids")]),
        _("Saved. Run the matching again to apply it."))


def _int(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if MIN_INT <= number <= MAX_ID else default  # what the database's INTEGER holds


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return -1.0


def reason_text(reasons: dict) -> list[str]:
    """Why a pair fits, in words (for the cycle page and a founder's match)."""
    parts = []
    if reasons.get("pinned"):
        parts.append(_("Pinned by the organizers"))
    needs = [str(services.EXPERTISE.get(n, n)) for n in reasons.get("needs", [])]
    if needs:
        parts.append(_("Covers: %(needs)s", needs="、".join(needs)))
    if reasons.get("industry"):
        parts.append(_("Same industry: %(industry)s", industry=reasons.get("industry_name", "")))
    if reasons.get("stage"):
        stage = reasons.get("stage_code", "")
        parts.append(_("Likes the %(stage)s stage", stage=str(services.STAGES.get(stage, stage))))
    if reasons.get("preferred"):
        parts.append(_("The founder asked for this mentor"))
    if (reasons.get("priority_weight") or 1) != 1:
        parts.append(_("Priority group ×%(w)s", w=reasons["priority_weight"]))
    return parts


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(mentoring_reasons=reason_text, mentoring_expertise=services.EXPERTISE,
                                 mentoring_stages=services.STAGES)
