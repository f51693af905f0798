"""accounts: sign-in code events, for the daily caps per phone and per address and the wrong-code lock-out (issue 16)

Revision ID: 0014_sign_in_code_events
Revises: 0013_auth_sessions
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0014_sign_in_code_events'
down_revision = '0013_auth_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_code_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_code_events'))
    )
    with op.batch_alter_table('sign_in_code_events', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_code_events_address_kind_at', ['address', 'kind', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_code_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_sign_in_code_events_phone_kind_at', ['phone', 'kind', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_code_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_code_events_phone_kind_at')
        batch_op.drop_index(batch_op.f('ix_sign_in_code_events_at'))
        batch_op.drop_index('ix_sign_in_code_events_address_kind_at')

    op.drop_table('sign_in_code_events')
