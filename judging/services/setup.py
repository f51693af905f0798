"""Setting a competition up: a round's criteria (validated; replaced only while the round is a draft) and a whole
competition in one go (tracks, rounds with their criteria and judges, teams), all or nothing."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.phones import normalise_phone
from app.accounts.services import get_or_create_user, grant_role
from app.authz import authorize, scope_key
from app.errors import DomainError
from app.extensions import db
from app.locking import lock_round
from judging import teams as team_services
from judging.models import ROUND_KINDS, ROUND_MODES, Competition, CompetitionRound, Criterion, Scorecard
from judging.services.access import authorize_organizer, get_round
from judging.services.base import as_number, audit, on_step, problems
from judging.services.invitations import add_judge
from judging.services.rounds import add_teams, configure_round

CRITERION_KEY_PATTERN = re.compile(r"[a-z0-9_-]{1,40}")
MAX_CRITERIA = 12
MAX_TEAMS = 500
MAX_ROUNDS = 6


def validate_criteria(items) -> list[dict]:
    """A round's criteria: 1 to 12, distinct keys, weights (whole percents) adding up to 100, and a scale (min < max,
    a step that divides the range). Raises invalid_criteria with a message per field (criteria.<i>.<field>)."""
    errors: dict[str, object] = {}
    if not isinstance(items, list) or not items:
        raise problems("invalid_criteria", _l("A round needs at least one criterion."),
                       {"criteria": _l("A round needs at least one criterion.")})
    if len(items) > MAX_CRITERIA:
        raise problems("invalid_criteria", _l("At most %(n)d criteria.", n=MAX_CRITERIA),
                       {"criteria": _l("At most %(n)d criteria.", n=MAX_CRITERIA)})
    cleaned, keys = [], set()
    for index, item in enumerate(items):
        where = f"criteria.{index}"
        if not isinstance(item, dict):
            errors[where] = _l("Please correct this criterion.")
            continue
        label = str(item.get("label") or "").strip()
        key = str(item.get("key") or "").strip().lower() or f"c{index + 1}"
        if not label or len(label) > 80:
            errors[f"{where}.label"] = _l("Name the criterion (at most 80 characters).")
        if not CRITERION_KEY_PATTERN.fullmatch(key):
            errors[f"{where}.key"] = _l("Lower-case letters, digits, - or _ (at most 40).")
        elif key in keys:
            errors[f"{where}.key"] = _l("Two criteria have the same key.")
        keys.add(key)
        weight = as_number(item.get("weight"))
        if weight is None or weight != int(weight) or not 0 < weight <= 100:
            errors[f"{where}.weight"] = _l("A whole percentage from 1 to 100.")
        low = as_number(item.get("min", 0))
        high = as_number(item.get("max", 10))
        step = as_number(item.get("step", 0.5))
        if low is None or high is None or low >= high:
            errors[f"{where}.max"] = _l("The highest score must be above the lowest.")
        elif step is None or step <= 0 or not on_step((high - low), 0, step):
            errors[f"{where}.step"] = _l("The step must divide the range (e.g. 0.5 for 0 to 10).")
        cleaned.append({"key": key, "label": label, "label_en": str(item.get("label_en") or "").strip()[:80],
                        "description": str(item.get("description") or "").strip()[:500],
                        "weight": int(weight) if weight is not None and weight == int(weight) else 0,
                        "min_score": low, "max_score": high, "step": step, "position": index})
    if not errors and sum(c["weight"] for c in cleaned) != 100:
        errors["criteria"] = _l("The weights add up to %(total)d%%; they must add up to 100%%.",
                                total=sum(c["weight"] for c in cleaned))
    if errors:
        raise problems("invalid_criteria", _l("Please correct the criteria."), errors)
    return cleaned


def set_criteria(round_id: int, organizer, items, *, now: datetime) -> list[Criterion]:
    """Replace a round's criteria, only before scoring began: while the round is a draft (scores are kept against
    their criteria). The round's row is taken first, so opening the round waits for the change or refuses it
    comes after (scoring_started, 409)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    cleaned = validate_criteria(items)
    lock_round(round_)
    if round_.state != "draft":
        raise DomainError("scoring_started", _l("Scoring of this round has begun; its criteria cannot change."),
                          status=409)
    if db.session.scalar(sa.select(sa.func.count()).select_from(Scorecard).where(Scorecard.round_id == round_.id)):
        raise DomainError("scores_exist", _l("Judges have already scored this round; its criteria cannot change."),
                          status=409)
    round_.criteria.clear()
    db.session.flush()
    for row in cleaned:
        round_.criteria.append(Criterion(**row))
    audit(round_.id, organizer, "criteria_set", now=now, criteria=[c["key"] for c in cleaned])
    db.session.flush()
    return round_.criteria


def _setup_members(members):
    """A setup's (or a spreadsheet's) shorthand for a team's members: a member without a name is called by the
    last digits of their number, and when nobody is named lead the first member is."""
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        return members
    members = [{**m, "name": m.get("name") or re.sub(r"\D", "", str(m.get("phone") or ""))[-4:]} for m in members]
    if members and not any(m.get("is_lead") for m in members):
        members[0] = {**members[0], "is_lead": True}
    return members


def _clean_setup(data) -> dict:
    errors: dict[str, object] = {}
    if not isinstance(data, dict):
        raise problems("invalid_setup", _l("Please send the setup as an object."), {"setup": _l("An object.")})
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = _l("Name the competition (at most 200 characters).")
    tracks = data.get("tracks") or []
    track_keys = []
    if not isinstance(tracks, list):
        errors["tracks"] = _l("A list of tracks.")
        tracks = []
    clean_tracks = []
    for index, track in enumerate(tracks):
        if isinstance(track, str):
            track = {"key": track, "label": track}
        key = str((track or {}).get("key") or "").strip() if isinstance(track, dict) else ""
        if not key or len(key) > 60 or key in track_keys:
            errors[f"tracks.{index}"] = _l("Each track needs its own key (at most 60 characters).")
            continue
        track_keys.append(key)
        clean_tracks.append({"key": key, "label": str(track.get("label") or key).strip()[:80],
                             "label_en": str(track.get("label_en") or "").strip()[:80]})
    rounds = data.get("rounds")
    clean_rounds = []
    if not isinstance(rounds, list) or not rounds or len(rounds) > MAX_ROUNDS:
        errors["rounds"] = _l("From 1 to %(n)d rounds.", n=MAX_ROUNDS)
        rounds = []
    for index, item in enumerate(rounds):
        where = f"rounds.{index}"
        if not isinstance(item, dict):
            errors[where] = _l("Please correct this round.")
            continue
        kind = item.get("kind", ROUND_KINDS[min(index, 2)])
        if kind not in ROUND_KINDS:
            errors[f"{where}.kind"] = _l("Please choose one of the options.")
        mode = item.get("mode", "live" if kind == "final" else "online")
        if mode not in ROUND_MODES:
            errors[f"{where}.mode"] = _l("Please choose one of the options.")
        round_name = str(item.get("name") or "").strip()
        if not round_name or len(round_name) > 120:
            errors[f"{where}.name"] = _l("Name the round (at most 120 characters).")
        try:
            criteria = validate_criteria(item.get("criteria"))
        except DomainError as error:
            errors.update({f"{where}.{k}": v for k, v in error.details.get("fields", {}).items()})
            criteria = []
        judges, phones = [], set()
        raw_judges = item.get("judges") or []
        if not isinstance(raw_judges, list):
            errors[f"{where}.judges"] = _l("A list of judges.")
            raw_judges = []
        for j, judge in enumerate(raw_judges):
            judge = judge if isinstance(judge, dict) else {"phone": judge}
            try:
                phone = normalise_phone(str(judge.get("phone") or ""))
            except DomainError as error:
                errors[f"{where}.judges.{j}.phone"] = error.message
                continue
            if phone in phones:
                errors[f"{where}.judges.{j}.phone"] = _l("This judge is listed twice.")
                continue
            phones.add(phone)
            judges.append({"phone": phone, "name": str(judge.get("name") or "").strip()[:80],
                           "shadow": bool(judge.get("shadow", False))})
        settings = {k: item[k] for k in ("drop_extremes", "normalize", "leaderboard_mode", "pitch_seconds",
                                        "qa_seconds") if k in item}
        clean_rounds.append({"kind": kind, "mode": mode, "name": round_name, "criteria": criteria,
                             "judges": judges, "settings": settings})
    teams = data.get("teams") or []
    clean_teams = []
    if not isinstance(teams, list) or len(teams) > MAX_TEAMS:
        errors["teams"] = _l("At most %(n)d teams.", n=MAX_TEAMS)
        teams = []
    names = set()
    for index, team in enumerate(teams):
        where = f"teams.{index}"
        if not isinstance(team, dict):
            errors[where] = _l("Please correct this team.")
            continue
        team_name = team_services.clean_line(str(team.get("team_name") or ""))
        if not team_name or len(team_name) > team_services.LIMITS["team_name"]:
            errors[f"{where}.team_name"] = _l("Name the team (at most %(n)d characters).",
                                              n=team_services.LIMITS["team_name"])
        elif team_services.team_name_key(team_name) in names:
            errors[f"{where}.team_name"] = _l("Two teams have the same name.")
        names.add(team_services.team_name_key(team_name))
        track = str(team.get("track") or "").strip()
        if clean_tracks and track not in track_keys:
            errors[f"{where}.track"] = _l("Please choose one of the tracks.")
        try:  # the one member rule of every team (count, names, numbers, one lead)
            members = team_services.validate_members(_setup_members(team.get("members")), minimum=0)
        except DomainError as error:
            errors.update({f"{where}.{k}": v for k, v in error.details.get("fields", {}).items()})
            members = []
        clean_teams.append({"team_name": team_name, "track": track,
                            "project_name": str(team.get("project_name") or team_name).strip()[:120],
                            "project_summary": str(team.get("project_summary") or "").strip()[:2000],
                            "members": members})
    prize = data.get("prize_pool_yuan")
    if prize is not None and (not isinstance(prize, int) or isinstance(prize, bool) or prize < 0):
        errors["prize_pool_yuan"] = _l("A whole number of yuan.")
    if errors:
        raise problems("invalid_setup", _l("The setup has problems; nothing was saved."), errors)
    return {"name": name, "description": str(data.get("description") or "").strip(), "prize_pool_yuan": prize,
            "event_id": data.get("event_id") if isinstance(data.get("event_id"), int) else None,
            "tracks": clean_tracks, "rounds": clean_rounds, "teams": clean_teams}


def create_setup(data, organizer, *, now: datetime) -> tuple[Competition, dict[int, str]]:
    """Create a whole competition in one go: tracks, rounds with their criteria and judges (by phone), and teams
    (accepted applications, placed in the first round). All or nothing: any problem raises invalid_setup with a
    message per field and nothing is saved. Returns the competition and each judge's invitation token by judge
    id. Global organizers (and admins) may do this; the creator then organizes the competition."""
    authorize(organizer, "organizer")
    clean = _clean_setup(data)
    competition = Competition(name=clean["name"], description=clean["description"],
                              prize_pool_yuan=clean["prize_pool_yuan"], event_id=clean["event_id"],
                              tracks=clean["tracks"], applications_open=False, created_at=now)
    db.session.add(competition)
    db.session.flush()
    grant_role(organizer, "organizer", scope_key("competition", competition.id))
    rounds = []
    for position, spec in enumerate(clean["rounds"], start=1):
        round_ = CompetitionRound(competition_id=competition.id, kind=spec["kind"], name=spec["name"],
                                  position=position, mode=spec["mode"], state="draft")
        db.session.add(round_)
        db.session.flush()
        for row in spec["criteria"]:
            round_.criteria.append(Criterion(**row))
        rounds.append((round_, spec))
    db.session.flush()
    for round_, spec in rounds:
        if spec["settings"]:
            configure_round(round_.id, organizer, now=now, **spec["settings"])
    conflicts, first = {}, None
    for index, team in enumerate(clean["teams"]):  # one at a time: each team is checked against those before it
        try:
            team_services.add_team(competition.id, organizer, team, now=now)
        except DomainError as error:
            conflicts.update({f"teams.{index}.{k}": v for k, v in error.details.get("fields", {}).items()})
            first = first or error.message
    if conflicts:
        raise problems("invalid_setup", first, conflicts)
    if rounds:
        add_teams(rounds[0][0].id, organizer, None, now=now)
    tokens = {}
    for round_, spec in rounds:
        for judge in spec["judges"]:
            get_or_create_user(judge["phone"], now=now, name=judge["name"])
            row, token = add_judge(round_.id, organizer, phone=judge["phone"], name=judge["name"],
                                   shadow=judge["shadow"], now=now)
            tokens[row.id] = token
    db.session.flush()
    return competition, tokens
