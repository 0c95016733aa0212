"""Contracts and funded projects (issue 7 completes submission, funding rules and reports)."""
from flask_appbuilder.actions import action as fab_action
from flask_babel import lazy_gettext as _l

from ..models import Contract, Project
from ..workflows import Action
from .base import ScopedModelRestApi, interface
from .workflow import WorkflowModelView

LABELS = {
    "need": _l("Technical need"), "enterprise": _l("Enterprise"), "researcher": _l("Researcher"),
    "institution": _l("Institution (contract party)"), "amount": _l("Contract amount"),
    "signed_on": _l("Signing date"), "registration_number": _l("Registration number"),
    "contract_file": _l("Contract"), "invoice_file": _l("Invoice"),
    "transfer_file": _l("Transfer proof"), "state": _l("State"),
    "return_reason": _l("Reason for return"), "number": _l("Project number"),
    "funding": _l("Funding"), "round": _l("Program round"), "contract": _l("Contract"),
    "summary_report": _l("Summary report"), "evaluation_score": _l("Evaluation score"),
    "evaluation_result": _l("Evaluation result"),
}


class ContractModelView(WorkflowModelView):
    datamodel = interface(Contract)
    list_title = _l("Contracts")
    list_columns = ["need", "enterprise", "institution", "amount", "signed_on", "state"]
    show_columns = ["need", "enterprise", "researcher", "institution", "amount", "signed_on",
                    "registration_number", "contract_file", "invoice_file", "transfer_file",
                    "state", "return_reason"]
    base_order = ("id", "desc")
    label_columns = LABELS

    @fab_action("approve", _l("Approve"), _l("Approve the selected contracts?"), "fa-check")
    def approve(self, items):
        return self._act_on_list(items, Action.approve)


class ProjectModelView(WorkflowModelView):
    datamodel = interface(Project)
    list_title = _l("Funded projects")
    list_columns = ["number", "enterprise", "researcher", "funding", "state"]
    show_columns = ["number", "round", "contract", "enterprise", "researcher", "funding", "state",
                    "summary_report", "evaluation_score", "evaluation_result"]
    base_order = ("number", "asc")
    label_columns = LABELS


class ContractApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info"}
    resource_name = "contract"
    datamodel = interface(Contract)
    list_columns = ["id", "need.id", "enterprise.id", "amount", "state"]


class ProjectApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info"}
    resource_name = "project"
    datamodel = interface(Project)
    list_columns = ["id", "number", "enterprise.id", "funding", "state"]
