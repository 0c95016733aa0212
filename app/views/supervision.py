"""Supervision in the back office: cases about funded projects (opened from the project's page,
investigated, closed by the province), and credit records (失信) added from a case closed as a
violation. The rules are app/domain/funding/supervision.py."""
from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.access import jurisdiction
from app.domain.funding import supervision as rules
from app.models import CaseSource, CaseState, CreditRecord, SupervisionCase
from app.views.base import ScopedModelView, interface
from app.views.workflow import WorkflowModelView

LABELS = {
    "project": _l("Project"), "enterprise": _l("Enterprise"), "researcher": _l("Researcher"),
    "source": _l("Source of the case"), "summary": _l("What is suspected"), "state": _l("State"),
    "findings": _l("Findings"), "amount_to_recover": _l("Amount to recover (CNY)"),
    "amount_recovered": _l("Amount recovered (CNY)"), "closed_at": _l("Closed at"),
    "created_at": _l("Opened at"), "case": _l("Supervision case"), "reason": _l("Reason"),
    "starts_on": _l("Barred from"), "ends_on": _l("Barred until"), "party": _l("Concerns"),
}


def _money(label):
    return DecimalField(LABELS[label], [Optional(), NumberRange(min=0, max=10**10)], places=2)


class SupervisionCaseModelView(WorkflowModelView):
    datamodel = interface(SupervisionCase)
    list_title = _l("Supervision cases")
    show_title = _l("Supervision case")
    add_title = _l("Open a supervision case")
    edit_title = _l("Amounts to recover and recovered")
    list_columns = ["project", "enterprise", "source", "created_at", "state"]
    show_columns = ["project", "enterprise", "source", "summary", "created_at", "state",
                    "findings", "closed_at", "amount_to_recover", "amount_recovered"]
    add_columns = ["source", "summary"]
    edit_columns = ["amount_to_recover", "amount_recovered"]
    search_columns = ["state", "source", "created_at"]
    base_order = ("id", "desc")
    label_columns = LABELS
    add_form_extra_fields = {
        "source": SelectField(LABELS["source"], choices=CaseSource.choices(),
                              default=CaseSource.manual.value),
        "summary": TextAreaField(LABELS["summary"], [DataRequired(), Length(max=4000)]),
    }
    edit_form_extra_fields = {"amount_to_recover": _money("amount_to_recover"),
                              "amount_recovered": _money("amount_recovered")}

    def process_form(self, form, is_created):
        if is_created and form.source.data:
            form.source.data = CaseSource(form.source.data)

    def why_no_new_record(self):
        return rules.why_no_new_case(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_new_case(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        rules.check_amounts(item)
        super().pre_update(item)

    def pre_delete(self, item):
        raise ValueError(_("A supervision case is kept."))

    def links_for(self, item):
        roles = jurisdiction.role_names(g.user)
        links = []
        if "Province" in roles and item.state is CaseState.violation:
            links += [(_("Amounts to recover and recovered"),
                       url_for(f"{self.endpoint}.edit", pk=item.id)),
                      (_("Add a credit record (失信)"),
                       url_for("CreditRecordModelView.add", case=item.id))]
        if "Province" in roles:
            links.append((_("The project (suspend, resume, revoke)"),
                          url_for("ProjectModelView.decide", pk=item.project_id)))
        return links


PARTIES = [("enterprise", _l("The enterprise")), ("researcher", _l("The researcher")),
           ("both", _l("Both"))]


class CreditRecordModelView(ScopedModelView):
    datamodel = interface(CreditRecord)
    list_title = _l("Credit records")
    show_title = _l("Credit record")
    add_title = _l("Add a credit record")
    list_columns = ["enterprise", "researcher", "starts_on", "ends_on", "reason"]
    show_columns = ["enterprise", "researcher", "case", "reason", "starts_on", "ends_on"]
    add_columns = ["party", "reason", "starts_on", "ends_on"]
    search_columns = ["starts_on", "ends_on"]
    base_order = ("id", "desc")
    label_columns = LABELS
    add_form_extra_fields = {
        "party": SelectField(LABELS["party"], choices=PARTIES, default="enterprise"),
        "reason": StringField(LABELS["reason"], [DataRequired(), Length(max=500)],
                              description=_l("Shown to them when a filing is refused.")),
        "starts_on": DateField(LABELS["starts_on"], [DataRequired()], format="%Y-%m-%d",
                               render_kw={"type": "date"}),
        "ends_on": DateField(LABELS["ends_on"], [DataRequired()], format="%Y-%m-%d",
                             render_kw={"type": "date"}),
    }

    def pre_add(self, item):
        # ``party`` is no column: the form sets it on the new record as a plain attribute,
        # saying which of the case's parties the record bars.
        rules.prepare_credit_record(item, g.user, request.args.get("case"),
                                    getattr(item, "party", None))
        super().pre_add(item)

    def pre_update(self, item):
        raise ValueError(_("A credit record is kept as recorded; it ends by its date."))

    def pre_delete(self, item):
        raise ValueError(_("A credit record is kept as recorded; it ends by its date."))
