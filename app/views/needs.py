"""Technical needs in the back office: enterprises write them, bureaus and the platform review."""
from flask import g
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.security.decorators import permission_name
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.domain.needs.completeness import SECTIONS, check_need
from app.domain.needs.filing import (
    check_deletable,
    check_editable,
    prepare_new_need,
    why_no_new_need,
)
from app.models import Action, Need
from app.models.need import SECTION_MAX_LENGTH
from app.views import documents
from app.views.base import ScopedModelRestApi, as_bad_request, interface
from app.views.uploads import UnicodeFileUploadField
from app.views.workflow import WorkflowModelView

TEMPLATE_HINTS = {
    "background": _l("The product or process and why the problem matters to the enterprise."),
    "problem": _l("The technical problem itself: what fails, under which conditions."),
    "targets": _l("Measurable targets, e.g. 良品率由90%提高到98%."),
    "basis": _l("Equipment, data, staff and earlier attempts the enterprise brings."),
    "cooperation_mode": _l("E.g. commissioned development, joint development, on-site service."),
    "timeline": _l("Milestones and the total duration."),
}


def _blank(value):
    return value if value is not None else ""


NEED_LABELS = {
    "title": _l("Title"), "enterprise": _l("Enterprise"), "round": _l("Program round"),
    "category": _l("Category"), "field": _l("Technical field"), "background": _l("Background"),
    "problem": _l("Technical problem"), "targets": _l("Target indicators"),
    "basis": _l("Existing basis"), "cooperation_mode": _l("Expected cooperation mode"),
    "timeline": _l("Timeline"), "keywords": _l("Keywords"), "amount": _l("Intended amount (CNY)"),
    "contact_name": _l("Contact person"), "contact_phone": _l("Contact phone"),
    "attachment": _l("Attachment"), "state": _l("State"), "recommendation": _l("Recommendation"),
    "return_reason": _l("Reason for return"), "submitted_at": _l("Submitted"),
    "published_at": _l("Published"),
}
FORM_COLUMNS = ["title", "category", "field", "background", "problem", "targets", "basis",
                "cooperation_mode", "timeline", "keywords", "amount", "contact_name",
                "contact_phone", "attachment"]


class NeedModelView(WorkflowModelView):
    datamodel = interface(Need)
    list_title = _l("Technical needs")
    show_title = _l("Technical need")
    add_title = _l("New technical need")
    edit_title = _l("Edit technical need")
    list_columns = ["title", "enterprise", "category", "field", "amount", "state"]
    show_columns = ["title", "enterprise", "round", "category", "field"] + FORM_COLUMNS[3:] + [
        "state", "recommendation", "return_reason", "submitted_at", "published_at"]
    add_columns = edit_columns = FORM_COLUMNS
    # A draft may be saved half-written: the sections are optional in the form and the
    # completeness check says what is missing before submission.
    add_form_extra_fields = edit_form_extra_fields = {
        "attachment": UnicodeFileUploadField(_l("Attachment")),
        **{column: TextAreaField(NEED_LABELS[column], [Optional(), Length(max=SECTION_MAX_LENGTH)],
                                 description=TEMPLATE_HINTS.get(column), filters=[_blank])
           for column, _label in SECTIONS},
        "keywords": StringField(NEED_LABELS["keywords"], [Optional(), Length(max=300)],
                                description=_l("Separated by spaces, e.g. 传感器 温度补偿"),
                                filters=[_blank]),
    }
    search_columns = ["title", "name_pinyin", "name_initials", "category", "field", "state"]
    base_order = ("id", "desc")
    label_columns = NEED_LABELS

    def why_no_new_record(self):
        return why_no_new_need(g.user)

    # FAB flashes an exception raised by these hooks and saves nothing.
    def pre_add(self, item):
        prepare_new_need(item, g.user)
        super().pre_add(item)

    def pre_update(self, item):
        check_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        check_deletable(item)

    def findings_for(self, item):
        return check_need(item)

    def links_for(self, item):
        return documents.links(self, item, (("recommendation", "recommendation_pdf",
                                             "recommendation_pdf"),))

    @expose("/recommendation_pdf/<int:pk>")
    @has_access
    @permission_name("recommendation_pdf")
    def recommendation_pdf(self, pk):
        """推荐表: the need with the bureau's recommendation (app/domain/documents)."""
        return documents.serve(self, "recommendation", pk)

    @fab_action("publish", _l("Publish"), _l("Publish the selected needs?"), "fa-bullhorn")
    def publish(self, items):
        return self._act_on_list(items, Action.publish)

    @fab_action("recommend", _l("Recommend"), "", "fa-thumbs-up")
    def recommend(self, items):
        return self._redirect_many(items, Action.recommend)

    @fab_action("return_selected", _l("Return"), "", "fa-undo")
    def return_selected(self, items):
        return self._redirect_many(items, Action.return_)


class NeedApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete"}
    resource_name = "need"
    datamodel = interface(Need)
    list_columns = ["id", "title", "enterprise.id", "enterprise.name", "category.name",
                    "field.name", "amount", "state"]
    show_columns = list_columns + FORM_COLUMNS[3:12]
    add_columns = edit_columns = FORM_COLUMNS[:12] + ["enterprise"]

    def pre_add(self, item):
        with as_bad_request():
            prepare_new_need(item, g.user)
        super().pre_add(item)

    def pre_update(self, item):
        with as_bad_request():
            check_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        with as_bad_request():
            check_deletable(item)
