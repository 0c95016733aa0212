"""notification delivery: link token, open tracking, claim time, retry time, state `sending`

Revision ID: c4e81f27d5b6
Revises: 5f49e1675b94
Create Date: 2026-11-26 10:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e81f27d5b6'
down_revision = '5f49e1675b94'
branch_labels = None
depends_on = None

OLD_STATES = ('pending', 'sent', 'failed')
NEW_STATES = ('pending', 'sending', 'sent', 'failed')


def _state(values):
    return sa.Enum(*values, name='ck_notificationstate', native_enum=False,
                   create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('state', existing_type=_state(OLD_STATES), type_=_state(NEW_STATES),
                              existing_nullable=False, existing_server_default='pending')
    # Rows written before now get their own unguessable token, as new rows do.
    bind = op.get_bind()
    notifications = sa.table('notifications', sa.column('id', sa.Integer),
                             sa.column('token', sa.String))
    for (row_id,) in bind.execute(sa.select(notifications.c.id)).all():
        bind.execute(notifications.update().where(notifications.c.id == row_id)
                     .values(token=secrets.token_urlsafe(16)))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_token'), ['token'])


def downgrade():
    # A row caught mid-send goes back to pending, which the older code sends again.
    op.execute("UPDATE notifications SET state = 'pending' WHERE state = 'sending'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_token'), type_='unique')
        batch_op.alter_column('state', existing_type=_state(NEW_STATES), type_=_state(OLD_STATES),
                              existing_nullable=False, existing_server_default='pending')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('opened_at')
        batch_op.drop_column('token')
