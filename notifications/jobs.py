"""The worker's jobs as the modules that write the work start them (after their commit), by name: writing (send the
messages just written), announcements (fan out, send a chunk) and receivers (post the robots' alerts).

notifications.tasks defines the jobs and registers them here when it is imported (notifications.init_app imports
it), so the dependency goes one way: tasks imports the modules whose work it runs, and they never import tasks."""

from __future__ import annotations

from collections.abc import Callable

_jobs: dict[str, Callable] = {}


def register(name: str, start: Callable) -> None:
    _jobs[name] = start


def start(name: str, *args, **kwargs):
    """Start the job `name` (a huey task: queued, or run at once when huey is immediate)."""
    try:
        job = _jobs[name]
    except KeyError:
        raise RuntimeError(f"notification job {name!r} is not registered: notifications.tasks was not imported "
                           "(notifications.init_app imports it)") from None
    return job(*args, **kwargs)
