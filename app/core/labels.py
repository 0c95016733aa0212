"""Labels of the columns many models share, and of FAB's own views' columns, for every
generated page: FAB labels a column it is not told about with its name prettified in English
("Created At", "Name Pinyin"), whatever the language.

``ReadableView`` gives them to a view before FAB builds its forms; ``FAB_TEMPLATE_STRINGS``
are the words of FAB's templates that FAB's own zh catalog lacks, extracted into ours.
"""
from flask import g
from flask_appbuilder.fields import QuerySelectField
from flask_babel import lazy_gettext as _l
from wtforms.fields import TextAreaField
from wtforms.fields.core import UnboundField

from app.core import display, documents
from app.models.mixins import SafeFileColumn

COMMON_LABELS = {
    "created_at": _l("Created at"),
    "updated_at": _l("Updated at"),
    "version": _l("Version"),
    "name_pinyin": _l("Name in pinyin"),
    "name_initials": _l("Initials of the name"),
    "read_at": _l("Read at"),
    "claimed_at": _l("Claimed at"),
    "next_attempt_at": _l("Next attempt at"),
    "idempotency_key": _l("Idempotency key"),
    "payload": _l("Content"),
    "token": _l("Tracking token"),
    "channels": _l("Channels"),
    "matched_at": _l("Matched at"),
    "match_terms": _l("Matching terms"),
    "evaluation_scores": _l("Evaluation scores"),
    "fields": _l("Technical fields"),
    "needs": _l("Technical needs"),
    "sort_order": _l("Sort order"),
    "zones": _l("High-tech zones"),
    # FAB's user, role and group views (Admin).
    "name": _l("Name"),
    "label": _l("Label"),
    "description": _l("Description"),
    "role": _l("Role"),
    "roles": _l("Roles"),
    "user": _l("User"),
    "users": _l("Users"),
    "groups": _l("Groups"),
    "conf_password": _l("Confirm password"),
}

FAB_TEMPLATE_STRINGS = (
    _l("Add"), _l("Edit"), _l("Show"), _l("Delete"),
    _l("Are you sure you want to delete this item?"), _l("Sign In with "),
    # FAB's menu names that its zh catalog lacks; the role pages name permissions by them.
    _l("List Groups"), _l("User's Statistics"),
)
# FAB's user form's descriptions that FAB's zh catalog lacks or marks fuzzy (so not compiled):
# extracted into ours, they are translated with the rest.
FAB_VIEW_STRINGS = (
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("The user's password for authentication"),
)


class ReadableView:
    """A ModelView mixin: the shared columns' labels, unless the view names its own; values
    that read as values (``display.formatters``) where the view has no formatter; search
    fields that start empty."""

    def _init_properties(self):
        self.label_columns = {**COMMON_LABELS, **(self.label_columns or {})}
        super()._init_properties()
        model = getattr(getattr(self, "datamodel", None), "obj", None)
        if model is not None and hasattr(model, "__table__"):
            self.formatters_columns = {**display.formatters(model),
                                       **self._document_formatters(model),
                                       **(self.formatters_columns or {})}

    def _document_formatters(self, model) -> dict:
        """Each file column as a link to this view's download, with a preview for staff."""
        def formatter(stored):
            # Asked once per request and view: a list of 25 rows asked the database 25 times.
            memo = g.setdefault("_may_download", {})
            if self.class_permission_name not in memo:
                memo[self.class_permission_name] = self.appbuilder.sm.has_access(
                    "can_download", self.class_permission_name)
            return documents.document(stored, self.__class__.__name__,
                                      memo[self.class_permission_name])
        return {c.name: formatter for c in model.__table__.columns
                if isinstance(c.type, SafeFileColumn)}

    def _init_forms(self):
        super()._init_forms()
        # FAB gives a search field the column's default: a created_at filter came filled with
        # the server's clock in UTC to the microsecond. A search starts empty.
        for value in vars(self.search_form).values():
            if isinstance(value, UnboundField) and callable(value.kwargs.get("default")):
                value.kwargs["default"] = None
        # A required choice of a record (a need's category and field) starts blank on a new
        # record: FAB selected the first option, which people then saved unread.
        for value in vars(self.add_form).values():
            if (isinstance(value, UnboundField) and value.field_class is QuerySelectField
                    and not value.kwargs.get("allow_blank")):
                value.kwargs.update(allow_blank=True, blank_text=_l("Please choose"))
        # An optional choice of a record left blank reads "None" in the reader's language:
        # FAB's blank option has no text, and select2 then showed its value, "__None".
        for form in (self.add_form, self.edit_form):
            for value in vars(form).values():
                if (isinstance(value, UnboundField) and value.field_class is QuerySelectField
                        and value.kwargs.get("allow_blank")
                        and not value.kwargs.get("blank_text")):
                    value.kwargs["blank_text"] = _l("None")
        # A text area is a box to write paragraphs in (a need's sections), not one line.
        for form in (self.add_form, self.edit_form):
            for value in vars(form).values():
                if isinstance(value, UnboundField) and issubclass(value.field_class,
                                                                  TextAreaField):
                    render = dict(value.kwargs.get("render_kw") or {})
                    render.setdefault("rows", 8)
                    value.kwargs["render_kw"] = render
