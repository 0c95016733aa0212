"""Enterprises (企业) and the national tech-SME whitelist they are checked against."""
from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.enums import EnterpriseState, WhitelistStatus
from app.models.mixins import (
    PinyinMixin,
    SafeFileColumn,
    TimestampMixin,
    VersionedMixin,
    state_column,
)


class Enterprise(PinyinMixin, TimestampMixin, VersionedMixin, Model):
    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint(
            "state <> 'returned' OR return_reason IS NOT NULL", name="ck_enterprise_returned_reason"
        ),
        # the review queue: one state, in the list's order
        Index("ix_enterprises_state_pinyin", "state", "name_pinyin"),
    )
    @classmethod
    def jurisdiction_keys(cls):
        """What app/core/access/jurisdiction.py scopes this record by: the row *is* the enterprise."""
        return {"enterprise": cls.id}

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    credit_code = Column(String(18), unique=True, nullable=False)
    sme_number = Column(String(40), index=True)
    region_id = Column(Integer, ForeignKey("regions.id"), nullable=False, index=True)
    region = relationship("Region")
    zone_id = Column(Integer, ForeignKey("high_tech_zones.id"), nullable=True, index=True)
    zone = relationship("HighTechZone")
    field_id = Column(Integer, ForeignKey("tech_fields.id"), nullable=True)
    field = relationship("TechField")
    address = Column(String(300))
    contact_name = Column(String(60))
    phone = Column(String(20), unique=True)
    email = Column(String(120), unique=True)
    license_file = Column(SafeFileColumn)
    sme_proof_file = Column(SafeFileColumn)
    # Eligibility (notice §一(一)): in the national tech-SME database, checked automatically.
    whitelist_status = state_column(WhitelistStatus, WhitelistStatus.unchecked)
    state = state_column(EnterpriseState, EnterpriseState.draft, index=True)
    return_reason = Column(Text)

    needs = relationship("Need", back_populates="enterprise")

    def __str__(self):
        return self.name or ""


class SmeWhitelistEntry(Model):
    """One row of the imported national tech-SME database (科技型中小企业库)."""

    __tablename__ = "sme_whitelist"
    id = Column(Integer, primary_key=True)
    sme_number = Column(String(40), unique=True, nullable=False)
    credit_code = Column(String(18), index=True)
    name = Column(String(200))
    year = Column(Integer)
