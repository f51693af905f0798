"""judging: rounds, criteria, judges, scores, audit (issue 5)

Revision ID: 0009_judging
Revises: 0008_pitch_slot_sequence
Create Date: 2026-11-29 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db_types  # noqa: F401  (column types of our models)


# revision identifiers, used by Alembic.
revision = '0009_judging'
down_revision = '0008_pitch_slot_sequence'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('judging_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('label_en', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('min_score', sa.Float(), nullable=False),
    sa.Column('max_score', sa.Float(), nullable=False),
    sa.Column('step', sa.Float(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('min_score < max_score AND step > 0', name=op.f('ck_judging_criteria_scale')),
    sa.CheckConstraint('weight > 0 AND weight <= 100', name=op.f('ck_judging_criteria_weight_percent')),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_criteria_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_criteria')),
    sa.UniqueConstraint('round_id', 'key', name=op.f('uq_judging_criteria_round_id_key'))
    )
    with op.batch_alter_table('judging_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_criteria_round_id'), ['round_id'], unique=False)

    op.create_table('judging_judges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('is_shadow', sa.Boolean(), nullable=False),
    sa.Column('invite_token_hash', sa.String(length=64), nullable=True),
    sa.Column('invite_expires_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('invite_used_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_judges_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_judging_judges_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_judges')),
    sa.UniqueConstraint('invite_token_hash', name=op.f('uq_judging_judges_invite_token_hash')),
    sa.UniqueConstraint('round_id', 'user_id', name=op.f('uq_judging_judges_round_id_user_id'))
    )
    with op.batch_alter_table('judging_judges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_judges_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_judges_user_id'), ['user_id'], unique=False)

    op.create_table('judging_round_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('track', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('scoring_state', sa.String(length=16), nullable=False),
    sa.Column('closed_at', app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('added_by', sa.String(length=16), nullable=False),
    sa.Column('advanced_to_round_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['advanced_to_round_id'], ['competition_rounds.id'], name=op.f('fk_judging_round_teams_advanced_to_round_id_competition_rounds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['application_id'], ['team_applications.id'], name=op.f('fk_judging_round_teams_application_id_team_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_round_teams_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_round_teams')),
    sa.UniqueConstraint('round_id', 'application_id', name=op.f('uq_judging_round_teams_round_id_application_id'))
    )
    with op.batch_alter_table('judging_round_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_round_teams_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_round_teams_round_id'), ['round_id'], unique=False)

    op.create_table('judging_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('round_team_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_judging_audit_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_audit_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_team_id'], ['judging_round_teams.id'], name=op.f('fk_judging_audit_round_team_id_judging_round_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_audit'))
    )
    with op.batch_alter_table('judging_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_audit_round_id'), ['round_id'], unique=False)

    op.create_table('judging_recusals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('round_team_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declared_by_id'], ['users.id'], name=op.f('fk_judging_recusals_declared_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['judge_id'], ['judging_judges.id'], name=op.f('fk_judging_recusals_judge_id_judging_judges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_recusals_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_team_id'], ['judging_round_teams.id'], name=op.f('fk_judging_recusals_round_team_id_judging_round_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_recusals')),
    sa.UniqueConstraint('judge_id', 'round_team_id', name=op.f('uq_judging_recusals_judge_id_round_team_id'))
    )
    with op.batch_alter_table('judging_recusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_recusals_round_id'), ['round_id'], unique=False)

    op.create_table('judging_scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('round_team_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('submitted_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['judge_id'], ['judging_judges.id'], name=op.f('fk_judging_scorecards_judge_id_judging_judges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_scorecards_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_team_id'], ['judging_round_teams.id'], name=op.f('fk_judging_scorecards_round_team_id_judging_round_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_scorecards')),
    sa.UniqueConstraint('judge_id', 'round_team_id', name=op.f('uq_judging_scorecards_judge_id_round_team_id'))
    )
    with op.batch_alter_table('judging_scorecards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_scorecards_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_scorecards_round_team_id'), ['round_team_id'], unique=False)

    op.create_table('judging_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('round_team_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=True),
    sa.Column('created_at', app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['judge_id'], ['judging_judges.id'], name=op.f('fk_judging_submissions_judge_id_judging_judges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_submissions_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_team_id'], ['judging_round_teams.id'], name=op.f('fk_judging_submissions_round_team_id_judging_round_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_submissions')),
    sa.UniqueConstraint('judge_id', 'submission_id', name=op.f('uq_judging_submissions_judge_id_submission_id'))
    )
    with op.batch_alter_table('judging_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_judging_submissions_round_team', ['round_id', 'round_team_id'], unique=False)

    op.create_table('judging_scores',
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['judging_criteria.id'], name=op.f('fk_judging_scores_criterion_id_judging_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scorecard_id'], ['judging_scorecards.id'], name=op.f('fk_judging_scores_scorecard_id_judging_scorecards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scorecard_id', 'criterion_id', name=op.f('pk_judging_scores'))
    )
    with op.batch_alter_table('competition_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), server_default='online', nullable=False))
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='draft', nullable=False))
        batch_op.add_column(sa.Column('drop_extremes', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('normalize', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('leaderboard_mode', sa.String(length=16), server_default='hidden', nullable=False))
        batch_op.add_column(sa.Column('revealed_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pitch_seconds', sa.Integer(), server_default='480', nullable=False))
        batch_op.add_column(sa.Column('qa_seconds', sa.Integer(), server_default='300', nullable=False))
        batch_op.add_column(sa.Column('current_team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stage_phase', sa.String(length=16), server_default='idle', nullable=False))
        batch_op.add_column(sa.Column('phase_started_at', app.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stage_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('published_at', app.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_competition_rounds_current_team_id_judging_round_teams'), 'judging_round_teams', ['current_team_id'], ['id'], ondelete='SET NULL', use_alter=True)


def downgrade():
    with op.batch_alter_table('competition_rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_competition_rounds_current_team_id_judging_round_teams'), type_='foreignkey')
        batch_op.drop_column('published_at')
        batch_op.drop_column('stage_version')
        batch_op.drop_column('phase_started_at')
        batch_op.drop_column('stage_phase')
        batch_op.drop_column('current_team_id')
        batch_op.drop_column('qa_seconds')
        batch_op.drop_column('pitch_seconds')
        batch_op.drop_column('revealed_count')
        batch_op.drop_column('leaderboard_mode')
        batch_op.drop_column('normalize')
        batch_op.drop_column('drop_extremes')
        batch_op.drop_column('state')
        batch_op.drop_column('mode')

    op.drop_table('judging_scores')
    with op.batch_alter_table('judging_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_judging_submissions_round_team')

    op.drop_table('judging_submissions')
    with op.batch_alter_table('judging_scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_scorecards_round_team_id'))
        batch_op.drop_index(batch_op.f('ix_judging_scorecards_round_id'))

    op.drop_table('judging_scorecards')
    with op.batch_alter_table('judging_recusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_recusals_round_id'))

    op.drop_table('judging_recusals')
    with op.batch_alter_table('judging_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_audit_round_id'))

    op.drop_table('judging_audit')
    with op.batch_alter_table('judging_round_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_round_teams_round_id'))
        batch_op.drop_index(batch_op.f('ix_judging_round_teams_application_id'))

    op.drop_table('judging_round_teams')
    with op.batch_alter_table('judging_judges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_judges_user_id'))
        batch_op.drop_index(batch_op.f('ix_judging_judges_round_id'))

    op.drop_table('judging_judges')
    with op.batch_alter_table('judging_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_criteria_round_id'))

    op.drop_table('judging_criteria')
