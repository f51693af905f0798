"""Real-browser tests: Debian's Chromium driven by Playwright, at a phone's size, against a live server.

Every test in this folder is marked `browser`. Without Chromium or Playwright they skip with a reason on a
newcomer's machine and fail under CI=true (tests/conftest.py checks before any fixture is set up). Run them with:

    .venv/bin/python -m pytest tests/e2e -q
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services

HERE = Path(__file__).resolve().parent
PHONE_VIEWPORT = {"width": 375, "height": 812}


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _in_this_folder(item):
            item.add_marker(pytest.mark.browser)


# ---- Playwright: Debian's Chromium, a phone-sized context ----------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": services.CHROMIUM,
        "args": services.CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE_VIEWPORT, "is_mobile": True, "has_touch": True,
            "locale": "zh-CN"}


# ---- the application, served over real HTTP -------------------------------------------------------------------

@pytest.fixture
def live_server(app) -> Iterator[str]:
    """Serve the test's `app` (same database, cleaned by its fixture afterwards) on a free local port.

    Requests run in the server's threads, each with its own application context and database session; the
    test keeps the `app` fixture's context for factories and for reading the SMS outbox."""
    from werkzeug.serving import make_server

    # Alembic's fileConfig (migrations/env.py, run once per session by `database_url`) disables the loggers that
    # existed then, "app.errors" among them: without this, a 500 in the server leaves no traceback in the report.
    logging.getLogger("app.errors").disabled = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
