"""The back-office search form, made once per view and language when everyone sees the same.

FAB renders every field of a list's search form for every page, dropdowns of related records
included (a query and ~100 options for a need's field): a third of a need list page. When a
view's related search columns are all reference data (``__reference_data__``) or directories
every form offers (``__public_choices__``), the form is the same for every user, so its
fields, labels and filter names are kept per process and language under the "reference"
cache token (``app/core/cache_tokens.py``), which every change of such a record replaces. The
active filters are read from the request each time.
"""
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.widgets import RenderTemplateWidget, SearchWidget
from flask_babel import get_locale

from app.core import cache_tokens
from app.core.access import jurisdiction

MAX_KEPT = 500  # (view, language) pairs


def search_form_is_shared(view) -> bool:
    """True if ``view``'s search form offers the same choices to every user."""
    datamodel = view.datamodel
    for column in view.search_columns:
        extra = (view.search_form_extra_fields or {}).get(column)
        if extra is not None:
            if issubclass(getattr(extra, "field_class", type(extra)), QuerySelectField):
                return False
        elif datamodel.is_relation(column):
            if not jurisdiction.choices_are_shared(datamodel.get_related_model(column)):
                return False
    return True


class KeptSearchWidget(SearchWidget):
    """FAB's search widget; ``kept_key`` (the view's route) when its form may be kept."""

    def __init__(self, kept_key=None, **kwargs):
        self.kept_key = kept_key
        super().__init__(**kwargs)

    def _parts(self) -> dict:
        # FAB's SearchWidget.__call__, without the active filters
        form, filters = self.template_args["form"], self.filters.get_search_filters()
        columns = self.template_args["include_cols"]
        return {"label_columns": {c: as_unicode(form[c].label.text) for c in columns},
                "form_fields": {c: form[c]() for c in columns},
                "search_filters": {c: [as_unicode(f.name) for f in filters[c]] for c in columns}}

    def _kept_parts(self) -> dict:
        if not self.kept_key:
            return self._parts()
        key = (self.kept_key, str(get_locale()))
        return cache_tokens.kept("reference", "kept_search_forms", key, self._parts, MAX_KEPT)

    def __call__(self, **kwargs):
        kwargs.update(self._kept_parts())
        kwargs["active_filters"] = self.filters.get_filters_values_tojson()
        return RenderTemplateWidget.__call__(self, **kwargs)

