"""Tickets, scanning, admission (with the check-in issue)."""
