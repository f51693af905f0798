"""Accounts: phone sign-in with one-time codes, profiles, roles, API tokens."""
