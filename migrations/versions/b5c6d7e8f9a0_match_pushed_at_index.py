"""matches: a partial index on the push date (told matches only), for the back office's match
list filtered by it; the planner's statistics after it

Revision ID: b5c6d7e8f9a0
Revises: a4b5c6d7e8f9
Create Date: 2026-12-07 17:10:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5c6d7e8f9a0'
down_revision = 'a4b5c6d7e8f9'
branch_labels = None
depends_on = None

TOLD = sa.text("pushed_at IS NOT NULL")


def upgrade():
    op.create_index('ix_matches_pushed_at', 'matches', ['pushed_at'], sqlite_where=TOLD,
                    postgresql_where=TOLD)
    op.execute("ANALYZE matches")


def downgrade():
    op.drop_index('ix_matches_pushed_at', table_name='matches')
