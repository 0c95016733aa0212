"""Idempotent loading of the reference data and the 2020 Hubei round (``flask seed``).

Rows are matched by their code; a second run finds everything in place and changes nothing.
"""
import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.domain.reference import data
from app.extensions import db
from app.models import (
    HighTechZone,
    NeedCategory,
    ProgramRound,
    Region,
    TechDomain,
    TechField,
)
from app.models.enums import RegionKind, ZoneLevel


def _upsert(model, code, values, counts):
    row = db.session.scalars(select(model).where(model.code == code)).first()
    if row is None:
        row = model(code=code, **values)
        db.session.add(row)
        counts["created"] += 1
        return row
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    counts["updated"] += int(changed)
    return row


def _round_values(spec):
    values = {k: v for k, v in spec.items() if k != "code"}
    for key in ("needs_filing_start", "needs_filing_end", "matching_end", "execution_end",
                "evaluation_end"):
        values[key] = dt.date.fromisoformat(values[key])
    for key in ("min_need_amount", "funding_cap"):
        values[key] = Decimal(values[key])
    return values


def seed_reference_data() -> dict:
    """Create or update regions, zones, the taxonomy, categories and the 2020 round.

    Flushes and commits once. Returns ``{"created": n, "updated": m}``.
    """
    counts = {"created": 0, "updated": 0}
    regions = {}
    for order, spec in enumerate(data.REGIONS):
        regions[spec["code"]] = _upsert(Region, spec["code"], {
            "name": spec["name"], "name_en": spec["name_en"], "short_name": spec["short"],
            "kind": RegionKind(spec["kind"]), "sort_order": order}, counts)
    db.session.flush()
    for spec in data.HIGH_TECH_ZONES:
        _upsert(HighTechZone, spec["code"], {
            "name": spec["name"], "name_en": spec["name_en"], "level": ZoneLevel(spec["level"]),
            "region_id": regions[spec["region_code"]].id}, counts)
    for spec in data.TECH_DOMAINS:
        domain = _upsert(TechDomain, spec["code"], {"name": spec["name"],
                                                    "name_en": spec["name_en"]}, counts)
        db.session.flush()
        for field in spec["fields"]:
            _upsert(TechField, field["code"], {
                "name": field["name"], "name_en": field["name_en"], "domain_id": domain.id,
                "keywords": " ".join(field.get("keywords", ()))}, counts)
    for order, spec in enumerate(data.NEED_CATEGORIES):
        _upsert(NeedCategory, spec["code"], {
            "name": spec["name"], "name_en": spec["name_en"],
            "description": spec["description"], "sort_order": order}, counts)
    _upsert(ProgramRound, data.ROUND_2020["code"], _round_values(data.ROUND_2020), counts)
    db.session.commit()
    return counts
