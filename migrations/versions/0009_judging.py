"""judging: rounds, criteria, judges, scores, audit (issue 5)

Revision ID: 0009_judging
Revises: 0008_pitch_slot_sequence
Create Date: 2026-11-29 21:00:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0009_judging'
down_revision = '0008_pitch_slot_sequence'
branch_labels = None
depends_on = None


def upgrade():
    pass  # filled in by the package's issue


def downgrade():
    pass
