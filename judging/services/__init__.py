"""Rules of judging, one module per concern (as pretix's base/services/):

- `access`: reading a round, its teams, judges and recusals (once per snapshot), and who may do what: organizers,
  judges, and the holders of a judge pass (`PassHolder`, `judging_actor`);
- `setup`: a round's criteria (validated, replaced while the round is a draft) and a whole competition in one go;
- `invitations`: judges, their one-time invitation links (sent by SMS to their own phone) and the judge passes
  those links give;
- `rounds`: teams in a round, a round's settings and state (open, close, a team's scoring closed or reopened), and
  advancing the best teams to the next round;
- `stage`: the live stage (the team on stage, its phase and timers);
- `scoring`: recusals, scores (submitted, revised, replayed), a judge's progress, the audit trail;
- `results`: rankings, the leaderboard (live, hidden, revealed), publishing, a team's feedback, the fairness view;
- `base`: what they share (a refusal with a message per field, the organizers' audit row, times, the brief shape
  of a round and of a team).
Payloads of pages and screens (a judge's round, the console, the stage, "my rounds") are judging/presenters.py.

Services take plain arguments, the acting user and `now`; they flush, callers commit once. What must never be wrong
is decided by the database, on SQLite and PostgreSQL alike, under the locks of app/locking.py:
- a score is written only while its team's scoring is open (app.locking.hold_team_for_scoring), so closing a team's
  scoring waits for a submission in flight, and a submission that comes after the close finds it closed;
- a submission claims its client-chosen `submission_id` (unique per judge) with INSERT ... ON CONFLICT DO NOTHING:
  a retry, or a retry racing the original, gets the first answer and nothing is counted twice;
- a judge's scorecard is one row per judge x team (a unique constraint); a change names the revision it was made
  from and is refused when that revision is no longer the latest (stale_revision);
- an invitation link is consumed by one conditional UPDATE (it works once, before it expires);
- a round's state, stage and criteria change one at a time (app.locking.lock_round).
What the live screens show is announced through judging.signals (stage_changed, scores_changed,
leaderboard_changed), which judging/realtime.py hears and sends after COMMIT.

Callers outside judging use `from judging import services; services.submit_score(...)`: this package re-exports
the public names of its modules. Inside judging, code imports from the concern's module.
"""

from __future__ import annotations

from judging.services.access import (
    JUDGE_PASS_VALID_FOR,
    PassHolder,
    applications_by_id,
    authorize_organizer,
    competition_of,
    get_round,
    is_organizer,
    judge_of,
    judge_pass_scope,
    judges_of,
    judging_actor,
    one_snapshot,
    pass_origin,
    recusals_of,
    require_judge,
    round_team,
    teams_of,
)
from judging.services.base import (
    REASON_MAX,
    STEP_TOLERANCE,
    as_number,
    audit,
    iso,
    on_step,
    problems,
    round_brief,
    team_brief,
)
from judging.services.invitations import (
    INVITE_VALID_FOR,
    MAX_JUDGES,
    add_judge,
    invitation_status,
    invite_path,
    judge_by_invitation,
    redeem_invitation,
    reissue_invitation,
)
from judging.services.results import (
    aggregation_rule_text,
    compute_results,
    current_variant,
    fairness_view,
    hide_leaderboard,
    leaderboard,
    publish_results,
    published_rankings,
    results_table,
    reveal_next,
    team_feedback,
    team_results,
)
from judging.services.rounds import (
    add_teams,
    advance_teams,
    close_round,
    close_team_scoring,
    configure_round,
    open_round,
    remove_team,
    reopen_team_scoring,
)
from judging.services.scoring import (
    COMMENT_MAX,
    SUBMISSION_ID_PATTERN,
    ScoreOutcome,
    audit_log,
    card_values,
    declare_recusal,
    is_recused,
    judge_progress,
    own_scorecards,
    score_history,
    submit_score,
    withdraw_recusal,
)
from judging.services.setup import (
    CRITERION_KEY_PATTERN,
    MAX_CRITERIA,
    MAX_ROUNDS,
    MAX_TEAMS,
    create_setup,
    set_criteria,
    validate_criteria,
)
from judging.services.stage import (
    bump_stage,
    current_phase,
    set_stage,
    stage_timeline,
)

__all__ = [
    "COMMENT_MAX",
    "CRITERION_KEY_PATTERN",
    "INVITE_VALID_FOR",
    "JUDGE_PASS_VALID_FOR",
    "MAX_CRITERIA",
    "MAX_JUDGES",
    "MAX_ROUNDS",
    "MAX_TEAMS",
    "PassHolder",
    "REASON_MAX",
    "STEP_TOLERANCE",
    "SUBMISSION_ID_PATTERN",
    "ScoreOutcome",
    "add_judge",
    "add_teams",
    "advance_teams",
    "aggregation_rule_text",
    "applications_by_id",
    "as_number",
    "audit",
    "audit_log",
    "authorize_organizer",
    "bump_stage",
    "card_values",
    "close_round",
    "close_team_scoring",
    "competition_of",
    "compute_results",
    "configure_round",
    "create_setup",
    "current_phase",
    "declare_recusal",
    "current_variant",
    "fairness_view",
    "get_round",
    "hide_leaderboard",
    "invitation_status",
    "invite_path",
    "is_organizer",
    "is_recused",
    "iso",
    "judge_by_invitation",
    "judge_of",
    "judge_pass_scope",
    "judge_progress",
    "judges_of",
    "judging_actor",
    "leaderboard",
    "on_step",
    "one_snapshot",
    "open_round",
    "own_scorecards",
    "pass_origin",
    "problems",
    "publish_results",
    "published_rankings",
    "recusals_of",
    "redeem_invitation",
    "reissue_invitation",
    "remove_team",
    "reopen_team_scoring",
    "require_judge",
    "results_table",
    "reveal_next",
    "round_brief",
    "round_team",
    "score_history",
    "set_criteria",
    "set_stage",
    "stage_timeline",
    "submit_score",
    "team_brief",
    "team_feedback",
    "team_results",
    "teams_of",
    "validate_criteria",
    "withdraw_recusal",
]
