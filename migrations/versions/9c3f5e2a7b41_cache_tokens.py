"""cache tokens (need list, permissions), and an index to walk a field's needs newest first

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
    tokens = op.create_table(
        'cache_tokens',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.bulk_insert(tokens, [{'name': name, 'token': uuid.uuid4().hex}
                            for name in ('need_list', 'permissions')])
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_field_published',
                              ['field_id', 'published_at', 'id', 'state', 'category_id', 'amount',
                               'enterprise_id'], unique=False)


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_field_published')
    op.drop_table('cache_tokens')
