"""Enterprise and researcher records in the back office (verification comes through decide)."""
from flask_appbuilder.actions import action as fab_action
from flask_babel import lazy_gettext as _l

from app.domain.registration.accounts import (
    check_profile_editable,
    check_zone_in_region,
    recheck_whitelist,
)
from app.models import Action, Enterprise, Researcher
from app.views.base import ScopedModelRestApi, as_bad_request, interface
from app.views.uploads import UnicodeFileUploadField
from app.views.workflow import WorkflowModelView

ENTERPRISE_LABELS = {
    "name": _l("Enterprise name"), "credit_code": _l("Unified social credit code"),
    "sme_number": _l("Tech-SME registration number"), "region": _l("Region"),
    "zone": _l("High-tech zone"), "field": _l("Technical field"), "address": _l("Address"),
    "contact_name": _l("Contact person"), "phone": _l("Phone"), "email": _l("E-mail"),
    "license_file": _l("Business licence"), "sme_proof_file": _l("Tech-SME proof"),
    "whitelist_status": _l("Tech-SME database"), "state": _l("State"),
    "return_reason": _l("Reason for return"), "created_at": _l("Created"),
}


class EnterpriseModelView(WorkflowModelView):
    datamodel = interface(Enterprise)
    list_title = _l("Enterprises")
    show_title = _l("Enterprise")
    edit_title = _l("Edit enterprise")
    list_columns = ["name", "credit_code", "region", "zone", "whitelist_status", "state"]
    show_columns = ["name", "credit_code", "sme_number", "region", "zone", "field", "address",
                    "contact_name", "phone", "email", "license_file", "sme_proof_file",
                    "whitelist_status", "state", "return_reason", "created_at"]
    # Phone and e-mail are the account's identity: not edited here.
    edit_columns = ["name", "sme_number", "zone", "field", "address", "contact_name",
                    "license_file", "sme_proof_file"]
    edit_form_extra_fields = {
        "license_file": UnicodeFileUploadField(_l("Business licence")),
        "sme_proof_file": UnicodeFileUploadField(_l("Tech-SME proof")),
    }
    search_columns = ["name", "credit_code", "region", "whitelist_status", "state"]
    pinyin_search_columns = ("name",)
    base_order = ("name_pinyin", "asc")
    label_columns = ENTERPRISE_LABELS

    def pre_update(self, item):
        check_profile_editable(item)
        check_zone_in_region(item.zone, item.region_id)
        recheck_whitelist(item)
        super().pre_update(item)

    @fab_action("verify", _l("Verify"), _l("Verify the selected registrations?"), "fa-check")
    def verify(self, items):
        return self._act_on_list(items, Action.verify)


RESEARCHER_LABELS = {
    "name": _l("Name"), "institution": _l("Institution"), "position": _l("Position"),
    "title": _l("Professional title"), "degree": _l("Degree"), "fields": _l("Technical fields"),
    "keywords": _l("Expertise keywords"), "expertise": _l("Expertise summary"),
    "achievements": _l("Achievements"), "phone": _l("Phone"), "email": _l("E-mail"),
    "proof_file": _l("Proof document"), "willing_to_serve": _l("Willing to serve on site"),
    "state": _l("State"), "return_reason": _l("Reason for return"),
}


class ResearcherModelView(WorkflowModelView):
    datamodel = interface(Researcher)
    list_title = _l("Researchers")
    show_title = _l("Researcher")
    edit_title = _l("Edit researcher")
    list_columns = ["name", "institution", "position", "title", "state"]
    show_columns = ["name", "institution", "position", "title", "degree", "fields", "keywords",
                    "expertise", "achievements", "phone", "email", "proof_file",
                    "willing_to_serve", "state", "return_reason"]
    edit_columns = ["title", "degree", "fields", "keywords", "expertise", "achievements",
                    "proof_file"]
    edit_form_extra_fields = {"proof_file": UnicodeFileUploadField(_l("Proof document"))}
    search_columns = ["name", "position", "state"]
    pinyin_search_columns = ("name",)
    pinyin_search_relations = ("institution",)
    base_order = ("name_pinyin", "asc")
    label_columns = RESEARCHER_LABELS

    def pre_update(self, item):
        check_profile_editable(item)
        super().pre_update(item)

    @fab_action("approve", _l("Approve"), _l("Approve the selected researchers?"), "fa-check")
    def approve(self, items):
        return self._act_on_list(items, Action.approve)


class EnterpriseApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info", "put"}
    resource_name = "enterprise"
    datamodel = interface(Enterprise)
    list_columns = ["id", "name", "credit_code", "region.id", "region.name", "state"]
    show_columns = list_columns + ["address", "contact_name", "zone.id"]
    edit_columns = ["name", "address", "contact_name", "region", "zone"]
    add_columns = edit_columns

    def pre_update(self, item):
        with as_bad_request():
            check_zone_in_region(item.zone, item.region.id if item.region else item.region_id)
        super().pre_update(item)


class ResearcherApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info"}
    resource_name = "researcher"
    datamodel = interface(Researcher)
    list_columns = ["id", "name", "institution.name", "position", "state"]
    show_columns = list_columns + ["title", "keywords", "expertise"]
