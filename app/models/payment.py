"""拨付: the subsidy of a funded project paid in batches, never more than its funding. The rules
are app/domain/funding/payments.py."""
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
)
from sqlalchemy.orm import relationship

from app.models.enums import PaymentState
from app.models.mixins import (
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)


class Payment(TimestampMixin, VersionedMixin, Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_payment_amount_positive"),
        CheckConstraint("state <> 'paid' OR paid_on IS NOT NULL", name="ck_payment_paid_on"),
        CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL",
                        name="ck_payment_returned_reason"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        # The enterprise receives the subsidy; its bureau follows it. Copied from the project
        # (as the project copies it from the contract) so that the rule reads one column.
        return {"enterprise": cls.enterprise_id}

    id = Column(Integer, primary_key=True)
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    round_id = Column(Integer, ForeignKey("program_rounds.id"), nullable=False, index=True)
    round = relationship("ProgramRound")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    enterprise = relationship("Enterprise")
    batch = Column(String(60), nullable=False)  # 拨付批次, e.g. 2020年第一批
    amount = Column(Numeric(14, 2), nullable=False)
    planned_on = Column(Date, nullable=False)
    paid_on = Column(Date)
    payer = Column(String(120), nullable=False)  # 拨付单位
    voucher = Column(SafeFileColumn)  # 拨付凭证
    note = Column(Text, info={"max_length": 2000})
    state = state_column(PaymentState, PaymentState.planned, index=True)
    return_reason = Column(Text)

    def __str__(self):
        return f"{self.batch} #{self.id}" if self.batch else f"#{self.id}"
