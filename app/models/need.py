"""Technical needs (技术需求), the centre of the platform."""
from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from app.models.enums import NeedState
from app.models.mixins import (
    PinyinMixin,
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)

# States in which a need is visible to the public and to every researcher.
PUBLIC_NEED_STATES = (NeedState.published, NeedState.docking)
# A template section holds at most this many characters (forms and API: app/core/field_rules).
SECTION_MAX_LENGTH = 5000
SECTION = {"max_length": SECTION_MAX_LENGTH}


class Need(PinyinMixin, TimestampMixin, VersionedMixin, Model):
    __tablename__ = "needs"
    __pinyin_source__ = "title"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_need_amount_positive"),
        CheckConstraint(
            "state NOT IN ('returned_by_bureau', 'returned_by_platform') OR return_reason IS NOT NULL",
            name="ck_need_returned_reason",
        ),
        CheckConstraint(
            "state NOT IN ('published', 'docking', 'contracted', 'closed') OR published_at IS NOT NULL",
            name="ck_need_published_at",
        ),
        # The public list walks one field's needs newest first (app/domain/needs/need_list.py); the filters'
        # columns are in the index so that skipping to a later page reads no row.
        Index("ix_needs_field_published", "field_id", "published_at", "id", "state",
              "category_id", "amount", "enterprise_id"),
    )

    @classmethod
    def jurisdiction_keys(cls):
        return {"enterprise": cls.enterprise_id, "public": cls.state.in_(PUBLIC_NEED_STATES)}

    id = Column(Integer, primary_key=True)
    round_id = Column(Integer, ForeignKey("program_rounds.id"), nullable=False, index=True)
    round = relationship("ProgramRound")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=False, index=True)
    enterprise = relationship("Enterprise", back_populates="needs")
    title = Column(String(200), nullable=False)
    category_id = Column(Integer, ForeignKey("need_categories.id"), nullable=False, index=True)
    category = relationship("NeedCategory")
    field_id = Column(Integer, ForeignKey("tech_fields.id"), nullable=False, index=True)
    field = relationship("TechField")
    # The standardized template of notice §三(一).
    background = Column(Text, nullable=False, default="", info=SECTION)
    problem = Column(Text, nullable=False, default="", info=SECTION)
    targets = Column(Text, nullable=False, default="", info=SECTION)
    basis = Column(Text, nullable=False, default="", info=SECTION)
    cooperation_mode = Column(Text, nullable=False, default="", info=SECTION)
    timeline = Column(Text, nullable=False, default="", info=SECTION)
    keywords = Column(String(300), nullable=False, default="")
    # Weighted words of the need for matching, kept at write time (app/domain/matching/scoring.py).
    match_terms = Column(JSON, nullable=False, default=dict, server_default="{}")
    # When the other side was last ranked for it: None while a ranking is owed (the sweep
    # re-queues those whose job was lost, e.g. Redis down at publish).
    matched_at = Column(DateTime)
    amount = Column(Numeric(14, 2), nullable=False)
    contact_name = Column(String(60))
    contact_phone = Column(String(20))
    attachment = Column(SafeFileColumn)
    state = state_column(NeedState, NeedState.draft, index=True)
    return_reason = Column(Text)
    recommendation = Column(Text)  # the bureau's 推荐意见
    submitted_at = Column(DateTime)
    published_at = Column(DateTime)

    def __str__(self):
        return self.title or ""
