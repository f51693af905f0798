"""Inbox, channels and delivery of messages (with the notifications issue)."""
