"""mentoring: feedback, rankings, investor meetings (issue 6, continued)

Revision ID: 0011_mentoring_more
Revises: 0010_checkin_more
Create Date: 2026-11-29 21:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0011_mentoring_more'
down_revision = '0010_checkin_more'
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the package's issue


def downgrade():
    pass
