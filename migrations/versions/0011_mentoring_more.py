"""mentoring: feedback, rankings, investor meetings (issue 6, continued)

Revision ID: 0011_mentoring_more
Revises: 0010_checkin_more
Create Date: 2026-11-29 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0011_mentoring_more'
down_revision = '0010_checkin_more'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mentoring_rankings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('founder_ids', sa.JSON(), nullable=False),
    sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['mentoring_cycles.id'], name=op.f('fk_mentoring_rankings_cycle_id_mentoring_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_mentoring_rankings_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_rankings')),
    sa.UniqueConstraint('cycle_id', 'mentor_id', name=op.f('uq_mentoring_rankings_cycle_id_mentor_id'))
    )
    with op.batch_alter_table('mentoring_rankings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_rankings_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('roadshow_meeting_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('available_from', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('available_until', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('available_from < available_until', name=op.f('ck_roadshow_meeting_availability_range_not_empty')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_roadshow_meeting_availability_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roadshow_meeting_availability_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roadshow_meeting_availability')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_roadshow_meeting_availability_event_id_user_id'))
    )
    with op.batch_alter_table('roadshow_meeting_availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roadshow_meeting_availability_event_id'), ['event_id'], unique=False)

    op.create_table('roadshow_meeting_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('tables', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('total_score', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_roadshow_meeting_plans_window_not_empty')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_roadshow_meeting_plans_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_roadshow_meeting_plans_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roadshow_meeting_plans')),
    sa.UniqueConstraint('event_id', name=op.f('uq_roadshow_meeting_plans_event_id'))
    )
    op.create_table('roadshow_meeting_wishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('from_id', sa.Integer(), nullable=False),
    sa.Column('to_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('from_id <> to_id', name=op.f('ck_roadshow_meeting_wishes_not_self')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_roadshow_meeting_wishes_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_id'], ['users.id'], name=op.f('fk_roadshow_meeting_wishes_from_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_id'], ['users.id'], name=op.f('fk_roadshow_meeting_wishes_to_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roadshow_meeting_wishes')),
    sa.UniqueConstraint('event_id', 'from_id', 'to_id', name=op.f('uq_roadshow_meeting_wishes_event_id_from_id_to_id'))
    )
    with op.batch_alter_table('roadshow_meeting_wishes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roadshow_meeting_wishes_event_id'), ['event_id'], unique=False)

    op.create_table('roadshow_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('investor_id', sa.Integer(), nullable=False),
    sa.Column('founder_id', sa.Integer(), nullable=False),
    sa.Column('table', sa.String(length=40), nullable=False),
    sa.Column('starts_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('mutual', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_roadshow_meetings_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['founder_id'], ['users.id'], name=op.f('fk_roadshow_meetings_founder_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['investor_id'], ['users.id'], name=op.f('fk_roadshow_meetings_investor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roadshow_meetings')),
    sa.UniqueConstraint('event_id', 'founder_id', 'starts_at', name=op.f('uq_roadshow_meetings_event_id_founder_id_starts_at')),
    sa.UniqueConstraint('event_id', 'investor_id', 'founder_id', name=op.f('uq_roadshow_meetings_event_id_investor_id_founder_id')),
    sa.UniqueConstraint('event_id', 'investor_id', 'starts_at', name=op.f('uq_roadshow_meetings_event_id_investor_id_starts_at')),
    sa.UniqueConstraint('event_id', 'table', 'starts_at', name=op.f('uq_roadshow_meetings_event_id_table_starts_at'))
    )
    with op.batch_alter_table('roadshow_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roadshow_meetings_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roadshow_meetings_founder_id'), ['founder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_roadshow_meetings_investor_id'), ['investor_id'], unique=False)

    with op.batch_alter_table('mentoring_bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', app.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('mentoring_bookings', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

    with op.batch_alter_table('roadshow_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roadshow_meetings_investor_id'))
        batch_op.drop_index(batch_op.f('ix_roadshow_meetings_founder_id'))
        batch_op.drop_index(batch_op.f('ix_roadshow_meetings_event_id'))

    op.drop_table('roadshow_meetings')
    with op.batch_alter_table('roadshow_meeting_wishes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roadshow_meeting_wishes_event_id'))

    op.drop_table('roadshow_meeting_wishes')
    op.drop_table('roadshow_meeting_plans')
    with op.batch_alter_table('roadshow_meeting_availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roadshow_meeting_availability_event_id'))

    op.drop_table('roadshow_meeting_availability')
    with op.batch_alter_table('mentoring_rankings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_rankings_cycle_id'))

    op.drop_table('mentoring_rankings')
