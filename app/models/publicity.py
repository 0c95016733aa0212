"""公示 of the proposed funded list, the objections (异议) lodged against it, and the working-day
calendar its window is counted in. The rules are app/domain/funding/publicity.py."""
from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from app.models.enums import ObjectionState
from app.models.mixins import (
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)


class Publicity(TimestampMixin, VersionedMixin, Model):
    """One published list of proposed projects of a round and its objection window: anyone may
    object from ``starts_on`` to ``ends_on`` (Beijing dates, both included). Closed once every
    project on it is funded or withdrawn; its page then reads as the announcement of the final
    list, kept in ``final_list``.

    No jurisdiction keys: the list is public; in the back office only global staff manage it."""

    __tablename__ = "publicities"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ck_publicity_window"),)

    id = Column(Integer, primary_key=True)
    round_id = Column(Integer, ForeignKey("program_rounds.id"), nullable=False, index=True)
    round = relationship("ProgramRound")
    title = Column(String(200), nullable=False)
    starts_on = Column(Date, nullable=False)
    ends_on = Column(Date, nullable=False)
    working_days = Column(Integer, nullable=False)
    published_by_id = Column(Integer, ForeignKey("ab_user.id"))
    closed_at = Column(DateTime, index=True)
    # The list as announced when it closed (publicity.announcement): later changes to a project
    # (a revocation, a funding change) do not rewrite what was published.
    final_list = Column(JSON)
    projects = relationship("Project", back_populates="publicity", order_by="Project.number")

    def __str__(self):
        return self.title or ""

    def is_open_on(self, day) -> bool:
        return self.closed_at is None and self.starts_on <= day <= self.ends_on


class Objection(TimestampMixin, VersionedMixin, Model):
    """异议: lodged by anyone (no account) against one project of an open publicity; the
    province upholds it (the project's funding is withdrawn) or dismisses it, with reasons.

    Holds the objector's name and contact: no jurisdiction keys, so only global staff read it
    (the enterprise learns of the outcome, never of who objected)."""

    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint("state = 'lodged' OR decision_reason IS NOT NULL",
                        name="ck_objection_decided_with_reason"),
    )

    id = Column(Integer, primary_key=True)
    publicity_id = Column(Integer, ForeignKey("publicities.id"), nullable=False, index=True)
    publicity = relationship("Publicity")
    project_id = Column(Integer, ForeignKey("projects.id"), nullable=False, index=True)
    project = relationship("Project")
    name = Column(String(60), nullable=False)
    phone = Column(String(20), nullable=False)
    email = Column(String(120))
    content = Column(Text, nullable=False, info={"max_length": 2000})
    attachment = Column(SafeFileColumn)
    state = state_column(ObjectionState, ObjectionState.lodged, index=True)
    decision_reason = Column(Text)
    decided_at = Column(DateTime)

    def __str__(self):
        return f"#{self.id}"

    @property
    def round(self):
        """The engine's phase check reads ``round``; an objection follows its window, not a
        phase of the round."""
        return None


class WorkingDayAdjustment(Model):
    """A day the province declares a working day or a holiday, over the maintained calendar
    (chinese-calendar): for the years that library does not know yet, or a local rest day."""

    __reference_data__ = True
    __tablename__ = "working_day_adjustments"

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    working = Column(Boolean, nullable=False, default=False)
    note = Column(String(120))

    def __str__(self):
        return self.day.isoformat() if self.day else ""
