"""Contracts (submitted by the enterprise, approved by the province) and funded projects.

Projects: the enterprise uploads the summary report (edit) and submits it, the researcher
co-signs and the enterprise self-accepts (decide page); the province fills in the score sheet
(evaluate page); staff see the overdue projects; the approval form, the project's record
and, once evaluated, the researcher's certificate of service are printed as PDF
(app/views/documents.py).
The rules are in ``app/domain/funding/contracts.py``, ``app/domain/funding/allocation.py`` and ``app/domain/funding/execution.py``.
"""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateField, DecimalField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.access import jurisdiction
from app.domain.funding import allocation as funding
from app.domain.funding import execution, progress
from app.domain.funding.checks import checks_of
from app.domain.funding.contracts import (
    check_editable,
    prepare_new_contract,
    why_no_new_contract,
)
from app.domain.funding.supervision import SUPERVISED_PROJECT_STATES
from app.domain.rounds import current_round
from app.extensions import db
from app.models import (
    Action,
    Contract,
    ContractState,
    ProgramRound,
    Project,
    ProjectState,
)
from app.models.contract import FINAL_PROJECT_STATES
from app.views import documents
from app.views.base import ScopedModelRestApi, interface
from app.views.uploads import UnicodeFileUploadField
from app.views.workflow import WorkflowModelView
from app.workflows import WorkflowError

LABELS = {
    "need": _l("Technical need"), "enterprise": _l("Enterprise"), "researcher": _l("Researcher"),
    "institution": _l("Institution (contract party)"), "amount": _l("Contract amount (CNY)"),
    "signed_on": _l("Signing date"), "registration_number": _l("Registration number"),
    "contract_file": _l("Contract"), "invoice_file": _l("Invoice"),
    "transfer_file": _l("Transfer proof"), "state": _l("State"),
    "return_reason": _l("Reason for return"), "number": _l("Project number"),
    "funding": _l("Funding (CNY)"), "round": _l("Program round"), "contract": _l("Contract"),
    "summary_report": _l("Summary report"), "evaluation_score": _l("Evaluation score"),
    "evaluation_result": _l("Evaluation result"),
    "invoice_amount": _l("Invoice amount (CNY)"), "invoice_date": _l("Invoice date"),
    "invoice_issuer": _l("Invoice issued by"), "transfer_amount": _l("Transferred amount (CNY)"),
    "transfer_date": _l("Transfer date"), "transfer_payee": _l("Transfer paid to"),
    "deadline": _l("Deadline (execution end)"),
    "overdue": _l("Overdue"), "summary_submitted_at": _l("Report submitted"),
    "researcher_confirmed_at": _l("Co-signed by the researcher"),
    "self_accepted_at": _l("Self-accepted on"), "evaluation_opinion": _l("Evaluation opinion"),
    "evaluated_at": _l("Evaluated on"),
    "publicity": _l("Publicity"), "funded_at": _l("Funding final since"),
    "support_conditions": _l("Support conditions"),
    "phd_posts": _l("Research posts for PhD students"),
}
FORM_COLUMNS = ["amount", "signed_on", "registration_number", "contract_file", "invoice_file",
                "invoice_amount", "invoice_date", "invoice_issuer", "transfer_file",
                "transfer_amount", "transfer_date", "transfer_payee"]
MONEY = [NumberRange(min=0.01, max=10**11)]


def _money(label, required=False):
    return DecimalField(LABELS[label], ([DataRequired()] if required else [Optional()]) + MONEY,
                        places=2)


def _date(label, required=False):
    return DateField(LABELS[label], [DataRequired()] if required else [Optional()],
                     format="%Y-%m-%d", render_kw={"type": "date"})


class ContractModelView(WorkflowModelView):
    """Enterprises submit (from a selected proposal) and correct; the province decides."""

    datamodel = interface(Contract)
    list_title = _l("Contracts")
    show_title = _l("Contract")
    add_title = _l("Submit the technology development contract")
    edit_title = _l("Correct the contract")
    findings_title = _l("Cross-checks")
    list_columns = ["need", "enterprise", "institution", "amount", "signed_on", "state"]
    show_columns = ["need", "enterprise", "researcher", "institution"] + FORM_COLUMNS + [
        "state", "return_reason"]
    add_columns = edit_columns = FORM_COLUMNS
    # Plain columns only: a dropdown of every need or enterprise would be read for each page.
    search_columns = ["state", "signed_on", "amount", "registration_number"]
    add_form_extra_fields = edit_form_extra_fields = {
        "amount": _money("amount", required=True),
        "signed_on": _date("signed_on", required=True),
        "registration_number": StringField(LABELS["registration_number"],
                                           [Optional(), Length(max=60)],
                                           description=_l("技术合同登记编号, if registered")),
        **{name: UnicodeFileUploadField(LABELS[name], description=_l("Required: PDF or image"))
           for name in ("contract_file", "invoice_file", "transfer_file")},
        "invoice_amount": _money("invoice_amount", required=True),
        "invoice_date": _date("invoice_date", required=True),
        "invoice_issuer": StringField(LABELS["invoice_issuer"], [DataRequired(), Length(max=200)]),
        "transfer_amount": _money("transfer_amount", required=True),
        "transfer_date": _date("transfer_date", required=True),
        "transfer_payee": StringField(LABELS["transfer_payee"], [DataRequired(), Length(max=200)]),
    }
    base_order = ("id", "desc")
    label_columns = LABELS

    def why_no_new_record(self):
        return why_no_new_contract(g.user, request.args.get("proposal"))

    def pre_add(self, item):
        prepare_new_contract(item, g.user, request.args.get("proposal"))
        super().pre_add(item)

    def post_add(self, item):
        g.added_contract_id = item.id

    def post_add_redirect(self):
        if getattr(g, "added_contract_id", None):
            flash(_("Contract saved as a draft. Read its cross-checks, correct it if needed, "
                    "then submit it to the province."), "success")
            return redirect(url_for(f"{self.endpoint}.show", pk=g.added_contract_id))
        return super().post_add_redirect()

    def pre_update(self, item):
        check_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        raise ValueError(_("A submitted contract is kept; ask the province to return it."))

    def links_for(self, item):
        """A draft's next steps, for its enterprise: correct it, or submit it."""
        if item.state is ContractState.draft and "Enterprise" in jurisdiction.role_names(g.user):
            return [(_("Correct the draft"), url_for(f"{self.endpoint}.edit", pk=item.id)),
                    (_("Submit to the province"), url_for(f"{self.endpoint}.decide",
                                                          pk=item.id))]
        return []

    def findings_for(self, item):
        # The viewer decides which other contracts a reused file may name (app/domain/funding/checks).
        return checks_of(item, g.user)

    @fab_action("approve", _l("Approve"), _l("Approve the selected contracts?"), "fa-check")
    def approve(self, items):
        return self._act_on_list(items, Action.approve)


SATISFACTION_POINTS = next(c.points for c in execution.CRITERIA if c.code == "satisfaction")
# (document kind, the method serving it, its permission name), as offered on a project's page.
PROJECT_DOCUMENTS = (("approval", "approval_pdf", "approval_pdf"),
                     ("record", "record_pdf", "record_pdf"),
                     ("certificate", "service_record", "service_record"))


def _overdue_flag(overdue):
    if not overdue:
        return ""
    return Markup('<span class="label label-danger">%s</span>') % _("Overdue")


class ProjectModelView(WorkflowModelView):
    datamodel = interface(Project)
    list_title = _l("Funded projects")
    list_columns = ["number", "enterprise", "researcher", "funding", "deadline", "state", "overdue"]
    list_loads = ("round",)  # the deadline and the overdue flag
    show_columns = ["number", "round", "contract", "enterprise", "researcher", "funding", "deadline",
                    "state", "publicity", "funded_at", "overdue", "support_conditions",
                    "phd_posts", "summary_report", "summary_submitted_at",
                    "researcher_confirmed_at", "self_accepted_at", "evaluation_score",
                    "evaluation_result", "evaluation_opinion", "evaluated_at"]
    search_columns = ["number", "state", "funding", "evaluation_result"]
    # The enterprise's only edit: the summary report file, until it submits it.
    edit_columns = ["summary_report"]
    edit_title = _l("Upload the summary report")
    edit_form_extra_fields = {"summary_report": UnicodeFileUploadField(
        _l("Summary report (PDF)"),
        description=_l("Then submit it on the project's page; the researcher co-signs it."))}
    base_order = ("number", "asc")
    label_columns = LABELS
    formatters_columns = {"overdue": _overdue_flag}

    def pre_update(self, item):
        if not execution.report_editable(item):
            db.session.rollback()
            raise ValueError(_("The summary report can no longer be changed: it was submitted."))
        super().pre_update(item)

    def post_update(self, item):
        flash(_("Summary report saved. Submit it with “%(action)s”.",
                action=Action.report.title), "info")

    def links_for(self, item):
        user, links = g.user, []
        roles = jurisdiction.role_names(user)
        if item.state is ProjectState.funded and "Enterprise" in roles:
            links.append((_("Upload the summary report"), url_for(f"{self.endpoint}.edit",
                                                                  pk=item.id)))
        if item.state in FINAL_PROJECT_STATES and "Province" in roles:
            links.append((_("Plan a payment"), url_for("PaymentModelView.add", project=item.id)))
        if item.state in progress.RUNNING:
            if getattr(user, "enterprise_id", None) == item.enterprise_id or \
                    getattr(user, "researcher_id", None) == item.researcher_id:
                links.append((_("Add a milestone"),
                              url_for("MilestoneModelView.add", project=item.id)))
            if getattr(user, "researcher_id", None) == item.researcher_id:
                links.append((_("Log a service"),
                              url_for("ServiceLogModelView.add", project=item.id)))
        if item.state in progress.RUNNING and \
                getattr(user, "enterprise_id", None) == item.enterprise_id:
            links.append((_("Support conditions and PhD research posts"),
                          url_for(f"{self.endpoint}.support", pk=item.id)))
        if item.state in progress.CHANGEABLE and \
                getattr(user, "enterprise_id", None) == item.enterprise_id:
            links.append((_("Ask for a change or a termination"),
                          url_for("ChangeRequestModelView.add", project=item.id)))
        if item.state in progress.RATED and progress.side_of(user, item) and \
                not progress.why_no_new_rating(user, item.id):
            links.append((_("Rate the other side"),
                          url_for("SatisfactionRatingModelView.add", project=item.id)))
        if item.state in progress.CHECKED and roles & {"Province", "Bureau"}:
            links.append((_("Record the mid-term check"),
                          url_for("MidtermCheckModelView.add", project=item.id)))
        if item.state in SUPERVISED_PROJECT_STATES and roles & {"Province", "Platform", "Bureau"}:
            links.append((_("Open a supervision case"),
                          url_for("SupervisionCaseModelView.add", project=item.id)))
        if item.state is ProjectState.accepted and "Province" in roles:
            links.append((_("Performance evaluation"), url_for(f"{self.endpoint}.evaluate",
                                                               pk=item.id)))
        return links + documents.links(self, item, PROJECT_DOCUMENTS)

    @expose("/evaluate/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("evaluate")
    def evaluate(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        if request.method == "POST":
            try:
                execution.evaluate(item, g.user, request.form, request.form.get("opinion"))
                db.session.commit()
            except WorkflowError as err:
                db.session.rollback()
                flash(str(err), "danger")
            else:
                flash(_("Evaluation recorded: %(total)s points, “%(result)s”.",
                        total=item.evaluation_score, result=item.evaluation_result.title),
                      "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        return self.render_template(
            "office/project_evaluate.html", item=item, criteria=execution.CRITERIA,
            max_total=execution.MAX_TOTAL, scale=execution.result_scale(),
            period=execution.evaluation_period(item), values=request.form,
            open_now=execution.evaluation_open(item), title=_("Performance evaluation"),
            suggested=progress.suggested_satisfaction(item, SATISFACTION_POINTS))

    @expose("/support/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("support")
    def support(self, pk):
        """The enterprise's 保障条件 and PhD research posts (app/domain/funding/progress.py)."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        error = None
        if request.method == "POST":
            try:
                progress.record_support(item, g.user, request.form.get("support_conditions"),
                                        request.form.get("phd_posts"))
                db.session.commit()
            except WorkflowError as err:
                db.session.rollback()
                error = str(err)
                item = self.datamodel.get(pk, self._base_filters)
            else:
                flash(_("Support conditions saved."), "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        return self.render_template(
            "office/project_support.html", item=item, values=request.form, error=error,
            title=_("Support conditions and PhD research posts")), (422 if error else 200)

    @expose("/overdue/")
    @has_access
    @permission_name("overdue")
    def overdue(self):
        projects = execution.overdue_projects()
        return self.render_template("office/projects_overdue.html", projects=projects,
                                    title=_("Overdue projects"))

    # The printed documents (app/domain/documents): 立项审批表, 项目档案, and the researcher's
    # 服务企业证明 once the project is evaluated.
    @expose("/approval_pdf/<int:pk>")
    @has_access
    @permission_name("approval_pdf")
    def approval_pdf(self, pk):
        return documents.serve(self, "approval", pk)

    @expose("/record_pdf/<int:pk>")
    @has_access
    @permission_name("record_pdf")
    def record_pdf(self, pk):
        return documents.serve(self, "record", pk)

    @expose("/service_record/<int:pk>")
    @has_access
    @permission_name("service_record")
    def service_record(self, pk):
        return documents.serve(self, "certificate", pk)


class FundingSimulationView(BaseView):
    """What the pending contracts of a round would receive, approved in order (changes nothing)."""

    route_base = "/funding"
    default_view = "simulate"

    @expose("/simulate")
    @has_access
    def simulate(self):
        rounds = db.session.scalars(select(ProgramRound)
                                    .order_by(ProgramRound.needs_filing_start.desc())).all()
        chosen = request.args.get("round", "")
        program_round = (db.session.get(ProgramRound, int(chosen)) if chosen.isdigit()
                         else current_round())
        if program_round is None:
            flash(_("No program round exists yet."), "warning")
            return redirect(url_for("ProgramRoundModelView.list"))
        rows = funding.simulate(program_round)
        return self.render_template(
            "office/funding_simulation.html", title=_("Funding simulation"), rows=rows,
            rounds=rounds, program_round=program_round, usage=funding.usage(program_round),
            total=sum(r.funding for r in rows if r.funding is not None))


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
