"""Execution of a funded project (notice §四(三)): dated milestones, the researcher's service log
confirmed or disputed by the enterprise, and the mid-term check. The rules are
app/domain/funding/progress.py."""
from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from app.models.enums import MidtermResult, MilestoneState, RequestState, ServiceLogState
from app.models.mixins import (
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)


class _OfProject:
    """A record of a project's two parties: both read it, and the bureau of the region. The
    parties are copied from the project, so that the rule reads plain columns."""

    @classmethod
    def jurisdiction_keys(cls):
        return {"enterprise": cls.enterprise_id, "researcher": cls.researcher_id}

    @property
    def round(self):
        return None  # follows the project's deadline, not a phase of the round


class Milestone(_OfProject, TimestampMixin, VersionedMixin, Model):
    __tablename__ = "milestones"

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    due_on = Column(Date, nullable=False, index=True)
    deliverable = Column(Text, info={"max_length": 2000})
    reached_on = Column(Date)
    state = state_column(MilestoneState, MilestoneState.planned, index=True)

    def __str__(self):
        return self.title or ""


class ServiceLog(_OfProject, TimestampMixin, VersionedMixin, Model):
    """服务记录: on-site days, hours and the work done, as the researcher enters them."""

    __tablename__ = "service_logs"
    __table_args__ = (
        CheckConstraint("hours > 0", name="ck_service_log_hours"),
        CheckConstraint("ends_on >= starts_on", name="ck_service_log_period"),
        CheckConstraint("state <> 'disputed' OR dispute_reason IS NOT NULL",
                        name="ck_service_log_dispute_reason"),
    )

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    milestone_id = Column(Integer, ForeignKey("milestones.id"), index=True)
    milestone = relationship("Milestone")
    starts_on = Column(Date, nullable=False)
    ends_on = Column(Date, nullable=False)
    hours = Column(Numeric(6, 1), nullable=False)
    work_done = Column(Text, nullable=False, info={"max_length": 4000})
    attachment = Column(SafeFileColumn)
    state = state_column(ServiceLogState, ServiceLogState.submitted, index=True)
    dispute_reason = Column(Text)

    def __str__(self):
        return f"{self.starts_on} – {self.ends_on}" if self.starts_on else f"#{self.id}"


class MidtermCheck(_OfProject, TimestampMixin, Model):
    """中期检查 by the bureau of the region or the province: the result and the opinion."""

    __tablename__ = "midterm_checks"

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    checked_on = Column(Date, nullable=False)
    result = state_column(MidtermResult, MidtermResult.on_track)
    opinion = Column(Text, nullable=False, info={"max_length": 4000})
    checked_by_id = Column(Integer, ForeignKey("ab_user.id"))

    def __str__(self):
        return f"{self.checked_on}" if self.checked_on else f"#{self.id}"


class SatisfactionRating(_OfProject, TimestampMixin, Model):
    """At completion each side rates the other, once: the enterprise the researcher's service,
    the researcher the enterprise's support (1 to 5). The enterprise's rating feeds the
    evaluation's satisfaction points (app/domain/funding/progress.py)."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (
        UniqueConstraint("project_id", "by_side", name="uq_satisfaction_side"),
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_score"),
        CheckConstraint("by_side IN ('enterprise', 'researcher')", name="ck_satisfaction_side"),
    )

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    by_side = Column(String(20), nullable=False)
    score = Column(Integer, nullable=False)
    comment = Column(Text, info={"max_length": 2000})

    def __str__(self):
        return f"{self.score}/5" if self.score else f"#{self.id}"


class ChangeRequest(_OfProject, TimestampMixin, VersionedMixin, Model):
    """合同变更或终止: the enterprise asks, the province approves (its effect on the funding is
    applied then) or rejects with reasons."""

    __tablename__ = "change_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('change', 'termination')", name="ck_change_request_kind"),
        CheckConstraint("new_funding IS NULL OR new_funding > 0",
                        name="ck_change_request_funding"),
        CheckConstraint("state <> 'rejected' OR decision IS NOT NULL",
                        name="ck_change_request_decision"),
    )

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    reason = Column(Text, nullable=False, info={"max_length": 4000})
    new_funding = Column(Numeric(14, 2))
    state = state_column(RequestState, RequestState.submitted, index=True)
    decision = Column(Text, info={"max_length": 4000})

    def __str__(self):
        return f"#{self.id}"
