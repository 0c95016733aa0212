"""the desk and the inbox: a user's work e-mail setting and last visits, the unread index, and
row tokens of the tables the desk counts

Revision ID: 9f0a1b2c3d4e
Revises: 8e1f2a3b4c5d
Create Date: 2026-12-07 06:00:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9f0a1b2c3d4e'
down_revision = '8e1f2a3b4c5d'
branch_labels = None
depends_on = None

# The desk's counts are kept under these tables' row tokens (app/core/list_counts.py).
TABLES = ('contracts', 'projects', 'messages', 'notifications', 'matches', 'match_runs',
          'ab_user', 'audit_log', 'program_rounds')
UNREAD = "channel = 'site' AND read_at IS NULL"


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_email', sa.String(length=10), nullable=False,
                                      server_default='daily'))
        batch_op.add_column(sa.Column('seen_at', sa.JSON(), nullable=False,
                                      server_default='{}'))
    op.create_index('ix_notifications_unread', 'notifications', ['user_id'], unique=False,
                    sqlite_where=sa.text(UNREAD), postgresql_where=sa.text(UNREAD))
    tokens = sa.table('cache_tokens', sa.column('name', sa.String), sa.column('token', sa.String))
    op.bulk_insert(tokens, [{'name': f'rows:{table}', 'token': uuid.uuid4().hex}
                            for table in TABLES])


def downgrade():
    names = ", ".join(f"'rows:{table}'" for table in TABLES)
    op.execute(f"DELETE FROM cache_tokens WHERE name IN ({names})")
    op.drop_index('ix_notifications_unread', table_name='notifications')
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('seen_at')
        batch_op.drop_column('work_email')
