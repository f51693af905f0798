"""What the live room tells others, inside the transaction that decided it (live/realtime.py announces it after
COMMIT)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# question_changed(sender, event_id=, question_id=): asked, voted on, moderated
question_changed = _signals.signal("live.question_changed")

# poll_changed(sender, event_id=, poll_id=): prepared, opened, closed, results shown or hidden, answered
poll_changed = _signals.signal("live.poll_changed")

# audience_vote_changed(sender, round_id=): opened, closed, a rank revealed, a vote cast
audience_vote_changed = _signals.signal("live.audience_vote_changed")

# answered_questions_sent(sender, event_id=, speaker_user_id=, questions=[{"text", "votes", "asked_at" (aware UTC),
# "author" (None when asked anonymously: anonymous stays anonymous to the speaker)}], sent_by=): the organizers send
# the answered questions to the event's speaker; notifications delivers them (inbox, and the person's channels).
answered_questions_sent = _signals.signal("live.answered_questions_sent")
