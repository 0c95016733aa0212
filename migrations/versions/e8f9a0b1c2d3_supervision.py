"""supervision: cases about funded projects, credit records that bar filings (the project states
suspended, revoked and terminated came with c6d7e8f9a0b1)

Revision ID: e8f9a0b1c2d3
Revises: d7e8f9a0b1c2
Create Date: 2026-12-07 20:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e8f9a0b1c2d3'
down_revision = 'd7e8f9a0b1c2'
branch_labels = None
depends_on = None

def _timestamps():
    return [sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False)]


def upgrade():
    op.create_table(
        'supervision_cases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.Enum('cross_check', 'objection', 'audit', 'manual',
                                    name='ck_casesource', native_enum=False,
                                    create_constraint=True, length=32),
                  server_default='manual', nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('state', sa.Enum('open', 'investigating', 'cleared', 'violation',
                                   name='ck_casestate', native_enum=False,
                                   create_constraint=True, length=32),
                  server_default='open', nullable=False),
        sa.Column('findings', sa.Text(), nullable=True),
        sa.Column('amount_to_recover', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('amount_recovered', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        *_timestamps(),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint("state <> 'violation' OR findings IS NOT NULL",
                           name='ck_case_violation_findings'),
        sa.CheckConstraint('amount_to_recover IS NULL OR amount_to_recover >= 0',
                           name='ck_case_amount_to_recover'),
        sa.CheckConstraint('amount_recovered IS NULL OR amount_recovered >= 0',
                           name='ck_case_amount_recovered'),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('project_id', 'enterprise_id', 'state'):
        op.create_index(f'ix_supervision_cases_{column}', 'supervision_cases', [column])
    op.create_table(
        'credit_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=True),
        sa.Column('researcher_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint('enterprise_id IS NOT NULL OR researcher_id IS NOT NULL',
                           name='ck_credit_record_party'),
        sa.CheckConstraint('ends_on >= starts_on', name='ck_credit_record_period'),
        sa.ForeignKeyConstraint(['case_id'], ['supervision_cases.id']),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id']),
        sa.ForeignKeyConstraint(['researcher_id'], ['researchers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('enterprise_id', 'researcher_id', 'case_id'):
        op.create_index(f'ix_credit_records_{column}', 'credit_records', [column])


def downgrade():
    for column in ('enterprise_id', 'researcher_id', 'case_id'):
        op.drop_index(f'ix_credit_records_{column}', table_name='credit_records')
    op.drop_table('credit_records')
    for column in ('project_id', 'enterprise_id', 'state'):
        op.drop_index(f'ix_supervision_cases_{column}', table_name='supervision_cases')
    op.drop_table('supervision_cases')
