"""Matches between needs and researchers, with the reasons they matched."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy import UniqueConstraint, select
from sqlalchemy.orm import relationship

from .enums import MatchDirection
from .mixins import TimestampMixin, state_column


class Match(TimestampMixin, Model):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("need_id", "researcher_id", name="uq_match_pair"),)

    @classmethod
    def jurisdiction_keys(cls):
        from .need import Need

        enterprise = select(Need.enterprise_id).where(Need.id == cls.need_id).scalar_subquery()
        return {"enterprise": enterprise, "researcher": cls.researcher_id}

    id = Column(Integer, primary_key=True)
    need_id = Column(Integer, ForeignKey("needs.id", ondelete="CASCADE"), nullable=False, index=True)
    need = relationship("Need")
    researcher_id = Column(Integer, ForeignKey("researchers.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    researcher = relationship("Researcher")
    score = Column(Float, nullable=False)
    reasons = Column(JSON, nullable=False, default=dict)  # {"fields": [...], "keywords": [...]}
    direction = state_column(MatchDirection, MatchDirection.need_to_researcher)
    pushed_at = Column(DateTime)  # pushed to the researcher (a digest)
    enterprise_pushed_at = Column(DateTime)  # pushed to the need's enterprise
    channels = Column(String(40))  # e.g. "site,email"
    # The researcher said "not interested": kept so that re-matching never pushes it again.
    dismissed = Column(Boolean, nullable=False, default=False)
    dismiss_reason = Column(Text)


class MatchRun(Model):
    """A full two-way re-match started by platform staff, with its progress."""

    __tablename__ = "match_runs"

    @classmethod
    def jurisdiction_keys(cls):
        return {}

    id = Column(Integer, primary_key=True)
    started_by_id = Column(Integer, ForeignKey("ab_user.id"))
    started_by = relationship("AppUser")
    started_at = Column(DateTime, nullable=False)
    finished_at = Column(DateTime)
    total = Column(Integer, nullable=False, default=0)  # needs to rank
    done = Column(Integer, nullable=False, default=0)
    matches = Column(Integer, nullable=False, default=0)
    error = Column(Text)
