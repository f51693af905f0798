"""Signals of the accounts: sent by the rules that change who may do what, received by whoever must follow at once.

- `access_changed`: `user_id`. Something that gave this person access was withdrawn or changed: signing out (one
  device or everywhere), a revoked API token, a blocked account, a role removed, a new judging duty (a judge may
  no longer watch the live leaderboard), a registration cancelled or rejected (its person leaves the event's live
  room). Sent inside the transaction that made the change; receivers that act on
  the outside world (open Socket.IO connections) do so after COMMIT.
- `profile_changed`: `user_id`. The person's profile was saved; their other open pages and apps are told after
  COMMIT (app.realtime sends `profile_updated` to their personal room).
- `wechat_bound`: `user_id`, `app_id`, `openid`. A WeChat account was bound to this person for signing in
  (app.accounts.wechat_bindings), inside its transaction: notifications take the official account's openid as
  where WeChat messages reach them, unless they linked another (notifications.receivers).
"""

from blinker import Namespace

_signals = Namespace()

access_changed = _signals.signal("access-changed")
profile_changed = _signals.signal("profile-changed")
wechat_bound = _signals.signal("wechat-bound")
