"""The execution of a funded project in the back office: milestones, the service log and the
mid-term check, each added from the project's page. The rules are
app/domain/funding/progress.py."""

from flask import g, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.domain.funding import progress as rules
from app.models import (
    ChangeRequest,
    MidtermCheck,
    MidtermResult,
    Milestone,
    SatisfactionRating,
    ServiceLog,
    ServiceLogState,
)
from app.utils import clock
from app.views.base import ScopedModelView, interface
from app.views.uploads import UnicodeFileUploadField
from app.views.workflow import WorkflowModelView

LABELS = {
    "project": _l("Project"), "title": _l("Milestone"), "due_on": _l("Due on"),
    "deliverable": _l("Deliverable"), "reached_on": _l("Reached on"), "state": _l("State"),
    "starts_on": _l("From"), "ends_on": _l("To"), "hours": _l("Hours"),
    "work_done": _l("Work done"), "attachment": _l("Attachment"),
    "dispute_reason": _l("Why the enterprise disputes it"), "checked_on": _l("Checked on"),
    "result": _l("Result of the check"), "opinion": _l("Opinion"), "milestone": _l("Milestone"),
}


def _date(label, required=True):
    return DateField(LABELS[label], [DataRequired()] if required else [Optional()],
                     format="%Y-%m-%d", render_kw={"type": "date"})


class MilestoneModelView(WorkflowModelView):
    datamodel = interface(Milestone)
    list_title = _l("Milestones")
    show_title = _l("Milestone")
    add_title = _l("Add a milestone")
    edit_title = _l("Correct the milestone")
    list_columns = ["project", "title", "due_on", "reached_on", "state"]
    show_columns = ["project", "title", "due_on", "deliverable", "reached_on", "state"]
    add_columns = edit_columns = ["title", "due_on", "deliverable"]
    search_columns = ["state", "due_on"]
    base_order = ("due_on", "asc")
    label_columns = LABELS
    add_form_extra_fields = edit_form_extra_fields = {
        "title": StringField(LABELS["title"], [DataRequired(), Length(max=200)]),
        "due_on": _date("due_on"),
        "deliverable": TextAreaField(LABELS["deliverable"], [Optional(), Length(max=2000)]),
    }

    def why_no_new_record(self):
        return rules.why_no_new_milestone(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_milestone(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        rules.check_milestone_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        raise ValueError(_("A milestone is kept; correct it while it is planned."))

    @expose("/overdue/")
    @has_access
    @permission_name("overdue")
    def overdue(self):
        """Milestones past their date and not reached, of the user's jurisdiction."""
        return self.render_template("office/milestones_overdue.html",
                                    milestones=rules.overdue_milestone_list(g.user),
                                    today=clock.today(), title=_("Overdue milestones"))


class ServiceLogModelView(WorkflowModelView):
    datamodel = interface(ServiceLog)
    list_title = _l("Service log")
    show_title = _l("Service log entry")
    add_title = _l("Log a service")
    edit_title = _l("Correct the entry")
    list_columns = ["project", "starts_on", "ends_on", "hours", "state"]
    show_columns = ["project", "starts_on", "ends_on", "hours", "work_done", "attachment",
                    "state", "dispute_reason"]
    add_columns = edit_columns = ["starts_on", "ends_on", "hours", "work_done", "attachment"]
    search_columns = ["state", "starts_on"]
    base_order = ("id", "desc")
    label_columns = LABELS
    add_form_extra_fields = edit_form_extra_fields = {
        "starts_on": _date("starts_on"), "ends_on": _date("ends_on"),
        "hours": DecimalField(LABELS["hours"], [DataRequired(), NumberRange(min=0.5, max=9999)],
                              places=1),
        "work_done": TextAreaField(LABELS["work_done"], [DataRequired(), Length(max=4000)]),
        "attachment": UnicodeFileUploadField(LABELS["attachment"],
                                             description=_l("Optional: photos, minutes (PDF "
                                                            "or image)")),
    }

    def why_no_new_record(self):
        return rules.why_no_new_log(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_log(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        if getattr(g.user, "researcher_id", None) != item.researcher_id:
            raise ValueError(_("The project's researcher keeps its service log."))
        rules.check_log_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        raise ValueError(_("An entry of the service log is kept."))

    def links_for(self, item):
        if item.state is ServiceLogState.disputed and \
                getattr(g.user, "researcher_id", None) == item.researcher_id:
            return [(_("Correct the entry"), url_for(f"{self.endpoint}.edit", pk=item.id))]
        return []


class MidtermCheckModelView(ScopedModelView):
    datamodel = interface(MidtermCheck)
    list_title = _l("Mid-term checks")
    show_title = _l("Mid-term check")
    add_title = _l("Record the mid-term check")
    list_columns = ["project", "checked_on", "result"]
    show_columns = ["project", "checked_on", "result", "opinion"]
    add_columns = ["checked_on", "result", "opinion"]
    search_columns = ["result", "checked_on"]
    base_order = ("id", "desc")
    label_columns = LABELS
    add_form_extra_fields = {
        "checked_on": _date("checked_on"),
        "result": SelectField(LABELS["result"], choices=MidtermResult.choices(),
                              default=MidtermResult.on_track.value),
        "opinion": TextAreaField(LABELS["opinion"], [DataRequired(), Length(max=4000)]),
    }

    def process_form(self, form, is_created):
        if form.result.data:
            form.result.data = MidtermResult(form.result.data)

    def why_no_new_record(self):
        return rules.why_no_new_check(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_check(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        raise ValueError(_("A mid-term check is kept as recorded."))

    def pre_delete(self, item):
        raise ValueError(_("A mid-term check is kept as recorded."))


SIDES = {"enterprise": _l("The enterprise, of the researcher's service"),
         "researcher": _l("The researcher, of the enterprise's support")}


class SatisfactionRatingModelView(ScopedModelView):
    datamodel = interface(SatisfactionRating)
    list_title = _l("Satisfaction ratings")
    show_title = _l("Satisfaction rating")
    add_title = _l("Rate the other side")
    list_columns = ["project", "by_side", "score", "created_at"]
    show_columns = ["project", "by_side", "score", "comment", "created_at"]
    add_columns = ["score", "comment"]
    search_columns = ["score"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "by_side": _l("Rated by"), "score": _l("Score (1 to 5)"),
                     "comment": _l("Comment"), "created_at": _l("Rated at")}
    formatters_columns = {"by_side": lambda side: str(SIDES.get(side, side))}
    add_form_extra_fields = {
        "score": SelectField(_l("Score (1 to 5)"), [DataRequired()], coerce=int,
                             choices=[(5, _l("5: very satisfied")), (4, _l("4: satisfied")),
                                      (3, _l("3: acceptable")), (2, _l("2: dissatisfied")),
                                      (1, _l("1: very dissatisfied"))], default=5),
        "comment": TextAreaField(_l("Comment"), [Optional(), Length(max=2000)]),
    }

    def why_no_new_record(self):
        return rules.why_no_new_rating(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_rating(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        raise ValueError(_("A rating is kept as given."))

    def pre_delete(self, item):
        raise ValueError(_("A rating is kept as given."))


KINDS = [("change", _l("Change of the contract")), ("termination", _l("Termination"))]


class ChangeRequestModelView(WorkflowModelView):
    datamodel = interface(ChangeRequest)
    list_title = _l("Change and termination requests")
    show_title = _l("Change or termination request")
    add_title = _l("Ask for a change or a termination")
    list_columns = ["project", "kind", "new_funding", "created_at", "state"]
    show_columns = ["project", "kind", "reason", "new_funding", "created_at", "state",
                    "decision"]
    add_columns = ["kind", "reason", "new_funding"]
    search_columns = ["state", "created_at"]
    base_order = ("id", "desc")
    label_columns = {**LABELS, "kind": _l("Request"), "reason": _l("What and why"),
                     "new_funding": _l("Funding after the change (CNY)"),
                     "created_at": _l("Asked on"), "decision": _l("The province's decision")}
    formatters_columns = {"kind": lambda kind: str(dict(KINDS).get(kind, kind))}
    add_form_extra_fields = {
        "kind": SelectField(_l("Request"), choices=KINDS, default="change"),
        "reason": TextAreaField(_l("What and why"), [DataRequired(), Length(max=4000)]),
        "new_funding": DecimalField(
            _l("Funding after the change (CNY)"), [Optional(), NumberRange(min=0.01, max=10**9)],
            places=2, description=_l("Only if the change lowers the funding; a termination "
                                     "keeps what was paid.")),
    }

    def why_no_new_record(self):
        return rules.why_no_new_request(g.user, request.args.get("project"))

    def pre_add(self, item):
        rules.prepare_request(item, g.user, request.args.get("project"))
        super().pre_add(item)

    def pre_update(self, item):
        raise ValueError(_("A request is kept as sent; ask again if it was rejected."))

    def pre_delete(self, item):
        raise ValueError(_("A request is kept as sent; ask again if it was rejected."))
