"""competition tracks and the application window

Revision ID: 0004_competition_tracks
Revises: 0003_recurrence_id
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0004_competition_tracks'
down_revision = '0003_recurrence_id'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('competitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracks', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('applications_open', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('applications_close_at', app.db_types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('competitions', schema=None) as batch_op:
        batch_op.drop_column('applications_close_at')
        batch_op.drop_column('applications_open')
        batch_op.drop_column('tracks')
