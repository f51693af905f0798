"""Results of a round: the ranking by the round's aggregation rules (judging/aggregation.py), the leaderboard (live,
or hidden and revealed rank by rank from the bottom up), publishing (scoring closes for good; the teams are told by
judging.signals.results_published), a team's feedback once published, and the organizers' fairness view. A change
of what the leaderboard shows sends judging.signals.leaderboard_changed (announced after COMMIT)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.errors import DomainError, NotFound
from app.extensions import db
from app.locking import lock_round
from judging import aggregation, signals
from judging import teams as team_services
from judging.models import CompetitionRound, RoundTeam, Score, Scorecard
from judging.services.access import (
    applications_by_id,
    authorize_organizer,
    competition_of,
    get_round,
    is_organizer,
    judge_of,
    judges_of,
    recusals_of,
    teams_of,
)
from judging.services.base import audit, iso, round_brief, team_brief
from judging.services.stage import bump_stage


def _specs(round_: CompetitionRound) -> list[aggregation.CriterionSpec]:
    return [aggregation.CriterionSpec(c.id, c.weight, c.min_score, c.max_score, c.position) for c in round_.criteria]


def _cards(round_id: int) -> list[aggregation.Card]:
    rows = db.session.execute(
        sa.select(Scorecard.judge_id, Scorecard.round_team_id, Score.criterion_id, Score.value)
        .join(Score, Score.scorecard_id == Scorecard.id).where(Scorecard.round_id == round_id)).all()
    grouped: dict[tuple[int, int], dict[int, float]] = {}
    for row in rows:
        grouped.setdefault((row.judge_id, row.round_team_id), {})[row.criterion_id] = row.value
    return [aggregation.Card(j, t, s) for (j, t), s in sorted(grouped.items())]


def compute_results(round_: CompetitionRound, *, drop_extremes: bool | None = None,
                    normalize: bool | None = None) -> list[aggregation.TeamResult]:
    """The round's ranking by its aggregation rules (or the ones given, for the fairness view's what-ifs)."""
    rules = aggregation.Rules(drop_extremes=round_.drop_extremes if drop_extremes is None else drop_extremes,
                              normalize=round_.normalize if normalize is None else normalize)
    judges = judges_of(round_.id)
    return aggregation.aggregate(
        _specs(round_), [t.id for t in teams_of(round_.id)], _cards(round_.id), rules=rules,
        shadow_judges={j.id for j in judges if j.is_shadow},
        recusals={(r.judge_id, r.round_team_id) for r in recusals_of(round_.id)})


def results_table(round_: CompetitionRound) -> list[dict]:
    """The ranking with each team's name, track and numbers, best first."""
    results = compute_results(round_)
    teams = {t.id: t for t in teams_of(round_.id)}
    applications = applications_by_id(t.application_id for t in teams.values())
    keys_by_id = {c.id: c.key for c in round_.criteria}
    # The track's name, in both languages (one payload goes to screens in either language): never its key.
    tracks = {t["key"]: t for t in team_services.tracks_of(competition_of(round_))}
    table = []
    for result in results:
        team = teams[result.team_id]
        track = tracks.get(team.track)
        label = track["label"] if track else team.track
        table.append({**team_brief(team, applications.get(team.application_id)), "rank": result.rank,
                      "track_label": label, "track_label_en": (track["label_en"] if track else "") or label,
                      "score": _round(result.score), "raw_mean": _round(result.raw_mean),
                      "judges_counted": result.judges_counted, "tied": result.tied,
                      "criterion_means": {keys_by_id[k]: _round(v) for k, v in result.criterion_means.items()},
                      "advanced": team.advanced_to_round_id is not None})
    return table


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def aggregation_rule_text(round_: CompetitionRound) -> str:
    """The rule of this round in words, shown with every ranking."""
    parts = [str(_l("Weighted mean of the judges' totals (0–100)"))]
    if round_.normalize:
        parts.append(str(_l("each judge's totals normalised (z-scores per judge)")))
    if round_.drop_extremes:
        parts.append(str(_l("highest and lowest total dropped (with 3 or more judges)")))
    parts.append(str(_l("shadow and recused judges not counted")))
    parts.append(str(_l("ties broken by the criteria, heaviest first; still equal: shared rank")))
    return "; ".join(parts) + "."


def leaderboard(round_id: int, viewer, *, now: datetime) -> dict:
    """The leaderboard of a round. Organizers always see it all. Others (the big screen, the public): in "live"
    mode while the round runs, or once published; in "hidden" mode only the ranks revealed so far (from the
    bottom up) until publication. Judges see no scores while the round runs (they would see others' scores)."""
    round_ = get_round(round_id)
    organizer = is_organizer(viewer, round_)
    table = results_table(round_)
    ranked = [row for row in table if row["rank"] is not None]
    if organizer or round_.state == "published":
        visible, hidden_count = table, 0
    elif judge_of(round_.id, viewer) is not None:
        visible, hidden_count = [], len(ranked)
    elif round_.leaderboard_mode == "live":
        visible, hidden_count = table, 0
    else:
        shown = min(round_.revealed_count, len(ranked))
        visible = ranked[len(ranked) - shown:] if shown else []
        hidden_count = len(ranked) - shown
    return {"round": round_brief(round_), "rule": aggregation_rule_text(round_), "rows": visible,
            "hidden_count": hidden_count, "revealed_count": round_.revealed_count,
            "total_ranked": len(ranked), "updated_at": iso(now)}


def judges_not_submitted(round_: CompetitionRound) -> list[dict]:
    """The counting judges (not shadow) who have not yet scored every team they are to score: each team whose
    scoring has begun (open or closed; a live round's team not yet on stage is not expected), minus their
    recusals. [{"id", "name"}], in invitation order."""
    begun = [t.id for t in teams_of(round_.id) if t.scoring_state != "pending"]
    recused = {(r.judge_id, r.round_team_id) for r in recusals_of(round_.id)}
    scored = {(row.judge_id, row.round_team_id) for row in db.session.execute(
        sa.select(Scorecard.judge_id, Scorecard.round_team_id).where(Scorecard.round_id == round_.id))}
    missing = [j for j in judges_of(round_.id) if not j.is_shadow and any(
        (j.id, t) not in scored and (j.id, t) not in recused for t in begun)]
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([j.user_id for j in missing])))}
    return [{"id": j.id, "name": users[j.user_id].display_name if j.user_id in users else ""} for j in missing]


def reveal_next(round_id: int, organizer, *, now: datetime, all_: bool = False,
                confirm: bool = False) -> CompetitionRound:
    """Hidden leaderboard: show one more rank on the big screen (from the last place up), or all of them. While
    counting judges have not submitted, it is refused (judges_missing, 409, naming them and whether scoring is
    still open) unless the organizer confirms: a rank shown too early cannot be taken back from the audience."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    lock_round(round_)
    missing = judges_not_submitted(round_)
    if missing and not confirm:
        names = gettext(", ").join(j["name"] for j in missing)
        scoring_open = round_.state == "open"
        message = (gettext("Not submitted yet by %(n)d judge(s): %(names)s; scoring is still open. Reveal anyway?",
                           n=len(missing), names=names) if scoring_open else
                   gettext("Not submitted yet by %(n)d judge(s): %(names)s. Reveal anyway?", n=len(missing),
                           names=names))
        raise DomainError("judges_missing", message, status=409, missing_judges=missing,
                          scoring_open=scoring_open)
    total = sum(1 for r in compute_results(round_) if r.rank is not None)
    round_.revealed_count = total if all_ else min(total, round_.revealed_count + 1)
    audit(round_.id, organizer, "revealed", now=now, count=round_.revealed_count)
    bump_stage(round_, now=now)
    signals.leaderboard_changed.send(None, round_id=round_.id)
    return round_


def hide_leaderboard(round_id: int, organizer, *, now: datetime) -> CompetitionRound:
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    round_.revealed_count = 0
    audit(round_.id, organizer, "hidden", now=now)
    signals.leaderboard_changed.send(None, round_id=round_.id)
    return round_


def publish_results(round_id: int, organizer, *, now: datetime) -> CompetitionRound:
    """Publish a round's results: scoring closes for good, the ranking is final (by the round's rules) and the teams
    are told (results_published). Publishing twice changes nothing."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    lock_round(round_)
    if round_.state == "published":
        return round_
    db.session.execute(sa.update(RoundTeam).where(RoundTeam.round_id == round_.id,
                                                  RoundTeam.scoring_state != "closed")
                       .values(scoring_state="closed", closed_at=now).execution_options(synchronize_session=False))
    round_.state = "published"
    round_.published_at = now
    round_.stage_phase = "idle"
    round_.current_team_id = None
    table = results_table(round_)
    applications = applications_by_id(row["application_id"] for row in table)
    audit(round_.id, organizer, "published", now=now, rule=aggregation_rule_text(round_),
          ranking=[[row["application_id"], row["rank"], row["score"]] for row in table])
    bump_stage(round_, now=now)
    signals.leaderboard_changed.send(None, round_id=round_.id)
    signals.results_published.send(
        None, competition_id=round_.competition_id, round_id=round_.id, round_name=round_.name,
        teams=[{"application_id": row["application_id"], "rank": row["rank"], "score": row["score"],
                "member_user_ids": team_services.member_user_ids(applications[row["application_id"]])}
               for row in table])
    db.session.flush()
    return round_


def published_rankings(competition_id: int) -> list[tuple[CompetitionRound, list[dict]]]:
    """What anyone may see of a competition: for each round whose results are published (in the rounds' order),
    its ranked teams best first, as {"rank", "tied", "team_name", "track_label", "track_label_en", "advanced"}.
    Nothing else leaves here: no score, no judge, no comment, no member, and nothing of a round not published.
    An unknown competition, or one whose event is still a draft (not announced: its page is not found either):
    NotFound."""
    competition = team_services.get_competition(competition_id)
    event = team_services.competition_event(competition)
    if event is not None and event.status == "draft":
        raise NotFound("competition_not_found", _l("This competition does not exist."))
    published = []
    for round_ in competition.rounds:
        if round_.state != "published":
            continue
        rows = [{"rank": row["rank"], "tied": row["tied"], "team_name": row["team_name"],
                 "track_label": row["track_label"], "track_label_en": row["track_label_en"],
                 "advanced": row["advanced"]}
                for row in results_table(round_) if row["rank"] is not None]
        published.append((round_, rows))
    return published


def team_feedback(round_id: int, application_id: int, user) -> dict:
    """What a team sees once the round is published: its rank and score, and the judges' comments and weak-point
    tags (without the judges' names). Members of the team and organizers only."""
    round_ = get_round(round_id)
    application = team_services.get_application(application_id)
    team_services.authorize_view(user, application)
    if round_.state != "published":
        raise DomainError("results_not_published", _l("The results of this round are not published yet."),
                          status=409)
    team = db.session.scalars(sa.select(RoundTeam).where(RoundTeam.round_id == round_.id,
                                                         RoundTeam.application_id == application.id)).first()
    if team is None:
        raise NotFound("team_not_in_round", _l("This team is not in this round."))
    row = next(r for r in results_table(round_) if r["id"] == team.id)
    shadow = {j.id for j in judges_of(round_.id) if j.is_shadow}
    recused = {r.judge_id for r in recusals_of(round_.id) if r.round_team_id == team.id}
    cards = db.session.scalars(sa.select(Scorecard).where(Scorecard.round_team_id == team.id)
                               .order_by(Scorecard.id)).all()
    counted = [c for c in cards if c.judge_id not in shadow and c.judge_id not in recused]
    tags: dict[str, int] = {}
    for card in counted:
        for tag in card.tags or []:
            tags[tag] = tags.get(tag, 0) + 1
    return {"rank": row["rank"], "score": row["score"], "criterion_means": row["criterion_means"],
            "comments": [c.comment for c in counted if c.comment], "tags": tags, "advanced": row["advanced"]}


def team_results(round_id: int, application_id: int, user) -> dict:
    """The page a team sees once the round's results are published: team_feedback plus the round, the team's
    name, the criteria (with their weights) and the rule the ranking used. Before publication: results_not_published
    (409); anyone but the team's members and the organizers: 404."""
    feedback = team_feedback(round_id, application_id, user)
    round_ = get_round(round_id)
    application = team_services.get_application(application_id)
    ranked = sum(1 for r in compute_results(round_) if r.rank is not None)
    return {**feedback, "round": round_, "application": application, "criteria": list(round_.criteria),
            "rule": aggregation_rule_text(round_), "ranked": ranked,
            "tags_sorted": sorted(feedback["tags"].items(), key=lambda item: (-item[1], item[0]))}


def fairness_view(round_id: int, organizer, *, with_totals: bool = False) -> dict:
    """For organizers: each judge's mean and spread, their agreement with the rest of the panel, and which team
    orderings change with or without normalisation (and with or without dropping the extremes). The scorecards are
    read once and ranked once per rule (the round's own rule is one of the four). `with_totals` adds "totals":
    (judge id, team id) -> the judge's total for the team (0..100), recused pairs left out."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    judges = judges_of(round_.id)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([j.user_id for j in judges])))}
    recusals = {(r.judge_id, r.round_team_id) for r in recusals_of(round_.id)}
    shadow = {j.id for j in judges if j.is_shadow}
    specs, cards = _specs(round_), _cards(round_.id)
    rows = aggregation.fairness(specs, cards, judge_ids=[j.id for j in judges], shadow_judges=shadow,
                                recusals=recusals)
    teams = {t.id: t for t in teams_of(round_.id)}
    applications = applications_by_id(t.application_id for t in teams.values())

    def name(team_id):
        application = applications.get(teams[team_id].application_id)
        return application.team_name if application else str(team_id)

    variants = {}
    for label, normalize, drop in RULE_VARIANTS:
        variants[label] = aggregation.aggregate(
            specs, list(teams), cards, rules=aggregation.Rules(drop_extremes=drop, normalize=normalize),
            shadow_judges=shadow, recusals=recusals)
    current = variants[current_variant(round_)]
    changes = {}
    for label, results in variants.items():
        pairs = aggregation.orderings_that_change(current, results)
        changes[label] = [{"above": name(a), "below": name(b)} for a, b in pairs]
    by_judge = {j.id: j for j in judges}
    view = {
        "round": round_brief(round_), "rule": aggregation_rule_text(round_),
        "judges": [{"judge_id": r.judge_id, "name": users[by_judge[r.judge_id].user_id].display_name,
                    "is_shadow": by_judge[r.judge_id].is_shadow, "teams_scored": r.teams_scored,
                    "mean": _round(r.mean), "spread": _round(r.spread),
                    "agreement": None if r.agreement is None else round(r.agreement, 3),
                    "mean_offset": _round(r.mean_offset)} for r in rows],
        "rankings": {label: [{"team": name(r.team_id), "rank": r.rank, "score": _round(r.score)} for r in results]
                     for label, results in variants.items()},
        "changes_against_current": changes,
    }
    if with_totals:
        view["totals"] = {(c.judge_id, c.team_id): aggregation.weighted_total(specs, c.scores) for c in cards
                          if (c.judge_id, c.team_id) not in recusals}
    return view


# The four rankings of the fairness view: (label, normalise, drop the extremes).
RULE_VARIANTS = (("plain", False, False), ("normalized", True, False), ("drop_extremes", False, True),
                 ("both", True, True))


def current_variant(round_: CompetitionRound) -> str:
    """Which of the four rankings is the round's own rule."""
    return next(label for label, normalize, drop in RULE_VARIANTS
                if (normalize, drop) == (bool(round_.normalize), bool(round_.drop_extremes)))
