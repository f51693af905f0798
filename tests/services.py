"""Finding the real services for tests: PostgreSQL, Redis, Chromium. Absent: skip with a reason; on CI: fail."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Debian's Chromium, or the one CHROMIUM_PATH names (then only that one: a test can point it at a missing file).
CHROMIUM = os.environ.get("CHROMIUM_PATH") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def service_missing(what: str, why: str, *, hint: str = "start it with ../shared/services.sh to run this test") -> None:
    """Skip on a newcomer's machine; fail on CI, where every service must be there."""
    message = f"{what} is not available ({why})"
    if ON_CI:
        pytest.fail(message + " — CI requires it; see .ci/run", pytrace=False)
    pytest.skip(f"{message}; {hint}")


def postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return None
    except Exception as error:  # any failure means: not usable here
        return str(error).splitlines()[0] if str(error) else type(error).__name__


def create_postgres_database() -> str:
    import psycopg

    name = f"beiyang_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as error:
        return str(error) or type(error).__name__


def chromium_available() -> str | None:
    """Why browser tests cannot run here, or None. Checked before any fixture of a `browser` test is set up
    (tests/conftest.py), so a missing browser skips (fails on CI) instead of erroring when Playwright launches it."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} not found (apt-get install chromium fonts-wqy-microhei)"
    try:
        import playwright.sync_api  # noqa: F401
        import pytest_playwright  # noqa: F401
    except ImportError:
        return "playwright or pytest-playwright is not installed (make install-dev)"
    return None
