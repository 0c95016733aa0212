"""matching: when each need and researcher was last ranked

Revision ID: 30cb1ec9af6e
Revises: c4e81f27d5b6
Create Date: 2026-11-25 14:54:46.006042

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '30cb1ec9af6e'
down_revision = 'c4e81f27d5b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('researchers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched_at', sa.DateTime(), nullable=True))

    # Rows from before were ranked by the jobs of their time; only new events owe a ranking.
    op.execute("UPDATE needs SET matched_at = CURRENT_TIMESTAMP WHERE state = 'published'")
    op.execute("UPDATE researchers SET matched_at = CURRENT_TIMESTAMP WHERE state = 'approved'")


def downgrade():
    with op.batch_alter_table('researchers', schema=None) as batch_op:
        batch_op.drop_column('matched_at')

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_column('matched_at')

