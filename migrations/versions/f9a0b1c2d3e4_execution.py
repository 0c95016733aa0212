"""execution: milestones, the service log, mid-term checks, satisfaction ratings, change and
termination requests of funded projects; the enterprise's support conditions

Revision ID: f9a0b1c2d3e4
Revises: e8f9a0b1c2d3
Create Date: 2026-12-07 21:00:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f9a0b1c2d3e4'
down_revision = 'e8f9a0b1c2d3'
branch_labels = None
depends_on = None


TOKEN_TABLES = ('milestones', 'service_logs', 'payments', 'supervision_cases')


def _parties():
    return [sa.Column('project_id', sa.Integer(), nullable=False),
            sa.Column('enterprise_id', sa.Integer(), nullable=False),
            sa.Column('researcher_id', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
            sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
            sa.ForeignKeyConstraint(['researcher_id'], ['researchers.id'])]


def _stamps(versioned=True):
    columns = [sa.Column('created_at', sa.DateTime(), nullable=False),
               sa.Column('updated_at', sa.DateTime(), nullable=False)]
    if versioned:
        columns.append(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    return columns


def _state(name, values, default):
    kind = sa.Enum(*values, name=f'ck_{default[0]}', native_enum=False, create_constraint=True,
                   length=32)
    return sa.Column(name, kind, server_default=default[1], nullable=False)


def _indexes(table, columns):
    for column in columns:
        op.create_index(f'ix_{table}_{column}', table, [column])


def upgrade():
    op.create_table(
        'milestones',
        sa.Column('id', sa.Integer(), nullable=False),
        *_parties(),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('deliverable', sa.Text(), nullable=True),
        sa.Column('reached_on', sa.Date(), nullable=True),
        _state('state', ('planned', 'reached'), ('milestonestate', 'planned')),
        *_stamps(),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('milestones', ('project_id', 'enterprise_id', 'researcher_id', 'due_on', 'state'))
    op.create_table(
        'service_logs',
        sa.Column('id', sa.Integer(), nullable=False),
        *_parties(),
        sa.Column('milestone_id', sa.Integer(), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('hours', sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column('work_done', sa.Text(), nullable=False),
        sa.Column('attachment', sa.Text(), nullable=True),
        _state('state', ('submitted', 'confirmed', 'disputed'),
               ('servicelogstate', 'submitted')),
        sa.Column('dispute_reason', sa.Text(), nullable=True),
        *_stamps(),
        sa.CheckConstraint('hours > 0', name='ck_service_log_hours'),
        sa.CheckConstraint('ends_on >= starts_on', name='ck_service_log_period'),
        sa.CheckConstraint("state <> 'disputed' OR dispute_reason IS NOT NULL",
                           name='ck_service_log_dispute_reason'),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('service_logs', ('project_id', 'enterprise_id', 'researcher_id', 'milestone_id',
                              'state'))
    op.create_table(
        'midterm_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        *_parties(),
        sa.Column('checked_on', sa.Date(), nullable=False),
        _state('result', ('on_track', 'behind', 'problem'), ('midtermresult', 'on_track')),
        sa.Column('opinion', sa.Text(), nullable=False),
        sa.Column('checked_by_id', sa.Integer(), nullable=True),
        *_stamps(versioned=False),
        sa.ForeignKeyConstraint(['checked_by_id'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('midterm_checks', ('project_id', 'enterprise_id', 'researcher_id'))
    op.create_table(
        'satisfaction_ratings',
        sa.Column('id', sa.Integer(), nullable=False),
        *_parties(),
        sa.Column('by_side', sa.String(length=20), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        *_stamps(versioned=False),
        sa.UniqueConstraint('project_id', 'by_side', name='uq_satisfaction_side'),
        sa.CheckConstraint('score BETWEEN 1 AND 5', name='ck_satisfaction_score'),
        sa.CheckConstraint("by_side IN ('enterprise', 'researcher')",
                           name='ck_satisfaction_side'),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('satisfaction_ratings', ('project_id', 'enterprise_id', 'researcher_id'))
    op.create_table(
        'change_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        *_parties(),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('new_funding', sa.Numeric(precision=14, scale=2), nullable=True),
        _state('state', ('submitted', 'approved', 'rejected'), ('requeststate', 'submitted')),
        sa.Column('decision', sa.Text(), nullable=True),
        *_stamps(),
        sa.CheckConstraint("kind IN ('change', 'termination')", name='ck_change_request_kind'),
        sa.CheckConstraint('new_funding IS NULL OR new_funding > 0',
                           name='ck_change_request_funding'),
        sa.CheckConstraint("state <> 'rejected' OR decision IS NOT NULL",
                           name='ck_change_request_decision'),
        sa.PrimaryKeyConstraint('id'),
    )
    _indexes('change_requests', ('project_id', 'enterprise_id', 'researcher_id', 'state'))
    # 保障条件 and PhD research posts, recorded by the enterprise on its project.
    op.add_column('projects', sa.Column('support_conditions', sa.Text(), nullable=True))
    op.add_column('projects', sa.Column('phd_posts', sa.Integer(), nullable=True))
    # The desks count milestones overdue and entries to confirm, kept under these tokens.
    tokens = sa.table('cache_tokens', sa.column('name', sa.String), sa.column('token', sa.String))
    # The dashboard is kept under the payments' and the cases' tokens too.
    op.bulk_insert(tokens, [{'name': f'rows:{table}', 'token': uuid.uuid4().hex}
                            for table in TOKEN_TABLES])


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): rebuilding projects would drop a table that payments
    # and objections refer to.
    op.drop_column('projects', 'phd_posts')
    op.drop_column('projects', 'support_conditions')
    names = ", ".join(f"'rows:{table}'" for table in TOKEN_TABLES)
    op.execute(f"DELETE FROM cache_tokens WHERE name IN ({names})")
    for table, columns in (
            ('change_requests', ('project_id', 'enterprise_id', 'researcher_id', 'state')),
            ('satisfaction_ratings', ('project_id', 'enterprise_id', 'researcher_id')),
            ('midterm_checks', ('project_id', 'enterprise_id', 'researcher_id')),
            ('service_logs', ('project_id', 'enterprise_id', 'researcher_id', 'milestone_id',
                              'state')),
            ('milestones', ('project_id', 'enterprise_id', 'researcher_id', 'due_on', 'state'))):
        for column in columns:
            op.drop_index(f'ix_{table}_{column}', table_name=table)
        op.drop_table(table)
