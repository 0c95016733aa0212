"""Append-only, hash-chained audit log of staff decisions, logins, exports and permission changes.

Each row is a link of one chain: ``hash = sha256(prev_hash + canonical JSON of the row)``, with
``seq`` the position in the chain (assigned at commit under a lock on ``audit_chain_head``, so
concurrent writers never fork it; see ``app/core/audit/__init__.py``). The head row also keeps the anchor left
by the retention purge (the hash of the last purged row), so a purged log still verifies.
"""
from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.models.mixins import utcnow

GENESIS = "0" * 64


class AuditLog(Model):
    __tablename__ = "audit_log"
    # Evidence of what was done and typed: stored as given (app/core/field_rules.py).
    __verbatim__ = True
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),
                      UniqueConstraint("seq", name="uq_audit_log_seq"))

    id = Column(Integer, primary_key=True)
    seq = Column(Integer, nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    actor = relationship("AppUser")
    # The name as it was: a renamed or removed account must not rewrite who did what.
    actor_name = Column(String(100))
    action = Column(String(60), nullable=False)
    subject_type = Column(String(30), nullable=False)
    subject_id = Column(Integer)
    before = Column(JSON)
    after = Column(JSON)
    ip = Column(String(45))
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    prev_hash = Column(String(64), nullable=False)
    hash = Column(String(64), nullable=False)

    def __str__(self):
        return f"{self.action} #{self.seq}"


class AuditChainHead(Model):
    """One row (id 1): the last link (seq, hash), the purge anchor, and the purge flag that the
    database trigger checks before letting a DELETE through."""

    __tablename__ = "audit_chain_head"
    id = Column(Integer, primary_key=True)
    seq = Column(Integer, nullable=False, default=0)
    hash = Column(String(64), nullable=False, default=GENESIS)
    anchor_seq = Column(Integer, nullable=False, default=0)
    anchor_hash = Column(String(64), nullable=False, default=GENESIS)
    purging = Column(Boolean, nullable=False, default=False)


class AuditCheck(Model):
    """One verification of the chain (by the daily job or ``flask audit verify``): the admin's
    desk shows the last, and a broken chain is word for every administrator."""

    __tablename__ = "audit_checks"
    id = Column(Integer, primary_key=True)
    checked_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    ok = Column(Boolean, nullable=False)
    rows_checked = Column(Integer, nullable=False, default=0)
    first_bad_seq = Column(Integer)
    first_bad_id = Column(Integer)  # the audit row, if one was found (not a key: rows are purged)
    reason = Column(String(300))
    source = Column(String(20), nullable=False)  # "job" or "cli"

    def __str__(self):
        return f"#{self.id}"
