"""Signals of the accounts: sent by the rules that change who may do what, received by whoever must follow at once.

- `access_changed`: `user_id`. Something that gave this person access was withdrawn or changed: signing out (one
  device or everywhere), a revoked API token, a blocked account, a role removed, a new judging duty (a judge may
  no longer watch the live leaderboard). Sent inside the transaction that made the change; receivers that act on
  the outside world (open Socket.IO connections) do so after COMMIT.
- `profile_changed`: `user_id`. The person's profile was saved; their other open pages and apps are told after
  COMMIT (app.realtime sends `profile_updated` to their personal room).
"""

from blinker import Namespace

_signals = Namespace()

access_changed = _signals.signal("access-changed")
profile_changed = _signals.signal("profile-changed")
