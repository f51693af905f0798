"""Rules of accounts: one-time codes, sign-in, profiles, roles, API tokens, sessions. No request objects in here.

The rules live in one module per concern (codes, users, roles, tokens, sessions); this module gathers their public
names, so callers keep `from app.accounts import services` / `from app.accounts.services import x`."""

from app.accounts.codes import (
    CODE_CAP_WINDOW,
    CODE_EVENTS_KEPT,
    IssuedCode,
    code_lock_until,
    request_login_code,
    verify_login_code,
)
from app.accounts.roles import (
    announce_access_changed,
    create_users,
    find_user_by_phone,
    grant_role,
    import_users,
    revoke_role,
    set_account_active,
)
from app.accounts.sessions import (
    SESSION_IDLE_LIMIT,
    SESSION_SEEN_RECORDED_EVERY,
    end_sessions,
    end_sessions_of_origin,
    live_pass_origins,
    live_pass_user_ids,
    pass_holders,
    sign_out_everywhere,
    start_session,
    user_for_session,
)
from app.accounts.tokens import (
    TOKEN_PREFIX,
    TOKEN_USE_RECORDED_EVERY,
    hash_token,
    issue_api_token,
    revoke_all_api_tokens,
    revoke_api_token,
    user_and_token_id_for_api_token,
    user_for_api_token,
    user_for_api_token_id,
    users_for_api_tokens,
)
from app.accounts.users import MAX_INTERESTS, PROFILE_FIELDS, get_or_create_user, set_locale, update_profile

__all__ = [
    "CODE_CAP_WINDOW", "CODE_EVENTS_KEPT", "IssuedCode", "code_lock_until", "request_login_code", "verify_login_code",
    "announce_access_changed", "create_users", "find_user_by_phone", "grant_role", "import_users", "revoke_role",
    "set_account_active",
    "SESSION_IDLE_LIMIT", "SESSION_SEEN_RECORDED_EVERY", "end_sessions", "end_sessions_of_origin",
    "live_pass_origins", "live_pass_user_ids", "pass_holders", "sign_out_everywhere", "start_session",
    "user_for_session",
    "TOKEN_PREFIX", "TOKEN_USE_RECORDED_EVERY", "hash_token", "issue_api_token", "revoke_all_api_tokens",
    "revoke_api_token", "user_and_token_id_for_api_token", "user_for_api_token", "user_for_api_token_id",
    "users_for_api_tokens",
    "MAX_INTERESTS", "PROFILE_FIELDS", "get_or_create_user", "set_locale", "update_profile",
]
