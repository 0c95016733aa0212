"""need search terms: indexed Chinese / pinyin / initials search of needs (no LIKE '%q%')

Revision ID: 076c6f6d2ce0
Revises: 5a4c85d559f5
Create Date: 2026-11-25 12:37:56.799955

"""
import sqlalchemy as sa
from alembic import op

import text_rules  # migrations/text_rules.py: the rules as they stood, no app code


# revision identifiers, used by Alembic.
revision = '076c6f6d2ce0'
down_revision = '5a4c85d559f5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('need_search_terms',
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=80).with_variant(sa.String(length=80, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('need_id', 'term')
    )
    with op.batch_alter_table('need_search_terms', schema=None) as batch_op:
        batch_op.create_index('ix_need_search_term', ['term', 'need_id'], unique=False)

    # Index the published needs written before this revision (the app keeps it in step).
    text_rules.index_public_needs(op.get_bind(), with_content=False)


def downgrade():
    with op.batch_alter_table('need_search_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_need_search_term')

    op.drop_table('need_search_terms')
