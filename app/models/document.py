"""Verification codes of the documents the platform prints (推荐表, 立项审批表, 项目档案,
服务企业证明): each PDF carries one, and ``/verify/<code>`` confirms what it was issued for.

The row keeps what the public page may say (the kind, the record, the title and enterprise as
printed, the day of issue) and a SHA-256 of the key facts the document stated, so that a
document printed again with the same facts keeps its code and one issued before a change is
recognised as such. Rules: ``app/domain/documents/``.
"""
from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)

from app.models.mixins import utcnow


class DocumentCode(Model):
    __tablename__ = "document_codes"
    __table_args__ = (
        UniqueConstraint("code", name="uq_document_codes_code"),
        # One code per document and set of facts: printing it again gives the same code.
        UniqueConstraint("kind", "record_id", "facts_hash", name="uq_document_codes_facts"),
        Index("ix_document_codes_record", "kind", "record_id"),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False)  # without separators, upper case
    kind = Column(String(30), nullable=False)  # recommendation | approval | record | certificate
    record_id = Column(Integer, nullable=False)  # the need's or project's id, by ``kind``
    title = Column(String(300), nullable=False)  # as printed
    enterprise_name = Column(String(200), nullable=False)  # as printed
    facts_hash = Column(String(64), nullable=False)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    issued_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)  # the account that first printed it

    def __str__(self):
        return self.code or ""
