"""live room: the event's speaker, to whom the answered questions are sent (issue 19)

Revision ID: 0019_live_room_speaker
Revises: 0018_live_peoples_choice
Create Date: 2026-12-07 19:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_live_room_speaker'
down_revision = '0018_live_peoples_choice'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('live_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('speaker_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_live_rooms_speaker_user_id_users'), 'users',
                                    ['speaker_user_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('live_rooms', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_live_rooms_speaker_user_id_users'), type_='foreignkey')
        batch_op.drop_column('speaker_user_id')
