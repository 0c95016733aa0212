"""audit log: hash chain (seq, prev_hash, hash, actor_name), chain head, append-only triggers

Existing rows are linked in id order, so an upgraded log verifies from its first row. Then the
database itself refuses UPDATE and DELETE of audit rows (and TRUNCATE on PostgreSQL), except a
DELETE while audit_chain_head.purging is set in the same transaction (``flask audit purge``).

SQLite note: a later migration that rebuilds audit_log in batch mode drops its triggers; such a
migration must create them again (``create_triggers`` below).

Revision ID: 5258f41f6a5b
Revises: d99956f3b690
Create Date: 2026-11-25 17:09:24.677791

"""
import sqlalchemy as sa
from alembic import op

import text_rules  # migrations/text_rules.py: the rules as they stood, no app code


# revision identifiers, used by Alembic.
revision = '5258f41f6a5b'
down_revision = 'd99956f3b690'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND (SELECT purging FROM audit_chain_head WHERE id = 1) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGERS = [
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE refused)'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "WHEN (SELECT purging FROM audit_chain_head WHERE id = 1) IS NOT 1 "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (DELETE refused)'); END",
]


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def _link_existing_rows():
    """Chain the rows written before this revision, oldest first (the app's hash of then)."""
    audit_log = sa.table(
        "audit_log", sa.column("id", sa.Integer), sa.column("seq", sa.Integer),
        sa.column("actor_id", sa.Integer), sa.column("actor_name", sa.String),
        sa.column("action", sa.String), sa.column("subject_type", sa.String),
        sa.column("subject_id", sa.Integer), sa.column("before", sa.JSON),
        sa.column("after", sa.JSON), sa.column("ip", sa.String),
        sa.column("created_at", sa.DateTime), sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String))
    users = sa.table("ab_user", sa.column("id", sa.Integer), sa.column("username", sa.String))
    bind = op.get_bind()
    names = dict(bind.execute(sa.select(users.c.id, users.c.username)).all())
    prev, seq = GENESIS, 0
    for row in bind.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all():
        seq += 1
        values = dict(row, seq=seq, actor_name=names.get(row["actor_id"]))
        link = type("Row", (), values)
        digest = text_rules.audit_link_hash(prev, link)
        bind.execute(audit_log.update().where(audit_log.c.id == row["id"]).values(
            seq=seq, actor_name=values["actor_name"], prev_hash=prev, hash=digest))
        prev = digest
    return seq, prev


def upgrade():
    head = op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('anchor_seq', sa.Integer(), nullable=False),
        sa.Column('anchor_hash', sa.String(length=64), nullable=False),
        sa.Column('purging', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    seq, last = _link_existing_rows()
    op.bulk_insert(head, [dict(id=1, seq=seq, hash=last, anchor_seq=0, anchor_hash=GENESIS,
                               purging=False)])
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_audit_log_seq', ['seq'])
    create_triggers()


def downgrade():
    drop_triggers()
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_log_seq', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('actor_name')
        batch_op.drop_column('seq')
    op.drop_table('audit_chain_head')
