"""The schema comes from the Alembic migrations, and they match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_migrations_produce_exactly_the_models_schema(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrading_a_sqlite_database_keeps_rows_that_point_at_rebuilt_tables(tmp_path):
    """SQLite batch migrations rebuild tables; with foreign keys on, that used to null out references."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import make_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(make_config(url))
    with app.app_context():
        upgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO events (id, kind, status, title, title_en, summary, description, venue, starts_at, "
                "ends_at, requires_approval, sequence, created_at, updated_at) VALUES (1, 'competition', "
                "'published', '决赛', '', '', '', '', '2026-12-01', '2026-12-01', 0, 0, '2026-11-01', '2026-11-01')"))
            conn.execute(sa.text("INSERT INTO competitions (id, name, description, event_id, created_at) "
                                 "VALUES (1, '大赛', '', 1, '2026-11-01')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT event_id FROM competitions")).scalar_one() == 1
        db.engine.dispose()
