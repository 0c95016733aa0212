"""Reference data of SPEC §3: regions, high-tech zones, the technical-field taxonomy and
the five need categories. Loaded by ``flask seed`` from ``app/domain/reference/data.py``."""
from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.enums import RegionKind, ZoneLevel
from app.models.mixins import LabelledMixin, state_column


class Region(LabelledMixin, Model):
    __reference_data__ = True
    __tablename__ = "regions"
    id = Column(Integer, primary_key=True)
    code = Column(String(12), unique=True, nullable=False)
    name = Column(String(60), unique=True, nullable=False)
    name_en = Column(String(80))
    short_name = Column(String(20))
    kind = state_column(RegionKind, RegionKind.prefecture_city)
    sort_order = Column(Integer, nullable=False, default=0)

    zones = relationship("HighTechZone", back_populates="region", order_by="HighTechZone.code")


class HighTechZone(LabelledMixin, Model):
    __reference_data__ = True
    __tablename__ = "high_tech_zones"
    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)
    name = Column(String(100), unique=True, nullable=False)
    name_en = Column(String(160))
    level = state_column(ZoneLevel, ZoneLevel.provincial)
    region_id = Column(Integer, ForeignKey("regions.id"), nullable=False, index=True)
    region = relationship("Region", back_populates="zones")


class TechDomain(LabelledMixin, Model):
    """First level of 国家重点支持的高新技术领域."""

    __reference_data__ = True
    __tablename__ = "tech_domains"
    id = Column(Integer, primary_key=True)
    code = Column(String(8), unique=True, nullable=False)
    name = Column(String(60), unique=True, nullable=False)
    name_en = Column(String(120))
    fields = relationship("TechField", back_populates="domain", order_by="TechField.code")


class TechField(LabelledMixin, Model):
    """Second level of the taxonomy: what needs and researchers are classified by."""

    __reference_data__ = True
    __tablename__ = "tech_fields"
    id = Column(Integer, primary_key=True)
    code = Column(String(8), unique=True, nullable=False)
    name = Column(String(100), nullable=False)
    name_en = Column(String(160))
    domain_id = Column(Integer, ForeignKey("tech_domains.id"), nullable=False, index=True)
    domain = relationship("TechDomain", back_populates="fields")
    # Space-separated technical terms: the matching dictionary of this field.
    keywords = Column(Text, nullable=False, default="")


class NeedCategory(LabelledMixin, Model):
    """Exactly the five categories of the notice §一(二)."""

    __reference_data__ = True
    __tablename__ = "need_categories"
    id = Column(Integer, primary_key=True)
    code = Column(String(40), unique=True, nullable=False)
    name = Column(String(60), unique=True, nullable=False)
    name_en = Column(String(120))
    description = Column(Text, nullable=False, default="")
    sort_order = Column(Integer, nullable=False, default=0)
