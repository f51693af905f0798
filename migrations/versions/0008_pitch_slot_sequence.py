"""pitch slots count their own changes (calendar SEQUENCE, LAST-MODIFIED)

Revision ID: 0008_pitch_slot_sequence
Revises: 0007_mentoring
Create Date: 2026-11-29 21:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import app.db_types

# revision identifiers, used by Alembic.
revision = '0008_pitch_slot_sequence'
down_revision = '0007_mentoring'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pitch_slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('pitch_slots', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('sequence')
