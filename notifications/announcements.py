"""Organizers' announcements to segments of residents (fan-out in resumable chunks)."""


def resume_unfinished_announcements() -> int:
    return 0


def resume_unfinished_announcements_now() -> int:
    return 0
