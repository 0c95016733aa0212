"""Technology development contracts (技术开发合同) and the funded projects they become."""
import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy.orm import relationship

from app.models.enums import ContractState, EvaluationResult, ProjectState
from app.models.mixins import (
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)
from app.models.program_round import ProgramRound
from app.utils import clock

# A project still owes its summary report or self-acceptance.
OPEN_PROJECT_STATES = (ProjectState.funded, ProjectState.reported)
# Projects that hold a place of the round's quota and its funding: all but those withdrawn
# after an objection and those whose funding a violation revoked.
COUNTED_PROJECT_STATES = tuple(s for s in ProjectState
                               if s not in (ProjectState.withdrawn, ProjectState.revoked))
# A terminated project keeps its place with the funding it was paid (its funding is lowered to
# that on termination); it is paid nothing more.
# Projects whose funding is final and running: past their 公示 (app/domain/funding/
# publicity.py), not suspended by a supervision case (they are not paid meanwhile).
FINAL_PROJECT_STATES = (ProjectState.funded, ProjectState.reported, ProjectState.accepted,
                        ProjectState.evaluated)


class Contract(TimestampMixin, VersionedMixin, Model):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_contract_amount_positive"),
        CheckConstraint(
            "state <> 'returned' OR return_reason IS NOT NULL", name="ck_contract_returned_reason"
        ),
        # One contract per selected proposal; a returned one is corrected, not written anew.
        UniqueConstraint("proposal_id", name="uq_contract_proposal"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        return {"enterprise": cls.enterprise_id, "researcher": cls.researcher_id}

    id = Column(Integer, primary_key=True)
    round_id = Column(Integer, ForeignKey("program_rounds.id"), nullable=False, index=True)
    round = relationship("ProgramRound")
    need_id = Column(Integer, ForeignKey("needs.id"), nullable=False, index=True)
    need = relationship("Need")
    proposal_id = Column(Integer, ForeignKey("proposals.id"), nullable=True)
    proposal = relationship("Proposal")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    enterprise = relationship("Enterprise")
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    researcher = relationship("Researcher")
    institution_id = Column(Integer, ForeignKey("institutions.id"), nullable=False)
    institution = relationship("Institution")
    amount = Column(Numeric(14, 2), nullable=False)
    signed_on = Column(Date, nullable=False)
    registration_number = Column(String(60))
    contract_file = Column(SafeFileColumn, nullable=False)
    invoice_file = Column(SafeFileColumn, nullable=False)
    invoice_amount = Column(Numeric(14, 2))
    invoice_date = Column(Date)
    invoice_issuer = Column(String(200))  # 开票方, as printed on the invoice
    transfer_file = Column(SafeFileColumn, nullable=False)
    transfer_amount = Column(Numeric(14, 2))
    transfer_date = Column(Date)
    transfer_payee = Column(String(200))  # 收款方, as printed on the bank record
    # SHA-256 of each upload, so that reviewers see a file used in another contract.
    contract_file_hash = Column(String(64), index=True)
    invoice_file_hash = Column(String(64), index=True)
    transfer_file_hash = Column(String(64), index=True)
    state = state_column(ContractState, ContractState.submitted, index=True)
    return_reason = Column(Text)

    def __str__(self):
        return f"#{self.id}"


class Project(TimestampMixin, VersionedMixin, Model):
    __tablename__ = "projects"
    __table_args__ = (
        # Notice §四(二): 每家企业仅限一项 — enforced by the database, not only by the code.
        UniqueConstraint("round_id", "enterprise_id", name="uq_project_enterprise_round"),
        CheckConstraint("funding > 0", name="ck_project_funding_positive"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        return {"enterprise": cls.enterprise_id, "researcher": cls.researcher_id}

    id = Column(Integer, primary_key=True)
    number = Column(String(30), unique=True, nullable=False)
    round_id = Column(Integer, ForeignKey("program_rounds.id"), nullable=False, index=True)
    round = relationship("ProgramRound")
    contract_id = Column(Integer, ForeignKey("contracts.id"), nullable=False, unique=True)
    contract = relationship("Contract")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    enterprise = relationship("Enterprise")
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=False, index=True)
    researcher = relationship("Researcher")
    funding = Column(Numeric(14, 2), nullable=False)
    state = state_column(ProjectState, ProjectState.funded, index=True)
    # 公示: the list the project was published on, and when its funding became final.
    publicity_id = Column(Integer, ForeignKey("publicities.id"), index=True)
    publicity = relationship("Publicity", back_populates="projects")
    funded_at = Column(DateTime)
    # 保障条件 (notice §四(三)): the working conditions the enterprise gives the researcher, and
    # the research posts it opens to PhD students (app/domain/funding/progress.py).
    support_conditions = Column(Text, info={"max_length": 2000})
    phd_posts = Column(Integer)
    summary_report = Column(SafeFileColumn)
    summary_submitted_at = Column(DateTime)
    # The researcher's co-signature of the summary report (会签), required for self-acceptance.
    researcher_confirmed_at = Column(DateTime)
    self_accepted_at = Column(DateTime)
    # 绩效评价: points per criterion ({code: points}, criteria in app/domain/funding/execution.py), their
    # total, the result derived from the total, and the province's opinion.
    evaluation_scores = Column(JSON)
    evaluation_score = Column(Numeric(5, 2))
    evaluation_result = Column(Enum(
        EvaluationResult, native_enum=False, length=32,
        values_callable=lambda e: [m.value for m in e], validate_strings=True,
        create_constraint=True, name="ck_evaluationresult"))
    evaluation_opinion = Column(Text)
    evaluated_at = Column(DateTime)

    def __str__(self):
        return self.number or ""

    @property
    def deadline(self):
        """The round's execution end: summary report and self-acceptance are due by then."""
        return self.round.execution_end if self.round is not None else None

    def days_left(self, today: dt.date | None = None) -> int | None:
        deadline = self.deadline
        return None if deadline is None else (deadline - (today or clock.today())).days

    def deadline_passed(self, today: dt.date | None = None) -> bool:
        """The round's execution end lies behind ``today`` (the deadline day itself still
        counts, as ``ProgramRound.phase_on`` counts it in the execution phase)."""
        left = self.days_left(today)
        return left is not None and left < 0

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Past the round's execution end and not yet self-accepted: exactly the open projects
        that may no longer report, co-sign or self-accept (``check_before_execution_end``)."""
        return self.state in OPEN_PROJECT_STATES and self.deadline_passed(today)

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    @classmethod
    def overdue_clause(cls, today: dt.date | None = None):
        """``is_overdue`` as a WHERE clause on Project."""
        from_round = select(ProgramRound.id).where(
            ProgramRound.execution_end < (today or clock.today()))
        return and_(cls.state.in_(OPEN_PROJECT_STATES), cls.round_id.in_(from_round))
