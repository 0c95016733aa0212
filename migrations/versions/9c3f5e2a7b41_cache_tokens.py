"""public need list: a version token for cached counts, an index to walk a field newest first

Revision ID: 9c3f5e2a7b41
Revises: 5258f41f6a5b
Create Date: 2026-12-01 19:00:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c3f5e2a7b41'
down_revision = '5258f41f6a5b'
branch_labels = None
depends_on = None


def upgrade():
    version = op.create_table(
        'need_list_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(version, [{'id': 1, 'token': uuid.uuid4().hex}])
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_field_published',
                              ['field_id', 'published_at', 'id', 'state', 'category_id', 'amount',
                               'enterprise_id'], unique=False)


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_field_published')
    op.drop_table('need_list_version')
