"""enterprise whitelist status: found / not found / name mismatch instead of a yes-no flag

Revision ID: 5a4c85d559f5
Revises: 2cefba653ec2
Create Date: 2026-11-25 12:18:18.526191

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a4c85d559f5'
down_revision = '2cefba653ec2'
branch_labels = None
depends_on = None

STATUS = sa.Enum('unchecked', 'found', 'not_found', 'name_mismatch', name='ck_whiteliststatus',
                 native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whitelist_status', STATUS, server_default='unchecked',
                                      nullable=False))
    # Keep what was known: a flagged enterprise was found in the database.
    op.execute("UPDATE enterprises SET whitelist_status = 'found' WHERE on_whitelist")
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('on_whitelist')


def downgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_whitelist', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.execute("UPDATE enterprises SET on_whitelist = (whitelist_status = 'found')")
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        # SQLite's table copy would keep the CHECK that names the dropped column.
        batch_op.drop_constraint('ck_whiteliststatus', type_='check')
        batch_op.drop_column('whitelist_status')
