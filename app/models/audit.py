"""Append-only audit log of state changes and staff decisions."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship

from .mixins import utcnow


class AuditLog(Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id = Column(Integer, primary_key=True)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    actor = relationship("AppUser")
    action = Column(String(60), nullable=False)
    subject_type = Column(String(30), nullable=False)
    subject_id = Column(Integer)
    before = Column(JSON)
    after = Column(JSON)
    ip = Column(String(45))
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
