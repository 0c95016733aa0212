"""Reference data and program rounds (Admin edits; Platform maintains the taxonomy)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField
from wtforms.validators import NumberRange, Optional

from app.domain.rounds import check_round
from app.models import (
    HighTechZone,
    Institution,
    NeedCategory,
    ProgramRound,
    Region,
    TechDomain,
    TechField,
)
from app.views.base import ScopedModelView, interface

LABELS = {
    "code": _l("Code"), "name": _l("Name"), "name_en": _l("English name"),
    "short_name": _l("Short name"), "kind": _l("Kind"), "region": _l("Region"),
    "level": _l("Level"), "domain": _l("Domain"), "keywords": _l("Keywords"),
    "description": _l("Description"), "type": _l("Type"),
}


class RegionModelView(ScopedModelView):
    datamodel = interface(Region)
    list_title = _l("Regions")
    list_columns = ["code", "name", "kind"]
    order_columns = ["code", "name"]
    base_order = ("code", "asc")
    label_columns = LABELS


class HighTechZoneModelView(ScopedModelView):
    datamodel = interface(HighTechZone)
    list_title = _l("High-tech zones")
    list_columns = ["code", "name", "level", "region"]
    base_order = ("code", "asc")
    label_columns = LABELS


class TechDomainModelView(ScopedModelView):
    datamodel = interface(TechDomain)
    list_title = _l("Technical domains")
    list_columns = ["code", "name", "name_en"]
    add_columns = edit_columns = ["code", "name", "name_en"]
    base_order = ("code", "asc")
    label_columns = LABELS


class TechFieldModelView(ScopedModelView):
    datamodel = interface(TechField)
    list_title = _l("Technical fields")
    list_columns = ["code", "name", "domain"]
    add_columns = edit_columns = ["code", "name", "name_en", "domain", "keywords"]
    base_order = ("code", "asc")
    label_columns = LABELS


class NeedCategoryModelView(ScopedModelView):
    datamodel = interface(NeedCategory)
    list_title = _l("Need categories")
    list_columns = ["name", "description"]
    base_order = ("sort_order", "asc")
    label_columns = LABELS


class InstitutionModelView(ScopedModelView):
    datamodel = interface(Institution)
    list_title = _l("Institutions")
    list_columns = ["name", "type", "region"]
    add_columns = edit_columns = ["name", "type", "region"]
    base_order = ("name_pinyin", "asc")
    search_columns = ["name", "type", "region"]
    pinyin_search_columns = ("name",)
    label_columns = LABELS


class ProgramRoundModelView(ScopedModelView):
    datamodel = interface(ProgramRound)
    list_title = _l("Program rounds")
    list_columns = ["code", "name", "needs_filing_end", "matching_end", "project_quota"]
    edit_columns = add_columns = [
        "code", "name", "name_en", "document_number", "province", "needs_filing_start",
        "needs_filing_end", "matching_end", "execution_end", "evaluation_end", "min_need_amount",
        "funding_cap", "project_quota", "projects_per_enterprise", "allow_over_quota",
        "publicity_days",
    ]
    label_columns = {
        **LABELS,
        "document_number": _l("Document number"), "province": _l("Province"),
        "needs_filing_start": _l("Needs filing opens"), "needs_filing_end": _l("Needs filing ends"),
        "matching_end": _l("Matching and signing end"), "execution_end": _l("Execution ends"),
        "evaluation_end": _l("Evaluation ends"), "min_need_amount": _l("Minimum need amount (CNY)"),
        "funding_cap": _l("Funding cap per project (CNY)"), "project_quota": _l("Project quota"),
        "projects_per_enterprise": _l("Projects per enterprise"),
        "allow_over_quota": _l("Allow approvals past the quota"),
        "publicity_days": _l("Publicity (working days)"),
    }
    # FAB marks a non-null boolean required, which an unticked box can never satisfy.
    add_form_extra_fields = edit_form_extra_fields = {
        "allow_over_quota": BooleanField(_l("Allow approvals past the quota")),
        "publicity_days": IntegerField(
            _l("Publicity (working days)"), [Optional(), NumberRange(min=1, max=30)],
            default=5, description=_l("How long the proposed funded list stays open to "
                                      "objections, in working days (公示期, usually 5).")),
    }

    def pre_add(self, item):
        check_round(item)
        super().pre_add(item)

    def pre_update(self, item):
        check_round(item)
        super().pre_update(item)
