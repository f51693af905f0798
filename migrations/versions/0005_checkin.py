"""check-in: ticket keys, tickets, scans (issue 4)

Revision ID: 0005_checkin
Revises: 0004_competition_tracks
Create Date: 2026-11-29 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0005_checkin'
down_revision = '0004_competition_tracks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkin_configs',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('sealed_private_key', sa.String(length=200), nullable=False),
    sa.Column('allow_reentry', sa.Boolean(), nullable=False),
    sa.Column('opens_minutes_before', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkin_configs_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_checkin_configs'))
    )
    op.create_table('checkin_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('token_digest', sa.String(length=32), nullable=False),
    sa.Column('gate', sa.String(length=40), nullable=False),
    sa.Column('device', sa.String(length=80), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('offline_result', sa.String(length=24), nullable=True),
    sa.Column('conflict', sa.Boolean(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('scanned_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_checkin_scans_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkin_scans_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_checkin_scans_registration_id_registrations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_scans')),
    sa.UniqueConstraint('event_id', 'scan_id', name=op.f('uq_checkin_scans_event_id_scan_id'))
    )
    with op.batch_alter_table('checkin_scans', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_scans_event_received', ['event_id', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_scans_registration_id'), ['registration_id'], unique=False)

    op.create_table('checkin_admissions',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('first_admitted_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('gate', sa.String(length=40), nullable=False),
    sa.Column('first_scan_id', sa.Integer(), nullable=True),
    sa.Column('inside', sa.Boolean(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('last_moved_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkin_admissions_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_scan_id'], ['checkin_scans.id'], name=op.f('fk_checkin_admissions_first_scan_id_checkin_scans'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_checkin_admissions_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_checkin_admissions'))
    )
    with op.batch_alter_table('checkin_admissions', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_admissions_event_gate', ['event_id', 'gate'], unique=False)

    op.create_table('checkin_walk_ins',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_checkin_walk_ins_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkin_walk_ins_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_checkin_walk_ins_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_checkin_walk_ins'))
    )
    with op.batch_alter_table('checkin_walk_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_walk_ins_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('checkin_walk_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_walk_ins_event_id'))
    op.drop_table('checkin_walk_ins')
    with op.batch_alter_table('checkin_admissions', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_admissions_event_gate')
    op.drop_table('checkin_admissions')
    with op.batch_alter_table('checkin_scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_scans_registration_id'))
        batch_op.drop_index('ix_checkin_scans_event_received')
    op.drop_table('checkin_scans')
    op.drop_table('checkin_configs')
