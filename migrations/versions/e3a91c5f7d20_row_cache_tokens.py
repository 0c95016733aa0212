"""cache tokens for the rows of the big tables (back-office list counts are kept under them)

Revision ID: e3a91c5f7d20
Revises: 4d8b1f0c6e2a
Create Date: 2026-12-04 21:10:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a91c5f7d20'
down_revision = '4d8b1f0c6e2a'
branch_labels = None
depends_on = None

TABLES = ('enterprises', 'needs', 'proposals', 'researchers')


def upgrade():
    tokens = sa.table('cache_tokens', sa.column('name', sa.String), sa.column('token', sa.String))
    op.bulk_insert(tokens, [{'name': f'rows:{table}', 'token': uuid.uuid4().hex}
                            for table in TABLES])


def downgrade():
    op.execute("DELETE FROM cache_tokens WHERE name LIKE 'rows:%'")
