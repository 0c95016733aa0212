"""拨付 in the back office: the province plans a funded project's payments (from the project's
page), corrects them, records them paid or returned; everyone of the project's jurisdiction
reads them; the reconciliation per round and its Excel export. The rules are
app/domain/funding/payments.py."""

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core import audit, workbooks
from app.core.long_reads import long_read, short_write
from app.domain.funding import payments as rules
from app.domain.rounds import current_round
from app.extensions import db
from app.models import Payment, ProgramRound
from app.utils import clock
from app.views.base import interface
from app.views.uploads import UnicodeFileUploadField
from app.views.workflow import WorkflowModelView

LABELS = {
    "project": _l("Project"), "enterprise": _l("Enterprise"), "round": _l("Program round"),
    "batch": _l("Batch"), "amount": _l("Amount (CNY)"), "planned_on": _l("Planned on"),
    "paid_on": _l("Paid on"), "payer": _l("Payer"), "voucher": _l("Voucher"),
    "note": _l("Note"), "state": _l("State"), "return_reason": _l("Reason of the return"),
}
FORM_COLUMNS = ["batch", "amount", "planned_on", "paid_on", "payer", "voucher", "note"]


def _date(label, required=False):
    return DateField(LABELS[label], [DataRequired()] if required else [Optional()],
                     format="%Y-%m-%d", render_kw={"type": "date"})


class PaymentModelView(WorkflowModelView):
    datamodel = interface(Payment)
    list_title = _l("Subsidy payments")
    show_title = _l("Subsidy payment")
    add_title = _l("Plan a payment")
    edit_title = _l("Correct the payment")
    list_columns = ["project", "enterprise", "batch", "amount", "planned_on", "paid_on", "state"]
    show_columns = ["project", "enterprise", "round"] + FORM_COLUMNS + ["state", "return_reason"]
    add_columns = edit_columns = FORM_COLUMNS
    search_columns = ["state", "batch", "amount", "planned_on", "paid_on"]
    base_order = ("id", "desc")
    label_columns = LABELS
    add_form_extra_fields = edit_form_extra_fields = {
        "batch": StringField(LABELS["batch"], [DataRequired(), Length(max=60)],
                             description=_l("e.g. 2020年第一批")),
        "amount": DecimalField(LABELS["amount"],
                               [DataRequired(), NumberRange(min=0.01, max=10**9)], places=2),
        "planned_on": _date("planned_on", required=True),
        "paid_on": _date("paid_on"),
        "payer": StringField(LABELS["payer"], [DataRequired(), Length(max=120)],
                             default=_l("Hubei Provincial Department of Science and Technology")),
        "voucher": UnicodeFileUploadField(
            LABELS["voucher"], description=_l("The bank's record of the transfer (PDF or image); "
                                              "needed to record the payment as paid.")),
        "note": TextAreaField(LABELS["note"], [Optional(), Length(max=2000)]),
    }

    def why_no_new_record(self):
        return rules.why_no_new_payment(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_new_payment(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        rules.check_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        raise ValueError(_("A payment is kept; record it as returned if the money came back."))

    def links_for(self, item):
        if self.appbuilder.sm.has_access("can_edit", self.class_permission_name) and \
                item.state.value == "planned":
            return [(_("Correct the payment"), url_for(f"{self.endpoint}.edit", pk=item.id))]
        return []

    def _round(self):
        chosen = request.args.get("round", "")
        return (db.session.get(ProgramRound, int(chosen)) if chosen.isdigit()
                else current_round())

    @expose("/reconcile")
    @has_access
    @permission_name("reconcile")
    def reconcile(self):
        program_round = self._round()
        if program_round is None:
            flash(_("No program round exists yet."), "warning")
            return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template(
            "office/payments_reconcile.html", title=_("Payments against the funding"),
            rounds=rules.rounds_with_projects(), program_round=program_round,
            figures=rules.reconcile(program_round, g.user))

    @expose("/export.xlsx")
    @has_access
    @permission_name("reconcile")
    def export(self):
        program_round = self._round()
        if program_round is None:
            return redirect(url_for(f"{self.endpoint}.list"))
        with long_read():
            output, count = workbooks.write([rules.payments_sheet(program_round, g.user)])
        with workbooks.closed_on_error(output), short_write():
            audit.record("payments.export", None, subject_type="payments", actor=g.user,
                         after={"count": count[0], "round": program_round.code})
        return workbooks.response(output, f"拨付-{program_round.code}-"
                                          f"{clock.today().isoformat()}.xlsx")
