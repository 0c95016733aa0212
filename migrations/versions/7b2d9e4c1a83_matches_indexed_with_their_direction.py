"""matches indexed by need and direction, and by researcher and direction

A ranking reads its own direction's matches of one need (or researcher); with the direction in
the index it no longer reads the other direction's rows, which lie all over the table. Each new
index starts with the column of the one it replaces, so every lookup by need or researcher
alone is served as before.

Revision ID: 7b2d9e4c1a83
Revises: e3a91c5f7d20
Create Date: 2026-12-06 18:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b2d9e4c1a83'
down_revision = 'e3a91c5f7d20'
branch_labels = None
depends_on = None


# Plain index statements, not a batch: a batch on SQLite may copy the table (22 million rows at
# 10x national) where an index needs no copy.
def upgrade():
    op.create_index('ix_matches_need_direction', 'matches', ['need_id', 'direction'])
    op.create_index('ix_matches_researcher_direction', 'matches', ['researcher_id', 'direction'])
    op.drop_index('ix_matches_need_id', table_name='matches')
    op.drop_index('ix_matches_researcher_id', table_name='matches')


def downgrade():
    op.create_index('ix_matches_researcher_id', 'matches', ['researcher_id'])
    op.create_index('ix_matches_need_id', 'matches', ['need_id'])
    op.drop_index('ix_matches_researcher_direction', table_name='matches')
    op.drop_index('ix_matches_need_direction', table_name='matches')
