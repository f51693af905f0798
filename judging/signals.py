"""Signals of judging, for whoever must hear them (notifications subscribes; judging imports nobody). Services send
them inside the transaction, with ids and plain values, so a subscriber's rows commit or fail with the change.

- `team_application_submitted`, `team_application_withdrawn`, `team_application_decided` (judging/teams.py):
  `application_id`, `competition_id`, `event_id` (the competition's event, or None), `user_id` (who acted: the
  member, or the organizer) and `member_user_ids` (accounts of the team's members: tell each of them);
  `team_application_decided` adds `status` ("accepted" | "declined"), `previous_status` and `note` (the organizers'
  note, shown to the team); `team_application_withdrawn` adds `previous_status`.
- `judge_invited`: `competition_id`, `round_id`, `judge_id`, `user_id` (the judge), `invite_path` (the
  invitation link, relative to the site: /judging/invite/<token>; for the judge's own inbox only: it gives one
  device a judge pass, never a sign-in; the SMS with it is sent by judging itself), `expires_at` (aware UTC),
  `is_shadow`.
- `results_published`: `competition_id`, `round_id`, `round_name`, `teams`: [{"application_id", "rank" (None
  when unranked), "score", "member_user_ids"}], best first.
- `team_advanced`: `competition_id`, `round_id` (from), `to_round_id`, `to_round_name`, `application_id`,
  `member_user_ids`, `how` ("top_n" | "manual").

What the live screens show changed (judging/realtime.py listens, connected at app start, and announces them after
COMMIT; nothing of a rolled-back transaction). Each carries `round_id` alone:
- `stage_changed`: the stage of a round moved (team on stage, phase, its version), or a team's scoring state, a
  recusal or the round's state changed: judges' phones, the console and the leaderboard.
- `scores_changed`: a judge's scores of a round changed: the console and the leaderboard.
- `judges_changed`: what the console shows of a round's judges changed without a score changing (a judge opened
  their invitation, an invitation was sent again): the console.
- `leaderboard_changed`: what the leaderboard shows changed without a score changing (a rank revealed, the board
  hidden again, results published): the console and the leaderboard.

For the round's export (judging/views.py), sent with the round as sender:
- `results_exporting`: `workbook` (openpyxl, app.spreadsheets): packages above judging add their own results of
  the round as sheets of their own (live: the people's choice), without judging importing them.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

judge_invited = _signals.signal("judge-invited")
judges_changed = _signals.signal("judges-changed")
leaderboard_changed = _signals.signal("leaderboard-changed")
results_exporting = _signals.signal("results-exporting")
results_published = _signals.signal("results-published")
scores_changed = _signals.signal("scores-changed")
stage_changed = _signals.signal("stage-changed")
team_advanced = _signals.signal("team-advanced")
team_application_decided = _signals.signal("team-application-decided")
team_application_submitted = _signals.signal("team-application-submitted")
team_application_withdrawn = _signals.signal("team-application-withdrawn")
