"""Relations chosen by typing, not from a dropdown of every row.

FAB renders a many-to-one field (of an add, edit or search form) as a ``<select>`` of every
related row: the user form offered 150,004 enterprises and researchers at province scale, a
7 MB page that took 11 s. A relation to anything but reference data is rendered instead as a
select2 box that asks ``<view>/choices/<column>?q=…`` for the rows matching what is typed (20
at a time, the jurisdiction rule and the form's own filters applied), holding only the chosen
row. The value posted is checked the same way (the row must be one the form could offer).

``remote_relations(view)`` rewrites a view's forms after FAB made them; ``search(view, column,
term)`` answers the box. Reference data (regions, categories, taxonomy, rounds: a few hundred
rows at most) and FAB's security tables keep their dropdowns.
"""
from flask import abort, jsonify, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import String, cast, or_
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

from app.core.access import jurisdiction

# Columns a row is found by when its name is typed, in this order of preference.
SEARCHED = ("name", "title", "username", "first_name", "last_name", "number", "code",
            "credit_code")
PAGE = 20
MAX_OPTIONS = 500  # the limit every rendered <select> stays under (tests/views/test_pages_scale)


def is_remote(model) -> bool:
    """Whether a relation to ``model`` is chosen by typing: anything but reference data and
    FAB's own security tables (roles, permissions: tens of rows)."""
    if getattr(model, "__reference_data__", False):
        return False
    return not model.__tablename__.startswith("ab_") or model.__tablename__ == "ab_user"


class RemoteSelectWidget(Select2Widget):
    """A ``<select>`` holding only the chosen row; office.js turns it into a select2 box that
    fetches the rows matching what is typed from ``data-remote``."""

    def __init__(self, multiple=False, **kwargs):
        super().__init__(**kwargs)
        self.multiple = multiple

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = "multiple"
        kwargs["class"] = "remote_select2 form-control"
        kwargs["data-remote"] = field.remote_url()
        kwargs["data-placeholder"] = field.placeholder or _("Type a name to search")
        # select2's own messages are English: the page says them in the reader's language
        kwargs["data-msg-type"] = _("Type at least one character")
        kwargs["data-msg-none"] = _("Nothing found")
        kwargs["data-msg-searching"] = _("Searching…")
        kwargs["data-msg-error"] = _("The list could not be loaded; try again.")
        options = [Markup('<option value=""></option>')]
        for value, label, selected, *_render_kw in field.iter_choices():
            if value == "__None":
                continue
            options.append(Markup('<option value="{}"{}>{}</option>').format(
                value, Markup(" selected") if selected else "", label))
        attrs = " ".join(f'{escape(k)}="{escape(v)}"' for k, v in kwargs.items()
                         if v is not None and k not in ("style",))
        return Markup(f'<select name="{escape(field.name)}" {attrs} style="width:100%">'
                      ) + Markup("").join(options) + Markup("</select>")


class _Remote:
    """What the two remote fields share: read only the chosen rows, through ``offered``."""

    def _setup(self, interface, filters, view, column, placeholder):
        self.interface, self.rel_filters = interface, filters
        self.view, self.column, self.placeholder = view, column, placeholder

    def remote_url(self):
        return url_for(f"{self.view.endpoint}.choices", col_name=self.column)

    def _wanted(self) -> list:
        if self._formdata is not None:  # what was posted: a key, or a set of keys
            posted = self._formdata
            return list(posted) if isinstance(posted, (set, list, tuple)) else [posted]
        data = self._data if isinstance(self, QuerySelectMultipleField) else self.data
        rows = data if isinstance(data, (list, tuple)) else ([data] if data is not None else [])
        return [self.get_pk_func(row) for row in rows]

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:  # WTForms' own words are English only
            raise ValidationError(_("This record cannot be chosen here.")) from None

    def _get_object_list(self):
        if self._object_list is None:
            wanted = self._wanted()
            rows = offered(self.interface, self.rel_filters, ids=wanted) if wanted else []
            self._object_list = [(str(self.get_pk_func(obj)), obj) for obj in rows]
        return self._object_list


class RemoteSelectField(_Remote, QuerySelectField):
    """FAB's ``QuerySelectField`` that reads only the chosen row (to render it, and to check
    a posted value against the rows the form may offer) instead of every related row."""

    def __init__(self, label=None, validators=None, *, interface, filters, view, column,
                 placeholder="", **kwargs):
        kwargs.pop("query_func", None)
        kwargs.pop("widget", None)
        super().__init__(label, validators, query_func=lambda: [], widget=RemoteSelectWidget(),
                         **kwargs)
        self._setup(interface, filters, view, column, placeholder)


class RemoteSelectMultipleField(_Remote, QuerySelectMultipleField):
    """The same for a to-many relation (a group's users)."""

    def __init__(self, label=None, validators=None, *, interface, filters, view, column,
                 placeholder="", **kwargs):
        kwargs.pop("query_func", None)
        kwargs.pop("widget", None)
        super().__init__(label, validators, query_func=lambda: [],
                         widget=RemoteSelectWidget(multiple=True), **kwargs)
        self._setup(interface, filters, view, column, placeholder)


def offered(interface, filters, term: str = "", ids=None, limit: int = PAGE):
    """The related rows a form may offer (jurisdiction, the form's filters), those of ``ids``
    or those matching ``term``, at most ``limit``."""
    model = interface.obj
    query = interface.session.query(model)
    if not jurisdiction.choices_are_shared(model):
        query = jurisdiction.scoped(query, model)
    if filters is not None:
        query = filters.apply_all(query)
    if ids is not None:
        keys = [int(i) for i in ids if str(i).isdigit()]
        if not keys:
            return []
        query = query.filter(model.id.in_(keys))
    elif term:
        columns = [model.__table__.columns[name] for name in SEARCHED
                   if name in model.__table__.columns]
        clauses = [column.ilike(f"%{term}%") for column in columns
                   if isinstance(column.type, String)]
        if term.isdigit():
            clauses.append(cast(model.id, String) == term)
        if not clauses:
            return []
        query = query.filter(or_(*clauses))
    return query.order_by(model.id).limit(limit).all()


REMOTE_FIELDS = {QuerySelectField: RemoteSelectField,
                 QuerySelectMultipleField: RemoteSelectMultipleField}


def _rewrite(view, form, query_rel_fields):
    """The form class with each relation to a big table as a ``RemoteSelectField``."""
    datamodel = view.datamodel
    for name in dir(form):
        unbound = getattr(form, name, None)
        if not isinstance(unbound, UnboundField):
            continue
        remote_class = REMOTE_FIELDS.get(unbound.field_class)
        if remote_class is None or not datamodel.is_relation(name):
            continue
        related = datamodel.get_related_interface(name)
        if not is_remote(related.obj):
            continue
        filters = None
        if query_rel_fields and name in query_rel_fields:
            filters = related.get_filters().add_filter_list(query_rel_fields[name])
        kwargs = dict(unbound.kwargs)
        setattr(form, name, UnboundField(
            remote_class, *unbound.args, interface=related, filters=filters,
            view=view, column=name, **kwargs))
        view._remote_columns[name] = (related, filters)
    return form


def remote_relations(view):
    """Rewrite ``view``'s add, edit and search forms (call after FAB's ``_init_forms``)."""
    view._remote_columns = {}
    for form_attr, rel_attr in (("add_form", "add_form_query_rel_fields"),
                                ("edit_form", "edit_form_query_rel_fields"),
                                ("search_form", "search_form_query_rel_fields")):
        form = getattr(view, form_attr, None)
        if form is not None:
            _rewrite(view, form, getattr(view, rel_attr, None))


def search(view, column: str, term: str, ids=None) -> dict | None:
    """select2's answer for ``column`` of ``view``: ``{"results": [{"id", "text"}]}``, or
    None when the column is not chosen by typing on this view."""
    found = getattr(view, "_remote_columns", {}).get(column)
    if found is None:
        return None
    interface, filters = found
    rows = offered(interface, filters, term.strip()[:50], ids=ids)
    return {"results": [{"id": interface.get_pk_value(row), "text": str(row)} for row in rows]}


class RemoteChoices:
    """A model view whose relations to big tables are chosen by typing (mixed in before FAB's
    ``ModelView``): its forms rewritten, and the endpoint their boxes ask."""

    def _init_forms(self):
        super()._init_forms()
        remote_relations(self)

    @expose("/choices/<string:col_name>")
    @has_access
    @permission_name("list")
    def choices(self, col_name):
        ids = request.args.getlist("id") or None
        answer = search(self, col_name, request.args.get("q", ""), ids=ids)
        if answer is None:
            abort(404)
        return jsonify(answer)
