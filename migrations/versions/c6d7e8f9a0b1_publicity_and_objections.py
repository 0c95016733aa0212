"""公示: publicity lists, objections, the working-day calendar; projects proposed before funded

Revision ID: c6d7e8f9a0b1
Revises: b5c6d7e8f9a0
Create Date: 2026-12-07 20:10:00

Projects already funded stay funded: they were decided before the publicity existed. The
project states of the rest of the second stage (suspended, revoked, terminated) come here too.
Downgrading is lossy: those states become funded, withdrawn projects are removed.
"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c6d7e8f9a0b1'
down_revision = 'b5c6d7e8f9a0'
branch_labels = None
depends_on = None

OLD_STATES = ('funded', 'reported', 'accepted', 'evaluated')
# Every state the second stage gives a project, in this one rebuild of ``projects``: a later
# rebuild on SQLite would drop a table that payments and objections then refer to.
NEW_STATES = ('proposed', 'funded', 'suspended', 'revoked', 'terminated', 'reported', 'accepted',
              'evaluated', 'withdrawn')


def _state(values):
    return sa.Enum(*values, name='ck_projectstate', native_enum=False,
                   create_constraint=True, length=32)


def upgrade():
    op.create_table(
        'publicities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('working_days', sa.Integer(), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint('ends_on >= starts_on', name='ck_publicity_window'),
        sa.ForeignKeyConstraint(['published_by_id'], ['ab_user.id']),
        sa.ForeignKeyConstraint(['round_id'], ['program_rounds.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_publicities_round_id', 'publicities', ['round_id'])
    op.create_index('ix_publicities_closed_at', 'publicities', ['closed_at'])
    op.create_table(
        'objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('publicity_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=120), nullable=True),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('attachment', sa.Text(), nullable=True),
        sa.Column('state', sa.Enum('lodged', 'upheld', 'dismissed', name='ck_objectionstate',
                                   native_enum=False, create_constraint=True, length=32),
                  server_default='lodged', nullable=False),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint("state = 'lodged' OR decision_reason IS NOT NULL",
                           name='ck_objection_decided_with_reason'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.ForeignKeyConstraint(['publicity_id'], ['publicities.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_objections_publicity_id', 'objections', ['publicity_id'])
    op.create_index('ix_objections_project_id', 'objections', ['project_id'])
    op.create_index('ix_objections_state', 'objections', ['state'])
    # The province's desk counts the objections waiting, kept under this table's row token.
    tokens = sa.table('cache_tokens', sa.column('name', sa.String), sa.column('token', sa.String))
    op.bulk_insert(tokens, [{'name': 'rows:objections', 'token': uuid.uuid4().hex}])
    op.create_table(
        'working_day_adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('working', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day'),
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=_state(OLD_STATES), type_=_state(NEW_STATES),
                              existing_nullable=False, existing_server_default='funded')
        batch_op.add_column(sa.Column('publicity_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('funded_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_projects_publicity_id', 'publicities',
                                    ['publicity_id'], ['id'])
        batch_op.create_index('ix_projects_publicity_id', ['publicity_id'])
    # A plain ADD COLUMN: rebuilding program_rounds on SQLite would drop a table every need
    # refers to. SQLite cannot add the CHECK to an existing table; the form and the model keep
    # the range there (a new database has the CHECK from the model).
    op.add_column('program_rounds', sa.Column('publicity_days', sa.Integer(),
                                              server_default='5', nullable=False))
    if op.get_bind().dialect.name != 'sqlite':
        op.create_check_constraint('ck_round_publicity_days', 'program_rounds',
                                   'publicity_days BETWEEN 1 AND 30')


def downgrade():
    # Without a publicity a proposed project is what approval made before: funded. A withdrawn
    # one has no state to go back to and is removed with its objections.
    op.execute("DELETE FROM objections")
    op.execute("DELETE FROM projects WHERE state = 'withdrawn'")
    op.execute("UPDATE projects SET state = 'funded' "
               "WHERE state IN ('proposed', 'suspended', 'revoked', 'terminated')")
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('ck_round_publicity_days', 'program_rounds', type_='check')
    op.drop_column('program_rounds', 'publicity_days')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_publicity_id')
        batch_op.drop_constraint('fk_projects_publicity_id', type_='foreignkey')
        batch_op.drop_column('funded_at')
        batch_op.drop_column('publicity_id')
        batch_op.alter_column('state', existing_type=_state(NEW_STATES), type_=_state(OLD_STATES),
                              existing_nullable=False, existing_server_default='funded')
    op.drop_table('working_day_adjustments')
    op.execute("DELETE FROM cache_tokens WHERE name = 'rows:objections'")
    op.drop_table('objections')
    op.drop_index('ix_publicities_closed_at', table_name='publicities')
    op.drop_index('ix_publicities_round_id', table_name='publicities')
    op.drop_table('publicities')
