"""lock accounts after repeated wrong passwords

Revision ID: d99956f3b690
Revises: f305289e69fe
Create Date: 2026-11-25 17:07:40.761048

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd99956f3b690'
down_revision = 'f305289e69fe'
branch_labels = None
depends_on = None


def upgrade():
    # The end of a lockout (UTC); NULL when the account is not locked. The count of wrong
    # passwords in a row is FAB's own fail_login_count.
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
