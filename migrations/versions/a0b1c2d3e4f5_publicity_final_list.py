"""publicity: the final list as announced, kept when the list closes

The announcement (立项公告) read the projects' live states and amounts: a project revoked or
a funding changed months later rewrote what had been announced.

Revision ID: a0b1c2d3e4f5
Revises: f9a0b1c2d3e4
Create Date: 2026-12-07 23:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a0b1c2d3e4f5'
down_revision = 'f9a0b1c2d3e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('publicities') as batch_op:
        batch_op.add_column(sa.Column('final_list', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('publicities') as batch_op:
        batch_op.drop_column('final_list')
