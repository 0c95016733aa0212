"""Supervision of public money (notice §五(四)): cases (疑点) opened by staff, and credit records
(失信) that bar a party from later rounds. The rules are app/domain/funding/supervision.py."""
from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    select,
)
from sqlalchemy.orm import relationship

from app.models.enums import CaseSource, CaseState
from app.models.mixins import TimestampMixin, VersionedMixin, state_column


class SupervisionCase(TimestampMixin, VersionedMixin, Model):
    """A 疑点 about a project: open → investigating → cleared, or violation (with the amount to
    recover and, as it comes back, the amount recovered)."""

    __tablename__ = "supervision_cases"
    __table_args__ = (
        CheckConstraint("state <> 'violation' OR findings IS NOT NULL",
                        name="ck_case_violation_findings"),
        CheckConstraint("amount_to_recover IS NULL OR amount_to_recover >= 0",
                        name="ck_case_amount_to_recover"),
        CheckConstraint("amount_recovered IS NULL OR amount_recovered >= 0",
                        name="ck_case_amount_recovered"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        # Staff of the enterprise's region follow it (a region key, not an enterprise key: the
        # parties never read the cases about them).
        from app.models.enterprise import Enterprise

        region = (select(Enterprise.region_id).where(Enterprise.id == cls.enterprise_id)
                  .correlate(cls).scalar_subquery())
        return {"region": region}

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    enterprise = relationship("Enterprise")
    source = state_column(CaseSource, CaseSource.manual)
    summary = Column(Text, nullable=False, info={"max_length": 4000})
    state = state_column(CaseState, CaseState.open, index=True)
    findings = Column(Text)
    amount_to_recover = Column(Numeric(14, 2))
    amount_recovered = Column(Numeric(14, 2))
    closed_at = Column(DateTime)

    def __str__(self):
        return f"#{self.id}"

    @property
    def round(self):
        return None  # a case follows no phase of the round


class CreditRecord(TimestampMixin, Model):
    """失信: from ``starts_on`` to ``ends_on`` (included) the enterprise or the researcher may
    file no need, proposal or contract. Kept, never deleted: it ends by its date."""

    __tablename__ = "credit_records"
    __table_args__ = (
        CheckConstraint("enterprise_id IS NOT NULL OR researcher_id IS NOT NULL",
                        name="ck_credit_record_party"),
        CheckConstraint("ends_on >= starts_on", name="ck_credit_record_period"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        return {"enterprise": cls.enterprise_id, "researcher": cls.researcher_id}

    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), index=True)
    enterprise = relationship("Enterprise")
    researcher_id = Column(Integer, ForeignKey("researchers.id"), index=True)
    researcher = relationship("Researcher")
    case_id = Column(Integer, ForeignKey("supervision_cases.id"), index=True)
    case = relationship("SupervisionCase")
    reason = Column(String(500), nullable=False)
    starts_on = Column(Date, nullable=False)
    ends_on = Column(Date, nullable=False)

    def __str__(self):
        return f"#{self.id}"
