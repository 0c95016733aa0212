"""matching: profile terms, enterprise pushes, re-match runs

Revision ID: 5f49e1675b94
Revises: b7e2c41d9a30
Create Date: 2026-11-25 14:05:29.665756

"""
import sqlalchemy as sa
from alembic import op

import text_rules  # migrations/text_rules.py: the rules as they stood, no app code


# revision identifiers, used by Alembic.
revision = '5f49e1675b94'
down_revision = 'b7e2c41d9a30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('matches', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['started_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_pushed_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_terms', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('researchers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_terms', sa.JSON(), nullable=False, server_default='{}'))

    # Profiles of the needs and researchers written before matching existed.
    text_rules.refresh_profiles(op.get_bind())


def downgrade():
    with op.batch_alter_table('researchers', schema=None) as batch_op:
        batch_op.drop_column('match_terms')

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_column('match_terms')

    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_column('enterprise_pushed_at')

    op.drop_table('match_runs')
