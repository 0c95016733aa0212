"""Technical proposals (技术方案), the enterprise's comparison scores, and the per-proposal
message threads (沟通)."""
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import relationship

from app.models.enums import ProposalState
from app.models.mixins import (
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
    utcnow,
)
from app.models.need import SECTION, Need

# States in which a proposal counts as the researcher's one active proposal to a need; the
# partial unique index below says so to the database, and ``Proposal.active_of`` asks with the
# same literals so that the index serves its queries.
ACTIVE_STATES = (ProposalState.draft, ProposalState.submitted, ProposalState.shortlisted,
                 ProposalState.selected)
ACTIVE = "state IN ({})".format(",".join(f"'{state.value}'" for state in ACTIVE_STATES))
# The states written into the SQL as literals, as the index's own predicate has them: PostgreSQL
# then proves that uq_proposal_active serves even a generic plan, and no IN list is expanded
# afresh on every execution (a need's page asks this on every view by a researcher).
_ACTIVE_LITERALS = tuple(literal_column(f"'{state.value}'") for state in ACTIVE_STATES)


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
        # A draft is the researcher's own until submitted: the enterprise side (and its
        # region's bureau) reaches a proposal only once it has left the draft state.
        enterprise = (select(Need.enterprise_id)
                      .where(Need.id == cls.need_id, cls.state != ProposalState.draft)
                      .correlate(cls).scalar_subquery())
        return {"enterprise": enterprise, "researcher": cls.researcher_id}

    @classmethod
    def active_of(cls, *columns, need_id, researcher_id):
        """SELECT ``columns`` of the researcher's active proposal to the need (at most one:
        ``uq_proposal_active``); the ids may be values or bind parameters."""
        return select(*columns).where(cls.need_id == need_id, cls.researcher_id == researcher_id,
                                      cls.state.in_(_ACTIVE_LITERALS)).limit(1)

    @classmethod
    def active_columns(cls, need_id, researcher_id) -> tuple:
        """The id and state of the researcher's active proposal to the need, as two scalar
        subqueries for a statement that reads the researcher anyway (the signed-in visitor of
        a need's page, ``app/core/access/visitor.py``)."""
        return tuple(cls.active_of(column, need_id=need_id, researcher_id=researcher_id)
                     .scalar_subquery() for column in (cls.id, cls.state))

    id = Column(Integer, primary_key=True)
    need_id = Column(Integer, ForeignKey("needs.id"), nullable=False, index=True)
    need = relationship("Need")
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    researcher = relationship("Researcher")
    approach = Column(Text, nullable=False, default="", info=SECTION)
    expected_results = Column(Text, nullable=False, default="", info=SECTION)
    timeline = Column(Text, nullable=False, default="", info=SECTION)
    budget = Column(Numeric(14, 2))
    team = Column(Text, nullable=False, default="", info=SECTION)
    attachment = Column(SafeFileColumn)
    state = state_column(ProposalState, ProposalState.draft, index=True)
    decline_reason = Column(Text)
    submitted_at = Column(DateTime)

    def __str__(self):
        return f"#{self.id}"


# The criteria an enterprise starts its comparison with (it may rename, reweigh, add, remove).
DEFAULT_CRITERIA = {
    "fit": (_l("Technical fit"), 40),
    "feasibility": (_l("Feasibility"), 30),
    "cost": (_l("Cost"), 20),
    "team": (_l("Team"), 10),
}


class ComparisonCriterion(Model):
    """One criterion of an enterprise's side-by-side comparison of the proposals to a need."""

    __tablename__ = "comparison_criteria"
    __table_args__ = (
        CheckConstraint("weight >= 0 AND weight <= 100", name="ck_criterion_weight"),
        CheckConstraint("code IS NOT NULL OR name IS NOT NULL", name="ck_criterion_named"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        enterprise = (select(Need.enterprise_id).where(Need.id == cls.need_id)
                      .correlate(cls).scalar_subquery())
        return {"enterprise": enterprise}

    id = Column(Integer, primary_key=True)
    need_id = Column(Integer, ForeignKey("needs.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    # A default criterion keeps its code so that each reader sees it in their own language;
    # one the enterprise named (or renamed) keeps the name it typed.
    code = Column(String(20))
    name = Column(String(60))
    weight = Column(Integer, nullable=False, default=0)

    @property
    def label(self):
        if self.name:
            return self.name
        return str(DEFAULT_CRITERIA[self.code][0]) if self.code in DEFAULT_CRITERIA else self.code


def _enterprise_of_proposal(proposal_id, row_model):
    """The enterprise whose need a proposal answers, for a row of ``row_model`` naming the
    proposal: one subquery with a join, correlated to the row. (Nested as a subquery inside a
    subquery, the inner one did not correlate with the row: it read the first proposal ever
    written, and that message's enterprise decided access to every message.)"""
    return (select(Need.enterprise_id).join(Proposal, Proposal.need_id == Need.id)
            .where(Proposal.id == proposal_id).correlate(row_model).scalar_subquery())


class ProposalScore(Model):
    """The enterprise's score (0–10) of one proposal on one criterion. Private to the enterprise."""

    __tablename__ = "proposal_scores"
    __table_args__ = (
        UniqueConstraint("proposal_id", "criterion_id", name="uq_proposal_score"),
        CheckConstraint("score >= 0 AND score <= 10", name="ck_proposal_score_range"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        return {"enterprise": _enterprise_of_proposal(cls.proposal_id, cls)}

    id = Column(Integer, primary_key=True)
    proposal_id = Column(Integer, ForeignKey("proposals.id"), nullable=False, index=True)
    criterion_id = Column(Integer, ForeignKey("comparison_criteria.id", ondelete="CASCADE"),
                          nullable=False, index=True)
    score = Column(Numeric(4, 1), nullable=False)


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_created_at", "created_at"),)  # the list, newest first

    @classmethod
    def jurisdiction_keys(cls):
        researcher = (select(Proposal.researcher_id).where(Proposal.id == cls.proposal_id)
                      .correlate(cls).scalar_subquery())
        return {"enterprise": _enterprise_of_proposal(cls.proposal_id, cls),
                "researcher": researcher}

    id = Column(Integer, primary_key=True)
    proposal_id = Column(Integer, ForeignKey("proposals.id"), nullable=False, index=True)
    proposal = relationship("Proposal")
    sender_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    sender = relationship("AppUser")
    body = Column(Text, nullable=False)
    attachment = Column(SafeFileColumn)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    read_at = Column(DateTime)
