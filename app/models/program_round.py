"""A program round (专项批次): phases and money rules are data, not code."""
import datetime as dt
from dataclasses import dataclass

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Column, Date, Integer, Numeric, String

from app.models.enums import LabelledEnum
from app.models.mixins import LabelledMixin, TimestampMixin
from app.utils import clock


class RoundPhase(LabelledEnum):
    not_started = "not_started"
    filing = "filing"
    matching = "matching"
    execution = "execution"
    evaluation = "evaluation"
    closed = "closed"


RoundPhase.__titles__ = {
    "not_started": _l("Not started"),
    "filing": _l("Needs filing"),
    "matching": _l("Matching and contract signing"),
    "execution": _l("Execution and self-acceptance"),
    "evaluation": _l("Performance evaluation"),
    "closed": _l("Closed"),
}


class RoundCalendar:
    """The phases of a round's five dates: of a ``ProgramRound`` row, and of a ``RoundDates``
    copy kept with a need's public page (``app/public/need_page.py``)."""

    def phase_on(self, day: dt.date) -> RoundPhase:
        """The phase a calendar day falls in; each deadline day still belongs to its phase."""
        if day < self.needs_filing_start:
            return RoundPhase.not_started
        for phase, end in (
            (RoundPhase.filing, self.needs_filing_end),
            (RoundPhase.matching, self.matching_end),
            (RoundPhase.execution, self.execution_end),
            (RoundPhase.evaluation, self.evaluation_end),
        ):
            if day <= end:
                return phase
        return RoundPhase.closed

    def phase_end(self, phase: RoundPhase):
        return {
            RoundPhase.filing: self.needs_filing_end,
            RoundPhase.matching: self.matching_end,
            RoundPhase.execution: self.execution_end,
            RoundPhase.evaluation: self.evaluation_end,
        }.get(phase)


@dataclass(frozen=True)
class RoundDates(RoundCalendar):
    """A round's dates as plain data, safe to keep across requests."""

    needs_filing_start: dt.date
    needs_filing_end: dt.date
    matching_end: dt.date
    execution_end: dt.date
    evaluation_end: dt.date

    @classmethod
    def of(cls, program_round) -> "RoundDates":
        return cls(program_round.needs_filing_start, program_round.needs_filing_end,
                   program_round.matching_end, program_round.execution_end,
                   program_round.evaluation_end)


class ProgramRound(RoundCalendar, LabelledMixin, TimestampMixin, Model):
    __reference_data__ = True
    __tablename__ = "program_rounds"
    __table_args__ = (
        CheckConstraint(
            "needs_filing_start <= needs_filing_end AND needs_filing_end <= matching_end"
            " AND matching_end <= execution_end AND execution_end <= evaluation_end",
            name="ck_round_phase_order",
        ),
        CheckConstraint("funding_cap > 0 AND min_need_amount >= 0 AND project_quota > 0",
                        name="ck_round_money"),
        CheckConstraint("publicity_days BETWEEN 1 AND 30", name="ck_round_publicity_days"),
    )
    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)
    name = Column(String(120), nullable=False)
    name_en = Column(String(200))
    document_number = Column(String(60))
    province = Column(String(20), nullable=False, default="湖北省")
    needs_filing_start = Column(Date, nullable=False)
    needs_filing_end = Column(Date, nullable=False)
    matching_end = Column(Date, nullable=False)
    execution_end = Column(Date, nullable=False)
    evaluation_end = Column(Date, nullable=False)
    min_need_amount = Column(Numeric(14, 2), nullable=False, default=100000)
    funding_cap = Column(Numeric(14, 2), nullable=False, default=100000)
    project_quota = Column(Integer, nullable=False, default=300)
    projects_per_enterprise = Column(Integer, nullable=False, default=1)
    allow_over_quota = Column(Boolean, nullable=False, default=False)
    # 公示: how many working days the proposed funded list stays open to objections.
    publicity_days = Column(Integer, nullable=False, default=5, server_default="5")

    @property
    def current_phase(self) -> RoundPhase:
        return self.phase_on(clock.today())
