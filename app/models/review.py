"""Review records: who moved which record from which state to which, when, and why."""
from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.enums import state_title
from app.models.mixins import utcnow


class ReviewRecord(Model):
    __tablename__ = "review_records"
    __table_args__ = (Index("ix_review_subject", "subject_type", "subject_id"),
                      Index("ix_review_created_at", "created_at"))  # the list, newest first

    id = Column(Integer, primary_key=True)
    subject_type = Column(String(30), nullable=False)  # need | enterprise | researcher | ...
    subject_id = Column(Integer, nullable=False)
    action = Column(String(30), nullable=False)
    from_state = Column(String(32), nullable=False)
    to_state = Column(String(32), nullable=False)
    opinion = Column(Text)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    actor = relationship("AppUser")
    created_at = Column(DateTime, nullable=False, default=utcnow)

    @property
    def from_title(self):
        return state_title(self.subject_type, self.from_state)

    @property
    def to_title(self):
        return state_title(self.subject_type, self.to_state)
