"""拨付: payments of funded projects' subsidy, planned, paid or returned

Revision ID: d7e8f9a0b1c2
Revises: c6d7e8f9a0b1
Create Date: 2026-12-07 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7e8f9a0b1c2'
down_revision = 'c6d7e8f9a0b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('batch', sa.String(length=60), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('planned_on', sa.Date(), nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=True),
        sa.Column('payer', sa.String(length=120), nullable=False),
        sa.Column('voucher', sa.Text(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('state', sa.Enum('planned', 'paid', 'returned', name='ck_paymentstate',
                                   native_enum=False, create_constraint=True, length=32),
                  server_default='planned', nullable=False),
        sa.Column('return_reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint('amount > 0', name='ck_payment_amount_positive'),
        sa.CheckConstraint("state <> 'paid' OR paid_on IS NOT NULL", name='ck_payment_paid_on'),
        sa.CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL",
                           name='ck_payment_returned_reason'),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.ForeignKeyConstraint(['round_id'], ['program_rounds.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('project_id', 'round_id', 'enterprise_id', 'state'):
        op.create_index(f'ix_payments_{column}', 'payments', [column])


def downgrade():
    for column in ('project_id', 'round_id', 'enterprise_id', 'state'):
        op.drop_index(f'ix_payments_{column}', table_name='payments')
    op.drop_table('payments')
