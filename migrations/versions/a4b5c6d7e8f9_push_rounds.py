"""push_rounds and push_round_blocks: a push round split into blocks of researchers and of
enterprises, one RQ job each, with a state per block; one round per period

Revision ID: a4b5c6d7e8f9
Revises: f3a4b5c6d7e8
Create Date: 2026-12-07 17:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4b5c6d7e8f9'
down_revision = 'f3a4b5c6d7e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'push_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('digests', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('period'),
    )
    op.create_table(
        'push_round_blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=12), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('first_id', sa.Integer(), nullable=True),
        sa.Column('last_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('digests', sa.Integer(), nullable=False),
        sa.Column('matches', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['push_rounds.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'side', 'number', name='uq_push_round_block'),
    )


def downgrade():
    op.drop_table('push_round_blocks')
    op.drop_table('push_rounds')
