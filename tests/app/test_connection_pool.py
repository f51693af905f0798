"""PostgreSQL connections that the server dropped while they sat in the pool are replaced before use; those used a
moment ago are trusted (app.extensions_setup._ping_after_idle), on a real PostgreSQL."""

import psycopg
import pytest
import sqlalchemy as sa

from app import extensions_setup
from tests import services


@pytest.fixture
def postgres_url():
    problem = services.postgres_available()
    if problem:
        services.service_missing("PostgreSQL", problem)
    url = services.create_postgres_database()
    yield url
    services.drop_postgres_database(url)


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def drop_backend(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_url, monkeypatch):
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=1,
                              max_overflow=0)
    first = backend_pid(engine)
    drop_backend(postgres_url, first)
    monkeypatch.setattr(extensions_setup, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle long enough

    second = backend_pid(engine)  # no error: the ping found it dead and the pool opened another

    assert second != first
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_drop_costs_one_request(postgres_url):
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=1,
                              max_overflow=0)
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    first = backend_pid(engine)
    assert backend_pid(engine) == first and statements == ["SELECT pg_backend_pid()"] * 2  # no ping in between

    drop_backend(postgres_url, first)
    with pytest.raises(sa.exc.OperationalError):
        backend_pid(engine)  # the trade-off the docstring states
    assert backend_pid(engine) != first  # and the pool recovers by itself
    engine.dispose()
