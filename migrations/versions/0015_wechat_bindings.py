"""accounts: WeChat bindings, for one-tap sign-in with WeChat (issue 20)

Revision ID: 0015_wechat_bindings
Revises: 0014_sign_in_code_events
Create Date: 2026-12-07 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0015_wechat_bindings'
down_revision = '0014_sign_in_code_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wechat_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=32), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('unionid', sa.String(length=64), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_bindings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_bindings')),
    sa.UniqueConstraint('app_id', 'openid', name=op.f('uq_wechat_bindings_app_id_openid')),
    sa.UniqueConstraint('user_id', 'app_id', name=op.f('uq_wechat_bindings_user_id_app_id'))
    )
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_bindings_unionid'), ['unionid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wechat_bindings_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_bindings_user_id'))
        batch_op.drop_index(batch_op.f('ix_wechat_bindings_unionid'))

    op.drop_table('wechat_bindings')
