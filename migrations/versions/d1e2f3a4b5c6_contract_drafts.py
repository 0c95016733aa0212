"""contracts: a `draft` state, saved and checked before it is submitted to the province

Revision ID: d1e2f3a4b5c6
Revises: c0d1e2f3a4b5
Create Date: 2026-12-07 10:20:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd1e2f3a4b5c6'
down_revision = 'c0d1e2f3a4b5'
branch_labels = None
depends_on = None

OLD_STATES = ('submitted', 'approved', 'returned')
NEW_STATES = ('draft', 'submitted', 'approved', 'returned')


def _state(values):
    return sa.Enum(*values, name='ck_contractstate', native_enum=False,
                   create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=_state(OLD_STATES), type_=_state(NEW_STATES),
                              existing_nullable=False, existing_server_default='submitted')


def downgrade():
    # A draft was never sent: it goes as a returned contract would, back to its owner's hands.
    op.execute("UPDATE contracts SET state = 'returned', "
               "return_reason = COALESCE(return_reason, 'draft') WHERE state = 'draft'")
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=_state(NEW_STATES), type_=_state(OLD_STATES),
                              existing_nullable=False, existing_server_default='submitted')
