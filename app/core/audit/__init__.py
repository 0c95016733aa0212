"""The audit log: writing rows, linking them into one hash chain, verifying it, purging it.

Who, when, from where, what, before/after of every staff decision, login, export and permission
change (网络安全法 §21; OWASP ASVS V7). ``record`` only queues a row on the session; the rows of a
transaction are linked and inserted in ONE place, the session's ``before_commit``:

1. lock the chain head (``UPDATE audit_chain_head SET seq = seq``: a row lock on PostgreSQL, the
   write lock on SQLite; a second writer waits there and then reads the head the first one
   committed, so two transactions can never link to the same predecessor);
2. give each queued row ``seq = head + 1 …``, ``prev_hash`` and its ``hash``;
3. move the head; the commit then inserts the rows and releases the lock.

Taking the lock at commit rather than at the first flush keeps it for the length of one commit,
not of a whole request (and never before the request's own row locks, so no lock-order deadlock).

Append-only: the ORM refuses UPDATE/DELETE of audit rows (mapper and bulk-statement hooks), and
the migration adds a database trigger that refuses them too, except a DELETE while the head's
``purging`` flag is set in the same transaction (``purge`` only).
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import delete, func, select, text

from app.extensions import db
from app.models import AuditLog
from app.models.audit import GENESIS, AuditChainHead, AuditCheck
from app.models.mixins import utcnow

PENDING = "audit_pending"
PURGING = "audit_purging"


class AuditLogReadOnly(RuntimeError):
    """Something tried to change or remove an audit row."""


class RetentionTooShort(ValueError):
    pass


def _plain(value):
    """JSON as it will read back from the database (so the hash recomputes identically)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _actor(actor):
    if actor is None and has_request_context():
        user = getattr(g, "user", None)
        actor = user if getattr(user, "is_authenticated", False) else None
    return actor


def client_ip():
    return request.remote_addr if has_request_context() else None


def record(action: str, subject, before=None, after=None, actor=None, subject_type=None,
           actor_name=None, session=None):
    """Queue an audit row for ``subject`` (a model instance, or ``None`` with ``subject_type``).

    The row is linked and inserted when the session commits; a rollback drops it with the rest
    of the transaction. Without a request (CLI, jobs) the actor is "system" unless given.
    """
    actor = _actor(actor)
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_name=(actor_name or getattr(actor, "username", None)
                    or (None if has_request_context() else "system")),
        action=action,
        subject_type=subject_type or type(subject).__tablename__,
        before=_plain(before),
        after=_plain(after),
        ip=client_ip(),
        created_at=utcnow(),
    )
    session = session if session is not None else db.session()
    # The subject's id is read when the row is linked: a record created in this transaction
    # (a new user) has one only after the flush.
    session.info.setdefault(PENDING, []).append((entry, subject))
    return entry


# -- the chain -------------------------------------------------------------------------------

def canonical(row) -> str:
    """The hashed content of a row: every field but id, prev_hash and hash, as sorted JSON."""
    fields = {
        "seq": row.seq,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "before": row.before,
        "after": row.after,
        "ip": row.ip,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link_hash(prev_hash: str, row) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def lock_head(connection):
    """Lock the chain head for the rest of the transaction and return it (created if missing)."""
    if connection.execute(text("UPDATE audit_chain_head SET seq = seq WHERE id = 1")).rowcount == 0:
        connection.execute(AuditChainHead.__table__.insert().values(
            id=1, seq=0, hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS, purging=False))
    return connection.execute(select(AuditChainHead.__table__).where(
        AuditChainHead.__table__.c.id == 1)).one()


def link_pending_rows(session):
    # Flush first (commit would anyway): it gives new subjects their ids and may queue rows
    # itself (permission changes are seen at flush).
    session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    connection = session.connection()
    head = lock_head(connection)
    seq, prev = head.seq, head.hash
    for entry, subject in pending:
        if subject is not None:
            entry.subject_id = getattr(subject, "id", None)
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = link_hash(prev, entry)
        session.add(entry)
    connection.execute(AuditChainHead.__table__.update().where(
        AuditChainHead.__table__.c.id == 1).values(seq=seq, hash=prev))
    session.flush()


def drop_pending_rows(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


# -- append-only in the ORM ------------------------------------------------------------------

def refuse_update(_mapper, _connection, target):
    raise AuditLogReadOnly(f"audit row {target.id} cannot be changed")


def refuse_delete(_mapper, _connection, target):
    raise AuditLogReadOnly(f"audit row {target.id} cannot be deleted")


def refuse_bulk_changes(state):
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditLog.__tablename__ and not state.session.info.get(PURGING):
        raise AuditLogReadOnly("audit rows cannot be changed or deleted")


# -- verification ----------------------------------------------------------------------------

@dataclass
class Verification:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain(session=None) -> Verification:
    """Walk the chain from the purge anchor to the head; report the first broken row."""
    session = session if session is not None else db.session()
    head = session.get(AuditChainHead, 1, populate_existing=True)
    expected_seq = (head.anchor_seq if head else 0) + 1
    prev = head.anchor_hash if head else GENESIS
    checked = 0
    # populate_existing: check what the database holds, not objects this session cached.
    result = session.execute(select(AuditLog).order_by(AuditLog.seq).execution_options(
        yield_per=500, populate_existing=True))
    try:
        for row in result.scalars():
            reason = None
            if row.seq != expected_seq:
                reason = f"expected link {expected_seq}, found {row.seq} (rows removed or inserted)"
            elif row.prev_hash != prev:
                reason = "prev_hash does not match the previous row"
            elif link_hash(row.prev_hash, row) != row.hash:
                reason = "content does not match its hash (row altered)"
            if reason:
                return Verification(False, checked, row.id, row.seq, reason)
            checked += 1
            expected_seq, prev = row.seq + 1, row.hash
    finally:
        result.close()  # a server-side cursor on PostgreSQL, also when we stop early
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS
    if head_seq != expected_seq - 1 or head_hash != prev:
        return Verification(False, checked, None, expected_seq,
                            f"the head says link {head_seq}; the last row is {expected_seq - 1} "
                            "(rows removed at the end)")
    return Verification(True, checked)


def record_check(source: str, session=None) -> AuditCheck:
    """Verify the chain and keep the result (the admin's desk shows the last). Flushes, no
    commit."""
    session = session if session is not None else db.session()
    result = verify_chain(session)
    check = AuditCheck(checked_at=utcnow(), ok=result.ok, rows_checked=result.checked,
                       first_bad_seq=result.first_bad_seq,
                       first_bad_id=result.first_bad_id, reason=result.reason[:300] or None,
                       source=source)
    session.add(check)
    session.flush()
    return check


# -- retention -------------------------------------------------------------------------------

def retention_days() -> int:
    return int(current_app.config.get("AUDIT_RETENTION_DAYS", 180)) if has_app_context() else 180


def purge(days: int, session=None, now: dt.datetime | None = None) -> int:
    """Remove the oldest rows, older than ``days`` days, keeping the chain verifiable.

    Only a prefix of the chain is removed (rows up to the first one still within the period),
    and the hash of the last removed row becomes the new anchor. Refuses fewer days than
    ``AUDIT_RETENTION_DAYS`` (网络安全法 §21: at least six months). Records itself; commits.
    """
    minimum = retention_days()
    if days < minimum:
        raise RetentionTooShort(f"audit rows are kept at least {minimum} days (asked: {days})")
    session = session if session is not None else db.session()
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    head = lock_head(session.connection())
    first_kept = session.scalar(select(func.min(AuditLog.seq)).where(AuditLog.created_at >= cutoff))
    last_purged = (first_kept - 1) if first_kept is not None else head.seq
    if last_purged <= head.anchor_seq:
        return 0
    anchor = session.scalar(select(AuditLog.hash).where(AuditLog.seq == last_purged))
    table = AuditChainHead.__table__
    session.execute(table.update().where(table.c.id == 1).values(purging=True))
    session.info[PURGING] = True
    try:
        count = session.execute(delete(AuditLog).where(AuditLog.seq <= last_purged)).rowcount
    finally:
        session.info.pop(PURGING, None)
    session.execute(table.update().where(table.c.id == 1).values(
        purging=False, anchor_seq=last_purged, anchor_hash=anchor))
    record("audit.purge", None, subject_type="audit_log", session=session,
           after={"removed": count, "days": days, "anchor_seq": last_purged,
                  "cutoff": cutoff.isoformat()})
    session.commit()
    return count
