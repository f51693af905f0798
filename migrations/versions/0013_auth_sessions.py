"""accounts: a server-side row per sign-in and per judge pass; judges: when the invitation was sent (issue 16)

Revision ID: 0013_auth_sessions
Revises: 0012_notifications_more
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0013_auth_sessions'
down_revision = '0012_notifications_more'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auth_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=60), nullable=False),
    sa.Column('origin', sa.String(length=40), nullable=True),
    sa.Column('user_agent', sa.String(length=120), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_sessions_token_hash'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_sessions_origin'), ['origin'], unique=False)

    with op.batch_alter_table('judging_judges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_sent_at', app.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('judging_judges', schema=None) as batch_op:
        batch_op.drop_column('invite_sent_at')

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_origin'))
        batch_op.drop_index(batch_op.f('ix_auth_sessions_user_id'))

    op.drop_table('auth_sessions')
