"""Shared fixtures: an application on a migrated database (SQLite by default, PostgreSQL with
TEST_DATABASE=postgres), a client, factories, and sign-in helpers."""

from __future__ import annotations

import contextvars
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app import create_app
from app.config import TestingConfig
from app.db_types import utcnow
from app.extensions import db
from tests import services

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")


# ---- the wall clock ------------------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--wall-clock", default=os.environ.get("TEST_WALL_CLOCK") or None, metavar="ISO",
        help="run the session with this process's wall clock moved to ISO (UTC unless an offset is given; it keeps "
             "ticking), e.g. --wall-clock=2028-02-29T16:30 (00:30 in Shanghai): no test may depend on today's date. "
             "Also TEST_WALL_CLOCK. Subprocesses and Chromium keep the real clock.")


def pytest_configure(config: pytest.Config) -> None:
    when = config.getoption("--wall-clock")
    if when:
        import time_machine

        moment = datetime.fromisoformat(when)
        traveller = time_machine.travel(moment if moment.tzinfo else moment.replace(tzinfo=UTC), tick=True)
        traveller.start()
        config.stash[_WALL_CLOCK] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_WALL_CLOCK, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    when = config.getoption("--wall-clock")
    return f"wall clock moved to {when} (time-machine)" if when else None


_WALL_CLOCK = pytest.StashKey()


# ---- browser tests -------------------------------------------------------------------------------------------

PLAYWRIGHT_FIXTURES = {"playwright", "browser_type", "browser", "context", "page", "new_context"}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that drives Chromium is a browser test, marked or not (so it skips like the others)."""
    for item in items:
        if PLAYWRIGHT_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture is set up (pytest-playwright's session-wide `browser` launches Chromium before a test's
    own fixtures run): without Chromium or Playwright, a browser test skips with the reason, or fails on CI."""
    if item.get_closest_marker("browser"):
        problem = services.chromium_available()
        if not problem and not item.config.pluginmanager.hasplugin("playwright"):
            problem = "the pytest-playwright plugin is not loaded (make install-dev; not -p no:playwright)"
        if problem:
            services.service_missing("Chromium", problem, hint="browser tests run where it is installed")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per test run, migrated once with Alembic (the same migrations production runs)."""
    if TEST_DATABASE == "postgres":
        problem = services.postgres_available()
        if problem:
            services.service_missing("PostgreSQL", problem)
        url = services.create_postgres_database().replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate_database(url)
    yield url
    if TEST_DATABASE == "postgres":
        services.drop_postgres_database(url.replace("postgresql+psycopg://", "postgresql://", 1))


def migrate_database(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def make_config(url: str, **overrides) -> TestingConfig:
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.DEMO_MODE = True
    config.RATELIMIT_STORAGE_URI = "memory://"
    config.REDIS_URL = None
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def app_config(database_url):
    """Override settings per test before the app is built: `app_config.OTP_MAX_ATTEMPTS = 2`."""
    return make_config(database_url)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        _rechecks_finish()
        empty_all_tables()
        db.engine.dispose()


def _rechecks_finish() -> None:
    """Open connections are rechecked in a background thread after an access change; let them finish before the
    tables are emptied (a TRUNCATE racing a reader deadlocks on PostgreSQL)."""
    from app.realtime import wait_until_rechecked

    assert wait_until_rechecked(10)


def empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, with its own app context, `g` and database session, as in
    production; without this, requests would share the test's app context (and Flask-Login's cached user)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- factories -----------------------------------------------------------------------------------------------

_phone_counter = iter(range(10_000_000))


def next_phone() -> str:
    return f"+86139{next(_phone_counter):08d}"


@pytest.fixture
def create_resident(app):
    from app.accounts.models import User
    from app.accounts.services import grant_role

    def factory(*, phone: str | None = None, name: str = "测试居民", company: str = "北杨测试公司",
                persona: str = "founder", profile: bool = True, roles: tuple = (), locale: str | None = None):
        user = User(phone=phone or next_phone(), name=name if profile else "", company=company, persona=persona,
                    interests=["大模型应用"], locale=locale, profile_completed_at=utcnow() if profile else None)
        db.session.add(user)
        for role in roles:
            grant_role(user, *role) if isinstance(role, tuple) else grant_role(user, role)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def create_event(app):
    from events.models import Event

    def factory(*, title: str = "技术沙龙：测试", kind: str = "salon", status: str = "published",
                starts_in: timedelta = timedelta(days=2), hours: float = 2, capacity: int | None = 50, **fields):
        starts_at = utcnow() + starts_in
        event = Event(title=title, kind=kind, status=status, starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=hours), capacity=capacity, venue="北杨小镇", **fields)
        db.session.add(event)
        db.session.commit()
        return event

    return factory


@pytest.fixture
def wechat(app):
    """A local stand-in for WeChat's servers, set up as this app's official account (tests/wechat_standin.py)."""
    from tests.wechat_standin import WeChatStandIn

    standin = WeChatStandIn()
    standin.configure(app)
    yield standin
    standin.close()


# ---- signing in ----------------------------------------------------------------------------------------------

def new_session_token(user) -> str:
    """A live sign-in of this user (a session row, as after the phone's code); its token is what cookies hold."""
    from app.accounts.services import start_session

    token = start_session(user.id, now=utcnow(), user_agent="test")
    db.session.commit()
    return token


def sign_in(client, user) -> None:
    """Give this client a signed-in session (the full phone-and-code flow has its own tests)."""
    token = new_session_token(user)
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True


def session_cookie_for(app, user) -> str:
    """The value of a signed-in session cookie, for a browser context (Playwright)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": new_session_token(user), "_fresh": True})


def csrf_token_from(client, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def last_sms_code(phone: str) -> str:
    from app.accounts.models import DevSmsMessage

    message = db.session.scalars(
        sa.select(DevSmsMessage).where(DevSmsMessage.phone == phone).order_by(DevSmsMessage.id.desc())
    ).first()
    assert message is not None, f"no SMS sent to {phone}"
    return re.search(r"(\d{6})", message.body).group(1)


# ---- Socket.IO ---------------------------------------------------------------------------------------------------

def socket_rooms(sio) -> set[str]:
    """The rooms a Socket.IO test client's connection is in, as the server sees them (empty once disconnected)."""
    from app.extensions import socketio

    sid = socketio.server.manager.sid_from_eio_sid(sio.eio_sid, "/")
    return set(socketio.server.rooms(sid, namespace="/")) if sid else set()


def eventually(predicate, timeout: float = 5.0) -> bool:
    """True as soon as predicate() is (polled), False if it is still not after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
