"""a cache token for reference data (the back office's search forms are kept under it)

Revision ID: 4d8b1f0c6e2a
Revises: 9c3f5e2a7b41
Create Date: 2026-12-01 23:45:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d8b1f0c6e2a'
down_revision = '9c3f5e2a7b41'
branch_labels = None
depends_on = None


def upgrade():
    tokens = sa.table('cache_tokens', sa.column('name', sa.String), sa.column('token', sa.String))
    op.bulk_insert(tokens, [{'name': 'reference', 'token': uuid.uuid4().hex}])


def downgrade():
    op.execute("DELETE FROM cache_tokens WHERE name = 'reference'")
