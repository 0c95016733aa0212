"""Technical proposals (技术方案) and the per-proposal message threads (沟通)."""
from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, Numeric, Text, select, text
from sqlalchemy.orm import relationship

from .enums import ProposalState
from .mixins import SafeFileColumn, TimestampMixin, VersionedMixin, state_column, utcnow


ACTIVE = "state IN ('draft','submitted','shortlisted','selected')"


class Proposal(TimestampMixin, VersionedMixin, Model):
    __tablename__ = "proposals"
    __table_args__ = (
        # One active proposal per researcher per need; withdrawn/declined ones may be followed.
        Index(
            "uq_proposal_active",
            "need_id",
            "researcher_id",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
    )

    @classmethod
    def jurisdiction_keys(cls):
        from .need import Need

        enterprise = select(Need.enterprise_id).where(Need.id == cls.need_id).scalar_subquery()
        return {"enterprise": enterprise, "researcher": cls.researcher_id}

    id = Column(Integer, primary_key=True)
    need_id = Column(Integer, ForeignKey("needs.id"), nullable=False, index=True)
    need = relationship("Need")
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    researcher = relationship("Researcher")
    approach = Column(Text, nullable=False, default="")
    expected_results = Column(Text, nullable=False, default="")
    timeline = Column(Text, nullable=False, default="")
    budget = Column(Numeric(14, 2))
    team = Column(Text, nullable=False, default="")
    attachment = Column(SafeFileColumn)
    state = state_column(ProposalState, ProposalState.draft, index=True)
    decline_reason = Column(Text)
    submitted_at = Column(DateTime)

    def __str__(self):
        return f"#{self.id}"


class Message(Model):
    __tablename__ = "messages"

    @classmethod
    def jurisdiction_keys(cls):
        from .need import Need

        proposal = select(Proposal.need_id).where(Proposal.id == cls.proposal_id).scalar_subquery()
        enterprise = select(Need.enterprise_id).where(Need.id == proposal).scalar_subquery()
        researcher = select(Proposal.researcher_id).where(Proposal.id == cls.proposal_id)
        return {"enterprise": enterprise, "researcher": researcher.scalar_subquery()}

    id = Column(Integer, primary_key=True)
    proposal_id = Column(Integer, ForeignKey("proposals.id"), nullable=False, index=True)
    proposal = relationship("Proposal")
    sender_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    sender = relationship("AppUser")
    body = Column(Text, nullable=False)
    attachment = Column(SafeFileColumn)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    read_at = Column(DateTime)
