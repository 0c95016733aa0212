"""need search covers the template sections: rebuild the index with their words

Revision ID: b7e2c41d9a30
Revises: 076c6f6d2ce0
Create Date: 2026-11-25 13:55:00

"""
from alembic import op

import text_rules  # migrations/text_rules.py: the rules as they stood, no app code


# revision identifiers, used by Alembic.
revision = 'b7e2c41d9a30'
down_revision = '076c6f6d2ce0'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # A word of the template text can be in most needs: with the default sample the planner
        # takes any prefix range for one row and probes 20,000 times instead of hashing.
        op.execute("ALTER TABLE need_search_terms ALTER COLUMN term SET STATISTICS 1000")
    # The published needs indexed before now gain the words of their sections.
    text_rules.index_public_needs(bind, with_content=True)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE need_search_terms ALTER COLUMN term SET STATISTICS -1")
    # The extra terms are harmless to the older code, which replaces a need's terms whole.
