"""One module on purpose, despite its length: a team's application, its members and their accounts
are one life cycle (apply, review, edit, withdraw) whose rules lean on each other and read best in one place.

The competition (港科大百万元奖金创业大赛): teams apply, organizers review; then the rounds (judging/services/).

An application belongs to its team, not to one person. Its members are people (name, mobile number, role; exactly
one lead); whoever submits it becomes a member (and the lead, unless they name another). A member is known by their
phone number: a member with an account is linked to it (`TeamMember.user_id`) when the application is written, and a
member who signs up later is recognised by phone at once (every membership query matches `user_id` or `phone`;
`link_member_accounts` writes the link when they first look at their teams). Every member with an account may view
the application, edit it while it is under review and applications are open, and withdraw it.

Rules, decided under a lock of the competition row (a conditional UPDATE: a row lock on PostgreSQL, the write lock on
SQLite), so two teams submitting at the same moment cannot break them:
- a team name is unique per competition, ignoring case and spacing (`team_name_taken`);
- a person (a phone number) is in at most one active (submitted or accepted) application per competition
  (`already_in_team`);
- a retry of the same submission (a double tap, a bad network) returns the same application, unchanged.
A withdrawn application can be sent again by one of its members under the same team name (the row is reused).

Status: submitted -> accepted | declined (organizers may change their mind either way), submitted | accepted ->
withdrawn (by a member). Organizers are those with the organizer role for `competition:<id>`, for the competition's
event (`event:<id>`), or globally.

Services flush; callers commit once. Times are aware UTC datetimes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.phones import format_phone, mask_phone, normalise_phone
from app.authz import authorize, has_role, scope_key
from app.errors import DomainError, NotFound, Unauthorized
from app.extensions import db
from app.locking import lock_competition
from events.models import Event
from judging import signals
from judging.models import Competition, TeamApplication, TeamMember

# ---- vocabulary ------------------------------------------------------------------------------------------------

APPLICATION_STATUSES = ("submitted", "accepted", "declined", "withdrawn")
ACTIVE_STATUSES = ("submitted", "accepted")
STATUS_LABELS = {
    "submitted": _l("Under review"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}
DECISIONS = {"accept": "accepted", "decline": "declined"}

LIMITS = {"team_name": 60, "project_name": 120, "project_summary": 2000}
MIN_MEMBERS = 1
MAX_MEMBERS = 8
MEMBER_NAME_MAX = 80
MEMBER_ROLE_MAX = 40
NOTE_MAX = 500
MAX_BATCH = 500

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# ---- the competition ---------------------------------------------------------------------------------------------

def get_competition(competition_id: int) -> Competition:
    competition = db.session.get(Competition, competition_id)
    if competition is None:
        raise NotFound("competition_not_found", _l("This competition does not exist."))
    return competition


def competition_of_event(event_id: int) -> Competition | None:
    """The competition whose main event is `event_id` (the competition's page), or None."""
    return db.session.scalars(
        sa.select(Competition).where(Competition.event_id == event_id).order_by(Competition.id)).first()


def tracks_of(competition) -> list[dict]:
    """The competition's tracks as [{"key", "label", "label_en"}] (a bare string is its own key and label),
    skipping malformed entries."""
    tracks = []
    for track in competition.tracks or []:
        if isinstance(track, str) and track.strip():
            tracks.append({"key": track.strip(), "label": track.strip(), "label_en": ""})
        elif isinstance(track, dict) and isinstance(track.get("key"), str) and track["key"]:
            tracks.append({"key": track["key"], "label": str(track.get("label") or track["key"]),
                           "label_en": str(track.get("label_en") or "")})
    return tracks


def in_reader_language(label: str, label_en: str | None) -> str:
    """A name organizers entered (a track, a criterion) in the reader's language: its English version for an
    English reader when one was entered, otherwise as entered."""
    english = str(get_locale() or "").startswith("en")
    return label_en if english and label_en else label


def track_label(competition, key: str) -> str:
    """The track's name in the reader's language (its Chinese label when it has no English one)."""
    if not key:
        return ""
    for track in tracks_of(competition):
        if track["key"] == key:
            return in_reader_language(track["label"], track["label_en"])
    return key


def competition_event(competition) -> Event | None:
    return db.session.get(Event, competition.event_id) if competition.event_id else None


def check_applications_open(competition, *, now: datetime) -> None:
    """Organizers opened applications, the closing time (if any) has not passed, and the competition's event (if
    any) is published and not over."""
    event = competition_event(competition)
    if event is not None and event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if event is not None and event.status != "published":
        raise NotFound("competition_not_found", _l("This competition does not exist."))
    closed = not competition.applications_open or (event is not None and event.ends_at <= now)
    if competition.applications_close_at is not None and competition.applications_close_at <= now:
        closed = True
    if closed:
        raise DomainError("applications_closed", _l("Team applications for this competition are closed."),
                          status=409)


def applications_open(competition, *, now: datetime) -> bool:
    try:
        check_applications_open(competition, now=now)
    except DomainError:
        return False
    return True


def open_competitions(*, now: datetime) -> list[Competition]:
    """Competitions taking team applications now, the soonest closing first."""
    candidates = db.session.scalars(
        sa.select(Competition).where(
            Competition.applications_open.is_(True),
            sa.or_(Competition.applications_close_at.is_(None), Competition.applications_close_at > now))
        .order_by(Competition.applications_close_at.is_(None), Competition.applications_close_at, Competition.id)
    ).all()
    return [c for c in candidates if applications_open(c, now=now)]


# ---- who may do what ------------------------------------------------------------------------------------------------

def is_competition_organizer(user, competition) -> bool:
    if has_role(user, "organizer", scope_key("competition", competition.id)):
        return True
    return bool(competition.event_id) and has_role(user, "organizer", scope_key("event", competition.event_id))


def authorize_competition_organizer(user, competition) -> None:
    """Organizers of the competition (or of its event), global organizers and admins; 401/403 for anyone else."""
    if competition.event_id and is_competition_organizer(user, competition):
        return
    authorize(user, "organizer", scope_key("competition", competition.id))


def _signed_in(user) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthorized("unauthorized", _l("Please sign in first."))


def _member_clause(user):
    return sa.or_(TeamMember.user_id == user.id, TeamMember.phone == user.phone)


def member_of(application: TeamApplication, user) -> TeamMember | None:
    """The user's row in the team (by account, or by phone for a member who signed up later), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    for member in application.members:
        if member.user_id == user.id or member.phone == user.phone:
            return member
    return None


def _not_found() -> NotFound:
    return NotFound("team_application_not_found", _l("This team application does not exist."))


def get_application(application_id: int) -> TeamApplication:
    application = db.session.get(TeamApplication, application_id)
    if application is None:
        raise _not_found()
    return application


def authorize_view(user, application: TeamApplication) -> None:
    """Members and the competition's organizers; to anyone else it does not exist (404; 401 when signed out)."""
    _signed_in(user)
    if member_of(application, user) is not None:
        return
    if is_competition_organizer(user, get_competition(application.competition_id)):
        return
    raise _not_found()


def _as_member(application_id: int, user) -> TeamApplication:
    _signed_in(user)
    application = get_application(application_id)
    if member_of(application, user) is None:
        raise _not_found()
    return application


def visible_phone(member: TeamMember, viewer, *, organizer: bool = False) -> str:
    """A member's own number and organizers see it whole; teammates see it masked (138****5678)."""
    if organizer or (viewer is not None and getattr(viewer, "is_authenticated", False)
                     and (member.user_id == viewer.id or member.phone == viewer.phone)):
        return member.phone
    return mask_phone(member.phone)


def can_edit(application: TeamApplication, *, now: datetime) -> bool:
    return application.status == "submitted" and applications_open(get_competition(application.competition_id),
                                                                   now=now)


def can_withdraw(application: TeamApplication) -> bool:
    return application.status in ACTIVE_STATUSES


# ---- reading ----------------------------------------------------------------------------------------------------

def applications_of_user(user, *, competition_id: int | None = None, fresh: bool = False) -> list[TeamApplication]:
    """The teams a person is in (by account or by phone), newest first. `fresh` re-reads rows already loaded in
    this session (after taking the competition lock)."""
    query = sa.select(TeamApplication).where(
        TeamApplication.id.in_(sa.select(TeamMember.application_id).where(_member_clause(user))))
    if competition_id is not None:
        query = query.where(TeamApplication.competition_id == competition_id)
    query = query.order_by(TeamApplication.created_at.desc(), TeamApplication.id.desc())
    if fresh:
        query = query.execution_options(populate_existing=True)
    return list(db.session.scalars(query.options(selectinload(TeamApplication.members))))


def application_of(competition_id: int, user) -> TeamApplication | None:
    """The person's team in a competition: the active one, else the latest (declined, withdrawn)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    applications = applications_of_user(user, competition_id=competition_id)
    active = [a for a in applications if a.status in ACTIVE_STATUSES]
    return (active or applications or [None])[0]


def link_member_accounts(user) -> int:
    """Link the person's account to the team rows that carry their phone number (they signed up after being
    added). Returns how many rows were linked; the caller commits."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return db.session.execute(
        sa.update(TeamMember).where(TeamMember.phone == user.phone, TeamMember.user_id.is_(None))
        .values(user_id=user.id).execution_options(synchronize_session=False)
    ).rowcount or 0


def list_applications(competition_id: int, organizer, *, track: str | None = None,
                      status: str | None = None) -> list[TeamApplication]:
    """A competition's applications for its organizers, oldest first; optionally of one track and/or status."""
    competition = get_competition(competition_id)
    authorize_competition_organizer(organizer, competition)
    query = sa.select(TeamApplication).where(TeamApplication.competition_id == competition.id)
    errors = {}
    if status:
        if status not in APPLICATION_STATUSES:
            errors["status"] = _l("Please choose one of the options.")
        else:
            query = query.where(TeamApplication.status == status)
    if track:
        if track not in {t["key"] for t in tracks_of(competition)}:
            errors["track"] = _l("Please choose one of the options.")
        else:
            query = query.where(TeamApplication.track == track)
    if errors:
        raise DomainError("invalid_filter", _l("Unknown track or status."), fields={k: str(v) for k, v in
                                                                                   errors.items()})
    return list(db.session.scalars(query.order_by(TeamApplication.created_at, TeamApplication.id)
                                   .options(selectinload(TeamApplication.members))))


def application_counts(competition_id: int) -> dict[str, int]:
    """Applications per status (every status present, 0 when none)."""
    rows = db.session.execute(
        sa.select(TeamApplication.status, sa.func.count()).where(TeamApplication.competition_id == competition_id)
        .group_by(TeamApplication.status)).all()
    counts = dict.fromkeys(APPLICATION_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def counts_by_track(competition) -> list[dict]:
    """Per track (in the competition's order; then any other track a team named, and "no track"):
    {"track", "label", "counts": {status: n}, "active", "total"}. Tracks without teams are listed with zeros."""
    rows = db.session.execute(
        sa.select(TeamApplication.track, TeamApplication.status, sa.func.count())
        .where(TeamApplication.competition_id == competition.id)
        .group_by(TeamApplication.track, TeamApplication.status)).all()
    by_track: dict[str, dict[str, int]] = {}
    for track, status, count in rows:
        by_track.setdefault(track or "", dict.fromkeys(APPLICATION_STATUSES, 0))[status] = count
    keys = [t["key"] for t in tracks_of(competition)]
    keys += sorted(k for k in by_track if k not in keys)
    result = []
    for key in keys:
        counts = by_track.get(key, dict.fromkeys(APPLICATION_STATUSES, 0))
        result.append({"track": key, "label": track_label(competition, key) if key else str(_l("No track")),
                       "counts": counts, "active": counts["submitted"] + counts["accepted"],
                       "total": sum(counts.values())})
    return result


# ---- validating what teams type ----------------------------------------------------------------------------------

@dataclass
class _Problems:
    fields: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)

    def add(self, name: str, reason: str, message) -> None:
        if name not in self.fields:
            self.fields[name] = str(message)
            self.reasons[name] = reason

    def raise_if_any(self) -> None:
        if self.fields:
            raise DomainError("invalid_team_application", _l("Please correct the highlighted fields."),
                              fields=self.fields, reasons=self.reasons)


def clean_line(value: str) -> str:
    """One line of text: control characters dropped, runs of whitespace collapsed. HTML stays text."""
    return " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", value)).split())


def clean_block(value: str) -> str:
    """Several lines of text: line breaks kept (at most one empty line in a row), control characters dropped."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def team_name_key(name: str) -> str:
    """What makes two team names the same: case and spacing do not count."""
    return "".join(clean_line(name).split()).casefold()


def _text(data: dict, name: str, problems: _Problems, *, block: bool = False) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(name, "not_text", _l("Please answer with text."))
        return ""
    value = clean_block(value) if block else clean_line(value)
    if len(value) > LIMITS[name]:
        problems.add(name, "too_long", _l("At most %(n)d characters.", n=LIMITS[name]))
    return value


def validate_application(data: dict, *, competition, submitter, existing: TeamApplication | None = None) -> dict:
    """Check and clean an application; raise invalid_team_application naming each bad field (details.fields:
    field -> message; details.reasons: field -> reason code). Member fields are named members.<index>.<field>.

    `members` is a list of {"name", "phone", "role", "is_lead"}; when editing, a member already in the team may be
    given by its "id" instead of its phone (teammates only ever see each other's numbers masked). On a new
    application the submitter is added when their number is missing (as lead when nobody else is)."""
    problems = _Problems()
    cleaned = {name: _text(data, name, problems, block=name == "project_summary") for name in LIMITS}
    if "team_name" not in problems.fields and not cleaned["team_name"]:
        problems.add("team_name", "required", _l("Please enter your team's name."))
    if "project_name" not in problems.fields and not cleaned["project_name"]:
        problems.add("project_name", "required", _l("Please enter your project's name."))

    tracks = tracks_of(competition)
    track = data.get("track")
    track = track.strip() if isinstance(track, str) else ""
    if tracks and track not in {t["key"] for t in tracks}:
        problems.add("track", "required" if not track else "unknown_track",
                     _l("Please choose a track.") if not track else _l("Please choose one of the tracks."))
    cleaned["track"] = track if tracks else ""
    cleaned["members"] = _validate_members(data.get("members"), problems, submitter=submitter, existing=existing)
    problems.raise_if_any()
    return cleaned


def validate_members(members, *, submitter=None, existing: TeamApplication | None = None,
                     minimum: int = MIN_MEMBERS) -> list[dict]:
    """The member rule, one for every way a team is written (a team's own application, an organizer's setup): a
    list of {"name", "phone", "role", "is_lead"}; at most MAX_MEMBERS (at least MIN_MEMBERS); a name each; phone
    numbers normalised (E.164) and not twice in the team; exactly one lead. `submitter` (a team applying) is added
    when missing, as lead when nobody else is; organizers entering a team (no submitter) list everyone. Raises
    invalid_team_application naming each bad field (members, members.<index>.<field>). A person's one active team
    per competition is checked when the team is written, under the competition's lock (`add_team`,
    `submit_application`, `update_application`). `minimum` 0: an organizer's setup may name a team whose members are
    not known yet (as the setup API always allowed); the rest of the rule holds for the members it lists."""
    problems = _Problems()
    cleaned = _validate_members(members, problems, submitter=submitter, existing=existing, minimum=minimum)
    problems.raise_if_any()
    return cleaned


def _validate_members(members, problems: _Problems, *, submitter, existing: TeamApplication | None,
                      minimum: int = MIN_MEMBERS) -> list[dict]:
    if members is None:
        members = []
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        problems.add("members", "not_a_list", _l("The team is a list of members, each with a name and a phone."))
        return []
    if len(members) > MAX_MEMBERS:
        problems.add("members", "too_many_members", _l("A team has at most %(n)d members.", n=MAX_MEMBERS))
        return []
    stored = {m.id: m for m in existing.members} if existing is not None else {}
    cleaned: list[dict] = []
    for index, member in enumerate(members):
        prefix, n = f"members.{index}", index + 1
        row = {"id": None, "name": "", "phone": "", "role": "", "is_lead": False, "index": index}
        member_id = member.get("id")
        if member_id is not None:
            if isinstance(member_id, bool) or not isinstance(member_id, int) or member_id not in stored:
                problems.add(f"{prefix}.id", "unknown_member", _l("Member %(n)d is not in this team.", n=n))
                continue
            row["id"] = member_id
        for name, limit in (("name", MEMBER_NAME_MAX), ("role", MEMBER_ROLE_MAX)):
            value = member.get(name)
            if value is not None and not isinstance(value, str):
                problems.add(f"{prefix}.{name}", "not_text", _l("Please answer with text."))
                continue
            value = clean_line(value or "")
            if len(value) > limit:
                problems.add(f"{prefix}.{name}", "too_long", _l("At most %(n)d characters.", n=limit))
            row[name] = value
        if not row["name"] and f"{prefix}.name" not in problems.fields:
            problems.add(f"{prefix}.name", "required", _l("Member %(n)d: please enter a name.", n=n))
        phone = member.get("phone")
        if row["id"] is not None and (phone is None or phone == "" or phone == mask_phone(stored[row["id"]].phone)):
            row["phone"] = stored[row["id"]].phone
        elif phone is not None and not isinstance(phone, str):
            problems.add(f"{prefix}.phone", "not_text", _l("Please answer with text."))
        elif not (phone or "").strip():
            problems.add(f"{prefix}.phone", "required", _l("Member %(n)d: please enter a mobile number.", n=n))
        else:
            try:
                row["phone"] = normalise_phone(phone)
            except DomainError:
                problems.add(f"{prefix}.phone", "invalid_phone",
                             _l("Member %(n)d: this is not a valid mobile number.", n=n))
        is_lead = member.get("is_lead", False)
        if not isinstance(is_lead, bool):
            problems.add(f"{prefix}.is_lead", "not_a_choice", _l("Please choose yes or no."))
            is_lead = False
        row["is_lead"] = is_lead
        cleaned.append(row)

    seen: dict[str, int] = {}
    for row in cleaned:
        if not row["phone"]:
            continue
        if row["phone"] in seen:
            problems.add(f"members.{row['index']}.phone", "duplicate_phone",
                         _l("Member %(n)d has the same mobile number as member %(m)d.", n=row["index"] + 1,
                            m=seen[row["phone"]] + 1))
        else:
            seen[row["phone"]] = row["index"]

    referenced = [r["id"] for r in cleaned if r["id"] is not None]
    for index, member_id in enumerate(referenced):
        if member_id in referenced[:index]:
            problems.add("members", "duplicate_member", _l("A member is listed twice."))
    if problems.fields:
        return cleaned
    me = member_of(existing, submitter) if existing is not None else None
    present = submitter is None or submitter.phone in seen or (me is not None and (me.id in referenced or
                                                                                  me.phone in seen))
    if existing is None and not present:
        cleaned.insert(0, {"id": None, "name": submitter.name or "", "phone": submitter.phone,
                           "role": clean_line(submitter.title or "")[:MEMBER_ROLE_MAX],
                           "is_lead": not any(r["is_lead"] for r in cleaned), "index": None})
    elif existing is not None and not present:
        problems.add("members", "self_removed", _l("You cannot remove yourself from the team; withdraw the "
                                                   "application or ask a teammate to edit it."))
    if len(cleaned) > MAX_MEMBERS:
        problems.add("members", "too_many_members",
                     _l("A team has at most %(n)d members, you included.", n=MAX_MEMBERS))
    elif len(cleaned) < minimum:
        problems.add("members", "no_members", _l("Add at least one member."))
    leads = sum(1 for r in cleaned if r["is_lead"])
    if not problems.fields and leads == 0 and cleaned:
        problems.add("members", "lead_missing", _l("Choose the team's lead."))
    elif not problems.fields and leads > 1:
        problems.add("members", "lead_multiple", _l("A team has exactly one lead."))
    return cleaned  # each row keeps "index": its place in the input (None for the submitter added here)


# ---- teams: apply, edit, withdraw ---------------------------------------------------------------------------------

def _check_team_name(competition_id: int, name: str, *, excluding: int | None = None) -> TeamApplication | None:
    """The application already holding this name (None when it is free). Call under the competition lock."""
    key = team_name_key(name)
    rows = db.session.execute(
        sa.select(TeamApplication.id, TeamApplication.team_name)
        .where(TeamApplication.competition_id == competition_id)).all()
    for application_id, team_name in rows:
        if application_id != excluding and team_name_key(team_name) == key:
            return db.session.get(TeamApplication, application_id)
    return None


def _taken(name: str) -> DomainError:
    return DomainError("team_name_taken", _l("Another team in this competition is already called “%(name)s”.",
                                             name=name), status=409, fields={
        "team_name": str(_l("This team name is taken; please choose another."))})


def _busy_members(competition_id: int, members: list[dict], *, excluding: int | None) -> dict[int, str]:
    """Index -> phone of the members already in another active application of the competition."""
    return {index: phone for index, (phone, _team) in _holders(competition_id, members, excluding=excluding).items()}


def _holders(competition_id: int, members: list[dict], *, excluding: int | None) -> dict[int, tuple[str, str]]:
    """Index -> (phone, the other team's name) of the members already in another active application of the
    competition: a person (a phone number) is in at most one."""
    phones = [m["phone"] for m in members]
    query = (sa.select(TeamMember.phone, TeamApplication.team_name).join(TeamApplication)
             .where(TeamApplication.competition_id == competition_id,
                    TeamApplication.status.in_(ACTIVE_STATUSES), TeamMember.phone.in_(phones)))
    if excluding is not None:
        query = query.where(TeamApplication.id != excluding)
    teams_by_phone = dict(db.session.execute(query).all())
    return {index: (m["phone"], teams_by_phone[m["phone"]]) for index, m in enumerate(members)
            if m["phone"] in teams_by_phone}


def _check_members_free(competition_id: int, members: list[dict], submitter, *, excluding: int | None) -> None:
    busy = _busy_members(competition_id, members, excluding=excluding)
    if not busy:
        return
    if submitter is not None and submitter.phone in busy.values():
        current = next((a for a in applications_of_user(submitter, competition_id=competition_id, fresh=True)
                        if a.status in ACTIVE_STATUSES and a.id != excluding), None)
        raise DomainError("already_in_team", _l("You are already in team “%(name)s” in this competition.",
                                                name=current.team_name if current else ""),
                          status=409, application_id=current.id if current else None)
    fields = {}
    for index, phone in busy.items():
        member = members[index]
        fields[f"members.{member['index']}.phone"] = str(_l(
            "%(name)s (%(phone)s) is already in another team in this competition.", name=member["name"],
            phone=mask_phone(phone)))
    first = members[min(busy)]
    raise DomainError("already_in_team", _l("%(name)s (%(phone)s) is already in another team in this competition.",
                                            name=first["name"], phone=mask_phone(first["phone"])),
                      status=409, fields=fields)


def _users_by_phone(phones: list[str]) -> dict[str, int]:
    if not phones:
        return {}
    return dict(db.session.execute(sa.select(User.phone, User.id).where(User.phone.in_(phones))).all())


def _write_members(application: TeamApplication, members: list[dict]) -> None:
    """Make the team's rows match `members` (validated), keeping the rows of members who stay (by id, else by
    phone). Removed rows and changed numbers are flushed first, so a number may move between rows."""
    accounts = _users_by_phone([m["phone"] for m in members])
    by_id = {m.id: m for m in application.members}
    claimed: dict[int, TeamMember] = {row["id"]: by_id[row["id"]] for row in members if row["id"] is not None}
    by_phone = {m.phone: m for m in application.members if m.id not in claimed}
    plan = []
    for row in members:
        member = claimed.get(row["id"]) if row["id"] is not None else by_phone.pop(row["phone"], None)
        changed = member is not None and member.phone != row["phone"]
        plan.append((member or TeamMember(phone=row["phone"]), row, changed))
    kept = {id(member) for member, _, _ in plan}
    for member in list(application.members):
        if id(member) not in kept:
            application.members.remove(member)
    for member, _, changed in plan:
        if changed:
            member.phone = f"~{member.id}"  # out of the way of the (application, phone) unique constraint
    db.session.flush()
    for member, row, changed in plan:
        kept_link = member.user_id if member.id is not None and not changed else None
        member.name, member.role, member.is_lead, member.phone = row["name"], row["role"], row["is_lead"], row["phone"]
        member.user_id = accounts.get(row["phone"], kept_link)
        if member.id is None:
            application.members.append(member)
    db.session.flush()


def members_with_accounts(application: TeamApplication) -> set[int]:
    """Ids of the team's member rows whose person has an account (linked, or signed up since with that phone)."""
    accounts = _users_by_phone([m.phone for m in application.members if not m.user_id])
    return {m.id for m in application.members if m.user_id or m.phone in accounts}


def member_user_ids(application: TeamApplication) -> list[int]:
    """Accounts of the team's members (linked, or found by phone), for messages to the team."""
    ids = {m.user_id for m in application.members if m.user_id}
    ids |= set(_users_by_phone([m.phone for m in application.members if not m.user_id]).values())
    return sorted(ids)


def _send(signal, application: TeamApplication, actor_id: int | None, **extra) -> None:
    competition = get_competition(application.competition_id)
    signal.send(None, application_id=application.id, competition_id=application.competition_id,
                event_id=competition.event_id, user_id=actor_id, member_user_ids=member_user_ids(application),
                **extra)


def _reload(application_id: int) -> TeamApplication:
    return db.session.scalars(
        sa.select(TeamApplication).where(TeamApplication.id == application_id)
        .options(selectinload(TeamApplication.members)).execution_options(populate_existing=True)).one()


def _retry_of(competition_id: int, user, team_name: str, *, fresh: bool = False) -> TeamApplication | None:
    """The person's active application in the competition under this team name: a retry of the same submit."""
    key = team_name_key(team_name) if team_name else None
    for application in applications_of_user(user, competition_id=competition_id, fresh=fresh):
        if application.status in ACTIVE_STATUSES and key and team_name_key(application.team_name) == key:
            return application
    return None


def submit_application(competition_id: int, user, *, now: datetime, **fields) -> tuple[TeamApplication, bool]:
    """Apply as a team. Returns (application, created). The same submit again (the person is already in an active
    team of that name) returns that application unchanged."""
    _signed_in(user)
    competition = get_competition(competition_id)
    if not user.profile_complete:
        raise DomainError("profile_incomplete", _l("Please complete your profile first."), status=409)
    raw_name = fields.get("team_name") if isinstance(fields.get("team_name"), str) else ""
    existing = _retry_of(competition.id, user, raw_name)
    if existing is not None:
        return existing, False
    check_applications_open(competition, now=now)
    cleaned = validate_application(fields, competition=competition, submitter=user)

    lock_competition(competition.id)  # from here on, this competition's applications are written one at a time
    existing = _retry_of(competition.id, user, cleaned["team_name"], fresh=True)
    if existing is not None:
        return existing, False
    holder = _check_team_name(competition.id, cleaned["team_name"])
    revived = None
    if holder is not None:
        holder = _reload(holder.id)
        if holder.status != "withdrawn" or member_of(holder, user) is None:
            raise _taken(holder.team_name)
        revived = holder  # a member sends their withdrawn application again
    _check_members_free(competition.id, cleaned["members"], user, excluding=None)

    application = revived or TeamApplication(competition_id=competition.id, created_by_id=user.id, created_at=now)
    for name in (*LIMITS, "track"):
        setattr(application, name, cleaned[name])
    application.status = "submitted"
    application.review_note = ""
    application.updated_at = now
    if revived is None:
        db.session.add(application)
    db.session.flush()
    _write_members(application, cleaned["members"])
    _send(signals.team_application_submitted, application, user.id)
    return application, True


def _current_values(application: TeamApplication) -> dict:
    return {"team_name": application.team_name, "track": application.track,
            "project_name": application.project_name, "project_summary": application.project_summary,
            "members": [{"id": m.id, "name": m.name, "role": m.role, "is_lead": m.is_lead}
                        for m in application.members]}


def _not_editable() -> DomainError:
    return DomainError("application_not_editable",
                       _l("This application has been decided or withdrawn and can no longer be changed."),
                       status=409)


def update_application(application_id: int, user, *, now: datetime, **fields) -> TeamApplication:
    """Any member with an account changes any of its fields (members: the whole list) while it is under review and
    applications are open."""
    application = _as_member(application_id, user)
    if application.status != "submitted":
        raise _not_editable()
    competition = get_competition(application.competition_id)
    check_applications_open(competition, now=now)
    values = _current_values(application)
    values.update({k: v for k, v in fields.items() if k in values})
    cleaned = validate_application(values, competition=competition, submitter=user, existing=application)

    lock_competition(competition.id)
    application = _reload(application.id)
    if application.status != "submitted":  # decided or withdrawn meanwhile
        raise _not_editable()
    if member_of(application, user) is None:  # removed by a teammate meanwhile
        raise _not_found()
    if _check_team_name(competition.id, cleaned["team_name"], excluding=application.id) is not None:
        raise _taken(cleaned["team_name"])
    _check_members_free(competition.id, cleaned["members"], user, excluding=application.id)
    for name in (*LIMITS, "track"):
        setattr(application, name, cleaned[name])
    application.updated_at = now
    _write_members(application, cleaned["members"])
    return application


def withdraw_application(application_id: int, user, *, now: datetime) -> TeamApplication:
    """A member withdraws the team (under review or accepted). Twice is harmless."""
    application = _as_member(application_id, user)
    if application.status == "withdrawn":
        return application
    lock_competition(application.competition_id)
    application = _reload(application.id)
    if application.status == "withdrawn":
        return application
    if application.status == "declined":
        raise DomainError("application_declined", _l("The organizers declined this application."), status=409)
    previous = application.status
    application.status = "withdrawn"
    application.updated_at = now
    db.session.flush()
    _send(signals.team_application_withdrawn, application, user.id, previous_status=previous)
    return application


# ---- organizers ------------------------------------------------------------------------------------------------

def set_applications_open(competition_id: int, organizer, *, open_now: bool) -> Competition:
    """Open or close team applications (organizers)."""
    competition = get_competition(competition_id)
    authorize_competition_organizer(organizer, competition)
    competition.applications_open = bool(open_now)
    db.session.flush()
    return competition


def add_team(competition_id: int, organizer, team: dict, *, now: datetime) -> TeamApplication:
    """An accepted team that organizers enter themselves (a competition's setup). `team` has team_name, track,
    project_name, project_summary and members as `validate_members` returns them. The rules of an application hold:
    the name is free in the competition and each member is in no other active team of it (teams entered before,
    in this setup too): team_name_taken, or already_in_team naming the number and the team that has it (organizers
    see both). The caller authorizes."""
    lock_competition(competition_id)
    if _check_team_name(competition_id, team["team_name"]) is not None:
        raise _taken(team["team_name"])
    holders = _holders(competition_id, team["members"], excluding=None)
    if holders:
        fields = {f"members.{team['members'][index]['index']}.phone": str(_l(
            "%(phone)s is already in team “%(team)s” in this competition.", phone=format_phone(phone), team=other))
            for index, (phone, other) in holders.items()}
        phone, other = holders[min(holders)]
        raise DomainError("already_in_team", _l("%(phone)s is already in team “%(team)s” in this competition.",
                                                phone=format_phone(phone), team=other), status=409, fields=fields)
    application = TeamApplication(competition_id=competition_id, status="accepted", review_note="",
                                  created_by_id=organizer.id, created_at=now, updated_at=now)
    for name in (*LIMITS, "track"):
        setattr(application, name, team[name])
    db.session.add(application)
    db.session.flush()
    _write_members(application, team["members"])
    return application


def decide_applications(competition_id: int, application_ids: list[int], organizer, *, decision: str,
                        note: str = "", now: datetime) -> list[TeamApplication]:
    """Accept or decline many applications at once, with one note the teams see. All or nothing: an application
    that is withdrawn or of another competition stops the batch. Deciding again the same way sends nothing."""
    competition = get_competition(competition_id)
    authorize_competition_organizer(organizer, competition)
    if decision not in DECISIONS:
        raise DomainError("invalid_decision", _l("Choose accept or decline."),
                          fields={"decision": str(_l("Please choose one of the options."))})
    if note is not None and not isinstance(note, str):
        raise DomainError("invalid_decision", _l("Please correct the highlighted fields."),
                          fields={"note": str(_l("Please answer with text."))})
    note = clean_block(note or "")
    if len(note) > NOTE_MAX:
        raise DomainError("invalid_decision", _l("Please correct the highlighted fields."),
                          fields={"note": str(_l("At most %(n)d characters.", n=NOTE_MAX))})
    if not isinstance(application_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                        for i in application_ids):
        raise DomainError("invalid_decision", _l("Select at least one application."),
                          fields={"application_ids": str(_l("Select at least one application."))})
    ids = list(dict.fromkeys(application_ids))
    if not ids:
        raise DomainError("invalid_decision", _l("Select at least one application."),
                          fields={"application_ids": str(_l("Select at least one application."))})
    if len(ids) > MAX_BATCH:
        raise DomainError("invalid_decision", _l("At most %(n)d at once.", n=MAX_BATCH))
    new_status = DECISIONS[decision]

    lock_competition(competition.id)
    applications = list(db.session.scalars(
        sa.select(TeamApplication).where(TeamApplication.id.in_(ids),
                                         TeamApplication.competition_id == competition.id)
        .options(selectinload(TeamApplication.members)).execution_options(populate_existing=True)))
    if len(applications) != len(ids):
        raise _not_found()
    by_id = {a.id: a for a in applications}
    applications = [by_id[i] for i in ids]
    withdrawn = [a for a in applications if a.status == "withdrawn"]
    if withdrawn:
        raise DomainError("application_withdrawn",
                          _l("“%(team)s” withdrew its application; it cannot be decided.",
                             team=withdrawn[0].team_name), status=409, application_id=withdrawn[0].id)
    decided = []
    for application in applications:
        if application.status == new_status:
            if note:
                application.review_note = note
            continue
        decided.append((application, application.status))
        application.status = new_status
        application.review_note = note
        application.updated_at = now
    db.session.flush()
    for application, previous in decided:
        _link_accounts(application)
        _send(signals.team_application_decided, application, organizer.id, status=new_status,
              previous_status=previous, note=note)
    return applications


def _link_accounts(application: TeamApplication) -> None:
    accounts = _users_by_phone([m.phone for m in application.members if not m.user_id])
    for member in application.members:
        if not member.user_id and member.phone in accounts:
            member.user_id = accounts[member.phone]
    db.session.flush()


# ---- export ------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("application_id", "team_name", "track", "project_name", "project_summary", "status",
                  "review_note", "submitted_at", "member_name", "member_phone", "member_role", "member_is_lead",
                  "member_has_account")


def export_rows(competition, applications: list[TeamApplication], *, labels: dict, yes: str, no: str, tz
                ) -> tuple[list[str], list[list]]:
    """The table organizers download: one row per member (the lead first), the team's columns repeated."""
    header = [str(labels[k]) for k in EXPORT_COLUMNS]
    accounts = _users_by_phone([m.phone for a in applications for m in a.members if not m.user_id])
    rows = []
    for application in applications:
        team = [application.id, application.team_name, track_label(competition, application.track),
                application.project_name, application.project_summary, status_label(application.status),
                application.review_note, application.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")]
        for member in sorted(application.members, key=lambda m: (not m.is_lead, m.id)):
            has_account = bool(member.user_id) or member.phone in accounts
            rows.append(team + [member.name, format_phone(member.phone), member.role, yes if member.is_lead else no,
                                yes if has_account else no])
    return header, rows
