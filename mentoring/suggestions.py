"""From judging to mentoring: the weak points judges tag on a competition team (fundraising, go-to-market, tech, team,
legal) become mentor suggestions, mentors whose expertise covers them.

The interface, on mentoring's side: `suggest_mentors({team application id: [weak-point tags]})` answers, for each
team, the mentors who cover its weak points, best first. Where the tags come from is a provider,
`fn(for_teams: bool) -> {application id: [tags, most often tagged first]}` (`for_teams`: only what the team itself may
see); `judging_weak_points` below reads the judging tables (judges' scorecards) and is registered by mentoring's
init_app; organizers can also ask for any tags by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize, has_role
from app.errors import DomainError
from app.extensions import db
from judging.models import WEAK_POINT_TAGS, CompetitionRound, Judge, Recusal, RoundTeam, Scorecard
from judging.teams import applications_of_user
from mentoring.models import LIVE_MATCH_STATUSES, MentoringCycle, MentorMatch, MentorProfile
from mentoring.services import list_mentors, normalise_tag

# A weak point and the mentor expertise that covers it (the first is the closest).
WEAK_POINT_EXPERTISE = {
    "fundraising": ("fundraising", "finance"),
    "go-to-market": ("go-to-market", "marketing", "international"),
    "tech": ("engineering", "ai-infrastructure", "data", "product"),
    "team": ("hiring", "operations"),
    "legal": ("legal",),
}
WEAK_POINT_LABELS = {
    "fundraising": _l("Fundraising"),
    "go-to-market": _l("Go-to-market"),
    "tech": _l("Technology"),
    "team": _l("Team"),
    "legal": _l("Legal"),
}
MAX_TEAMS = 500
DEFAULT_LIMIT = 3

_providers: list = []


def register_weak_points_provider(provider) -> None:
    """provider(for_teams=bool) -> {team application id: [weak-point tags, most often tagged first]}."""
    if provider not in _providers:
        _providers.append(provider)


def judging_weak_points(*, for_teams: bool) -> dict[int, list[str]]:
    """Weak points judges tagged on their scorecards, per team application, the most often tagged first (ties in
    the judging package's order). Shadow judges and recused judges do not count. For the teams themselves, only
    rounds whose results are published (before that, judges' notes are for organizers)."""
    recused = sa.select(Recusal.id).where(Recusal.judge_id == Scorecard.judge_id,
                                          Recusal.round_team_id == Scorecard.round_team_id).exists()
    query = (sa.select(RoundTeam.application_id, Scorecard.tags)
             .join(RoundTeam, RoundTeam.id == Scorecard.round_team_id)
             .join(Judge, Judge.id == Scorecard.judge_id)
             .where(Judge.is_shadow.is_(False), ~recused))
    if for_teams:
        query = query.join(CompetitionRound, CompetitionRound.id == Scorecard.round_id).where(
            CompetitionRound.state == "published")
    counts: dict[int, dict[str, int]] = {}
    for application_id, tags in db.session.execute(query):
        for tag in tags or ():
            counts.setdefault(application_id, {})
            counts[application_id][tag] = counts[application_id].get(tag, 0) + 1
    order = {tag: i for i, tag in enumerate(WEAK_POINT_TAGS)}
    return {team: sorted(tags, key=lambda t: (-tags[t], order.get(t, len(order)), t)) for team, tags in counts.items()}


def weak_points_from_judging(*, for_teams: bool = False) -> dict[int, list[str]]:
    """Every team's weak points as tagged by judges (empty when no provider is registered)."""
    merged: dict[int, list[str]] = {}
    for provider in _providers:
        for team_id, tags in (provider(for_teams=for_teams) or {}).items():
            merged.setdefault(int(team_id), [])
            merged[int(team_id)] += [t for t in tags if t not in merged[int(team_id)]]
    return merged


@dataclass
class Suggestion:
    mentor_id: int
    name: str
    company: str
    covers: list[str]  # the team's weak points this mentor covers, in the team's order
    expertise: list[str]  # the mentor's expertise that covers them
    score: int
    room: int  # places left in the current cycle (the profile's capacity when no cycle is running)


@dataclass
class TeamSuggestions:
    team_id: int
    weak_points: list[str]
    mentors: list[Suggestion] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)


def clean_weak_points(weak_points: dict) -> dict[int, list[str]]:
    """{id: [tags]} with ids as integers and tags as codes ("go_to_market" is "go-to-market"); a clear error for
    anything else."""
    if not isinstance(weak_points, dict) or len(weak_points) > MAX_TEAMS:
        raise _invalid(_l("Give at most %(n)d teams, each with its weak points.", n=MAX_TEAMS))
    cleaned: dict[int, list[str]] = {}
    for key, tags in weak_points.items():
        try:
            team_id = int(key)
        except (TypeError, ValueError):
            raise _invalid(_l("Unknown team: %(value)s.", value=str(key)[:40])) from None
        if isinstance(tags, str) or not isinstance(tags, list | tuple):
            raise _invalid(_l("Give the weak points of each team as a list."))
        codes = list(dict.fromkeys(normalise_tag(t) for t in tags if normalise_tag(t)))
        unknown = [c for c in codes if c not in WEAK_POINT_EXPERTISE]
        if unknown:
            raise _invalid(_l("Unknown weak point: %(value)s.", value=unknown[0][:40]))
        cleaned[team_id] = codes
    return cleaned


def _invalid(message) -> DomainError:
    return DomainError("invalid_weak_points", message)


def _room_left() -> dict[int, int]:
    """Each mentor's places left in the latest published cycle (their capacity minus live matches)."""
    cycle_id = db.session.scalar(sa.select(MentoringCycle.id).where(MentoringCycle.status == "published")
                                 .order_by(MentoringCycle.id.desc()).limit(1))
    taken: dict[int, int] = {}
    if cycle_id is not None:
        for mentor_id, count in db.session.execute(
                sa.select(MentorMatch.mentor_id, sa.func.count()).where(
                    MentorMatch.cycle_id == cycle_id, MentorMatch.status.in_(LIVE_MATCH_STATUSES))
                .group_by(MentorMatch.mentor_id)):
            taken[mentor_id] = count
    return {p.user_id: max(0, p.capacity - taken.get(p.user_id, 0))
            for p in db.session.scalars(sa.select(MentorProfile))}


def suggest_mentors(weak_points: dict, *, limit: int = DEFAULT_LIMIT) -> list[TeamSuggestions]:
    """For each team, up to `limit` mentors whose expertise covers its weak points: most weak points covered first
    (the team's first weak point counts most), then the closest expertise, then most room left, then name."""
    cleaned = clean_weak_points(weak_points)
    mentors = list_mentors()
    room = _room_left()
    answers = []
    for team_id, tags in cleaned.items():
        weights = {tag: len(tags) - i for i, tag in enumerate(tags)}
        candidates = []
        for profile in mentors:
            expertise = set(profile.expertise)
            covers, matched, closeness = [], [], 0
            for tag in tags:
                hits = [e for e in WEAK_POINT_EXPERTISE[tag] if e in expertise]
                if hits:
                    covers.append(tag)
                    matched += [h for h in hits if h not in matched]
                    closeness += WEAK_POINT_EXPERTISE[tag].index(hits[0]) == 0
            if not covers:
                continue
            score = 10 * sum(weights[t] for t in covers) + closeness
            candidates.append(Suggestion(mentor_id=profile.user_id, name=profile.user.display_name,
                                         company=profile.user.company or "", covers=covers, expertise=matched,
                                         score=score, room=room.get(profile.user_id, 0)))
        candidates.sort(key=lambda s: (-s.score, -s.room, s.name, s.mentor_id))
        chosen = candidates[:limit]
        covered = {t for s in candidates for t in s.covers}
        answers.append(TeamSuggestions(team_id=team_id, weak_points=tags, mentors=chosen,
                                       uncovered=[t for t in tags if t not in covered]))
    return answers


def suggestions_for_organizers(actor, weak_points: dict | None = None, *, limit: int = DEFAULT_LIMIT):
    """Organizers: suggestions for the given weak points, or for every team judges tagged."""
    authorize(actor, "organizer")
    return suggest_mentors(weak_points if weak_points is not None else weak_points_from_judging(), limit=limit)


def suggestions_for_member(user, *, limit: int = DEFAULT_LIMIT) -> list[TeamSuggestions]:
    """A team member: suggestions for their own teams' weak points only (nobody sees another team's)."""
    authorize(user, "resident")
    mine = {a.id for a in applications_of_user(user)}
    tagged = weak_points_from_judging(for_teams=True)
    return suggest_mentors({team: tags for team, tags in tagged.items() if team in mine and tags}, limit=limit)


def can_see_all(user) -> bool:
    return has_role(user, "organizer")
