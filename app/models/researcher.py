"""Researchers (科技人员) and their dispatching institutions (派出单位)."""
from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.orm import relationship

from app.models.enums import InstitutionType, Position, ResearcherState
from app.models.mixins import (
    PinyinMixin,
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)

researcher_fields = Table(
    "researcher_fields",
    Model.metadata,
    Column("researcher_id", Integer, ForeignKey("researchers.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", Integer, ForeignKey("tech_fields.id"), primary_key=True),
)


class Institution(PinyinMixin, TimestampMixin, Model):
    __tablename__ = "institutions"
    # A directory, not a private record: every form may offer the institutions in its dropdown
    # (a researcher choosing theirs), while lists stay scoped by region.
    __public_choices__ = True

    @classmethod
    def jurisdiction_keys(cls):
        return {"region": cls.region_id}

    id = Column(Integer, primary_key=True)
    name = Column(String(200), unique=True, nullable=False)
    type = state_column(InstitutionType, InstitutionType.university)
    region_id = Column(Integer, ForeignKey("regions.id"), nullable=True, index=True)
    region = relationship("Region")

    def __str__(self):
        return self.name or ""


class Researcher(PinyinMixin, TimestampMixin, VersionedMixin, Model):
    __tablename__ = "researchers"
    __pinyin_person__ = True
    __table_args__ = (
        CheckConstraint(
            "state <> 'returned' OR return_reason IS NOT NULL", name="ck_researcher_returned_reason"
        ),
        # the review queue: one state, in the list's order (a rare state walked 100,000 rows)
        Index("ix_researchers_state_pinyin", "state", "name_pinyin"),
    )
    @classmethod
    def jurisdiction_keys(cls):
        """A bureau sees the researchers of its region's institutions; a researcher itself."""
        region = (select(Institution.region_id).where(Institution.id == cls.institution_id)
                  .correlate(cls).scalar_subquery())
        return {"researcher": cls.id, "region": region}

    id = Column(Integer, primary_key=True)
    name = Column(String(60), nullable=False)
    institution_id = Column(Integer, ForeignKey("institutions.id"), nullable=False, index=True)
    institution = relationship("Institution")
    position = state_column(Position, Position.staff_researcher)
    title = Column(String(60))
    degree = Column(String(40))
    fields = relationship("TechField", secondary=researcher_fields)
    keywords = Column(String(300), nullable=False, default="")
    expertise = Column(Text, nullable=False, default="")
    achievements = Column(Text, nullable=False, default="")
    # Weighted words of the profile for matching, kept at write time (app/domain/matching/scoring.py).
    match_terms = Column(JSON, nullable=False, default=dict, server_default="{}")
    # When the other side was last ranked for it: None while a ranking is owed (the sweep
    # re-queues those whose job was lost, e.g. Redis down at publish).
    matched_at = Column(DateTime)
    phone = Column(String(20), unique=True)
    email = Column(String(120), unique=True)
    proof_file = Column(SafeFileColumn)
    willing_to_serve = Column(Boolean, nullable=False, default=False)
    state = state_column(ResearcherState, ResearcherState.submitted, index=True)
    return_reason = Column(Text)

    def __str__(self):
        return self.name or ""
