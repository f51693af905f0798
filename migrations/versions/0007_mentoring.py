"""mentoring: cycles, requests, matches, office hours (issue 6)

Revision ID: 0007_mentoring
Revises: 0006_notifications
Create Date: 2026-11-29 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0007_mentoring'
down_revision = '0006_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mentoring_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('start_minute < end_minute', name=op.f('ck_mentoring_availability_range_not_empty')),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_mentoring_availability_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_availability'))
    )
    with op.batch_alter_table('mentoring_availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_availability_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('mentoring_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('per_founder', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_run_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('total_score', sa.Integer(), nullable=True),
    sa.Column('greedy_score', sa.Integer(), nullable=True),
    sa.Column('published_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('per_founder >= 1', name=op.f('ck_mentoring_cycles_per_founder_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_mentoring_cycles_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_cycles'))
    )
    op.create_table('mentoring_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('founder_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('decline_reason', sa.String(length=300), nullable=False),
    sa.Column('responded_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['mentoring_cycles.id'], name=op.f('fk_mentoring_matches_cycle_id_mentoring_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['founder_id'], ['users.id'], name=op.f('fk_mentoring_matches_founder_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_mentoring_matches_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_matches')),
    sa.UniqueConstraint('cycle_id', 'founder_id', 'mentor_id', name=op.f('uq_mentoring_matches_cycle_id_founder_id_mentor_id'))
    )
    with op.batch_alter_table('mentoring_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_matches_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_matches_founder_id'), ['founder_id'], unique=False)
        batch_op.create_index('ix_mentoring_matches_mentor_status', ['mentor_id', 'status'], unique=False)

    op.create_table('mentoring_pair_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('founder_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_mentoring_pair_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['mentoring_cycles.id'], name=op.f('fk_mentoring_pair_rules_cycle_id_mentoring_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['founder_id'], ['users.id'], name=op.f('fk_mentoring_pair_rules_founder_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_mentoring_pair_rules_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_pair_rules')),
    sa.UniqueConstraint('cycle_id', 'founder_id', 'mentor_id', name=op.f('uq_mentoring_pair_rules_cycle_id_founder_id_mentor_id'))
    )
    with op.batch_alter_table('mentoring_pair_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_pair_rules_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('mentoring_priority_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('member_ids', sa.JSON(), nullable=False),
    sa.CheckConstraint('weight > 0', name=op.f('ck_mentoring_priority_groups_weight_positive')),
    sa.ForeignKeyConstraint(['cycle_id'], ['mentoring_cycles.id'], name=op.f('fk_mentoring_priority_groups_cycle_id_mentoring_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_priority_groups')),
    sa.UniqueConstraint('cycle_id', 'name', name=op.f('uq_mentoring_priority_groups_cycle_id_name'))
    )
    with op.batch_alter_table('mentoring_priority_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_priority_groups_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('mentoring_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('founder_id', sa.Integer(), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('prefer_ids', sa.JSON(), nullable=False),
    sa.Column('avoid_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['mentoring_cycles.id'], name=op.f('fk_mentoring_requests_cycle_id_mentoring_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['founder_id'], ['users.id'], name=op.f('fk_mentoring_requests_founder_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_requests')),
    sa.UniqueConstraint('cycle_id', 'founder_id', name=op.f('uq_mentoring_requests_cycle_id_founder_id'))
    )
    with op.batch_alter_table('mentoring_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_requests_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_requests_founder_id'), ['founder_id'], unique=False)

    op.create_table('mentoring_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('availability_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['availability_id'], ['mentoring_availability.id'], name=op.f('fk_mentoring_slots_availability_id_mentoring_availability'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_mentoring_slots_booked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_mentoring_slots_mentor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_slots')),
    sa.UniqueConstraint('mentor_id', 'starts_at', name=op.f('uq_mentoring_slots_mentor_id_starts_at'))
    )
    with op.batch_alter_table('mentoring_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_slots_starts_at'), ['starts_at'], unique=False)

    op.create_table('mentoring_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('founder_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['founder_id'], ['users.id'], name=op.f('fk_mentoring_bookings_founder_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['mentoring_matches.id'], name=op.f('fk_mentoring_bookings_match_id_mentoring_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_mentoring_bookings_mentor_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['mentoring_slots.id'], name=op.f('fk_mentoring_bookings_slot_id_mentoring_slots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_bookings'))
    )
    with op.batch_alter_table('mentoring_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_bookings_founder_id'), ['founder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_bookings_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_bookings_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoring_bookings_slot_id'), ['slot_id'], unique=False)

    op.create_table('mentoring_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_mentoring_feedback_rating_range')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_mentoring_feedback_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_id'], ['mentoring_bookings.id'], name=op.f('fk_mentoring_feedback_booking_id_mentoring_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_feedback')),
    sa.UniqueConstraint('booking_id', 'author_id', name=op.f('uq_mentoring_feedback_booking_id_author_id'))
    )
    with op.batch_alter_table('mentoring_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_feedback_booking_id'), ['booking_id'], unique=False)



def downgrade():
    with op.batch_alter_table('mentoring_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_feedback_booking_id'))

    op.drop_table('mentoring_feedback')
    with op.batch_alter_table('mentoring_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_bookings_slot_id'))
        batch_op.drop_index(batch_op.f('ix_mentoring_bookings_mentor_id'))
        batch_op.drop_index(batch_op.f('ix_mentoring_bookings_match_id'))
        batch_op.drop_index(batch_op.f('ix_mentoring_bookings_founder_id'))

    op.drop_table('mentoring_bookings')
    with op.batch_alter_table('mentoring_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_slots_starts_at'))

    op.drop_table('mentoring_slots')
    with op.batch_alter_table('mentoring_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_requests_founder_id'))
        batch_op.drop_index(batch_op.f('ix_mentoring_requests_cycle_id'))

    op.drop_table('mentoring_requests')
    with op.batch_alter_table('mentoring_priority_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_priority_groups_cycle_id'))

    op.drop_table('mentoring_priority_groups')
    with op.batch_alter_table('mentoring_pair_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_pair_rules_cycle_id'))

    op.drop_table('mentoring_pair_rules')
    with op.batch_alter_table('mentoring_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_mentoring_matches_mentor_status')
        batch_op.drop_index(batch_op.f('ix_mentoring_matches_founder_id'))
        batch_op.drop_index(batch_op.f('ix_mentoring_matches_cycle_id'))

    op.drop_table('mentoring_matches')
    op.drop_table('mentoring_cycles')
    with op.batch_alter_table('mentoring_availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_availability_mentor_id'))

    op.drop_table('mentoring_availability')
