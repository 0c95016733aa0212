"""公示 in the back office: the province publishes the round's proposed projects as a list and
decides the objections lodged against them; the working-day calendar the window is counted in.
The public list and the objection form are app/public/publicity.py; the rules are
app/domain/funding/publicity.py."""
from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField

from app.domain.funding import publicity as rules
from app.domain.reference import working_days
from app.extensions import db
from app.models import Objection, Publicity, WorkingDayAdjustment
from app.views.base import ScopedModelView, interface
from app.views.workflow import WorkflowModelView
from app.workflows import WorkflowError

LABELS = {
    "title": _l("Title"), "round": _l("Program round"), "starts_on": _l("Objections from"),
    "ends_on": _l("Objections until"), "working_days": _l("Working days"),
    "closed_at": _l("Final list since"), "projects": _l("Projects"),
    "final_list": _l("Final list as announced"),
    "publicity": _l("Publicity"), "project": _l("Project"), "name": _l("Name"),
    "phone": _l("Mobile phone"), "email": _l("E-mail"), "content": _l("Objection"),
    "attachment": _l("Attachment"), "state": _l("State"), "created_at": _l("Lodged at"),
    "decision_reason": _l("Reasons of the decision"), "decided_at": _l("Decided at"),
    "day": _l("Day"), "working": _l("Working day"), "note": _l("Note"),
}


class PublicityModelView(ScopedModelView):
    """The lists published; the province publishes the next one of a round."""

    datamodel = interface(Publicity)
    list_title = _l("Publicity of the proposed funded list")
    show_title = _l("Publicity")
    list_columns = ["title", "round", "starts_on", "ends_on", "closed_at"]
    show_columns = ["title", "round", "starts_on", "ends_on", "working_days", "closed_at",
                    "projects"]
    search_columns = ["title", "starts_on", "ends_on"]
    base_order = ("id", "desc")  # newest first, by the primary key's index
    label_columns = LABELS

    @expose("/publish", methods=["GET", "POST"])
    @has_access
    @permission_name("publish")
    def publish(self):
        """Choose a round with proposed projects; the window is shown before it is sent."""
        choices = rules.round_choices()
        chosen = request.values.get("round", "")
        program_round = next((r for r, _count in choices if str(r.id) == chosen), None)
        title = request.form.get("title", "")
        error = None
        if request.method == "POST" and program_round is None:
            # Never another round's list: the one chosen has nothing left (published meanwhile).
            error = _("The round chosen has no proposed project left to publish: another "
                      "list may have been published meanwhile.")
        elif request.method == "POST":
            try:
                publicity = rules.publish(program_round, g.user, title)
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                error = _("Someone else published these projects a moment ago; reload the "
                          "page to see the list.")
            except WorkflowError as err:
                db.session.rollback()
                error = str(err)
            else:
                flash(_("Published: %(count)d project(s) open to objections until %(date)s.",
                        count=len(publicity.projects), date=publicity.ends_on), "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=publicity.id))
        if program_round is None and choices:  # shown, never published without a choice
            program_round = choices[0][0]
        window = rules.window_for(program_round) if program_round is not None else None
        return self.render_template(
            "office/publicity_publish.html", title=_("Publish the proposed funded list"),
            choices=choices, program_round=program_round, window=window,
            default_title=(rules.default_title(program_round) if program_round else ""),
            typed_title=title, error=error,
            year_known=working_days.year_known(window[1].year) if window else True,
        ), (422 if error else 200)


class ObjectionModelView(WorkflowModelView):
    """异议: read by global staff, decided by the province (uphold withdraws the funding)."""

    datamodel = interface(Objection)
    list_title = _l("Objections")
    show_title = _l("Objection")
    list_columns = ["project", "publicity", "created_at", "state"]
    show_columns = ["publicity", "project", "name", "phone", "email", "content", "attachment",
                    "created_at", "state", "decision_reason", "decided_at"]
    search_columns = ["state", "created_at"]
    base_order = ("id", "desc")  # newest first, by the primary key's index
    label_columns = LABELS


class WorkingDayAdjustmentModelView(ScopedModelView):
    """Holidays and adjusted working days the province enters over the maintained calendar."""

    datamodel = interface(WorkingDayAdjustment)
    list_title = _l("Working-day calendar")
    list_columns = ["day", "working", "note"]
    add_columns = edit_columns = ["day", "working", "note"]
    base_order = ("day", "desc")
    label_columns = LABELS
    description_columns = {
        "working": _l("Ticked: a working day (调休上班); unticked: a rest day."),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "working": BooleanField(_l("Working day"),
                                description=_l("Ticked: a working day (调休上班); unticked: a "
                                               "rest day.")),
    }
