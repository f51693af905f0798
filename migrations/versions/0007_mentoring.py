"""mentoring: cycles, requests, matches, office hours (issue 6)

Revision ID: 0007_mentoring
Revises: 0006_notifications
Create Date: 2026-11-29 20:40:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0007_mentoring'
down_revision = '0006_notifications'
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the package's issue


def downgrade():
    pass
