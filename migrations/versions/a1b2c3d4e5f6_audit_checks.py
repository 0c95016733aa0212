"""audit checks: each verification of the audit chain, the last shown on the admin's desk

Revision ID: a1b2c3d4e5f6
Revises: 9f0a1b2c3d4e
Create Date: 2026-12-07 06:40:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = '9f0a1b2c3d4e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('rows_checked', sa.Integer(), nullable=False),
        sa.Column('first_bad_seq', sa.Integer(), nullable=True),
        sa.Column('first_bad_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_audit_checks_checked_at'), 'audit_checks', ['checked_at'],
                    unique=False)
    # The admin's desk keeps the last check under this table's row token.
    tokens = sa.table('cache_tokens', sa.column('name', sa.String), sa.column('token', sa.String))
    op.bulk_insert(tokens, [{'name': 'rows:audit_checks', 'token': uuid.uuid4().hex}])


def downgrade():
    op.execute("DELETE FROM cache_tokens WHERE name = 'rows:audit_checks'")
    op.drop_index(op.f('ix_audit_checks_checked_at'), table_name='audit_checks')
    op.drop_table('audit_checks')
