"""Base classes every back-office view and API derives from.

They attach the one jurisdiction rule (``app/core/access/jurisdiction.py``) and close the four holes of
stock FAB 5.3 (stack notes §2): ``action`` and ``action_post`` fetch rows without
``base_filters``, ``download`` serves any file name, and the REST API stores rows placed in
another region or owner. They also add the generic ``decide`` page that applies workflow
actions through ``app/workflows``, and queue an audit row for every edit and delete a staff
user makes through them (``app/core/audit/edits.py``).
"""
import functools
import logging
import os.path as op
from contextlib import contextmanager

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    send_file,
    session,
    url_for,
)
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.fields import EnumField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.filemanager import uuid_originalname
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import SQLAFilterConverter
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.urltools import get_filter_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy import JSON, String, Text, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload
from werkzeug.exceptions import BadRequest
from wtforms.validators import Optional

from app.core import display, documents, field_rules, list_counts
from app.core.access import jurisdiction, masking
from app.core.audit.edits import audit_staff_change, remember_before, staff_request
from app.core.choices import RemoteChoices
from app.core.labels import ReadableView
from app.core.list_loading import RelatedRowsKept, boolean_filter_values
from app.extensions import db
from app.models.enums import LabelledEnum
from app.models.mixins import SafeFileColumn
from app.views.api_input import BoundedInterface, StrictConverter
from app.views.search import add_pinyin_search, add_related_pinyin_search
from app.views.search_widget import KeptSearchWidget, search_form_is_shared
from app.workflows import WorkflowError

logger = logging.getLogger(__name__)


class JurisdictionFilter(BaseFilter):
    """FAB filter form of the jurisdiction rule; attached as a base filter, never user-chosen."""

    name = "jurisdiction"
    arg_name = "jur"

    def apply(self, query, value):
        return jurisdiction.scoped(query, self.model)


JURISDICTION = [["id", JurisdictionFilter, lambda: None]]


def _enum_title(enum_cls, code):
    """A code's translated title, looked up once per request: a list of 100 rows asked the
    catalog for the same few state titles 100 times."""
    memo = g.setdefault("_enum_titles", {}) if has_request_context() else {}
    key = (enum_cls, code)
    if key not in memo:
        memo[key] = str(enum_cls(code).title) if code in enum_cls._value2member_map_ else code
    return memo[key]


def _state_badge(enum_cls, code):
    return display.state_badge(code, _enum_title(enum_cls, code))


def enum_formatters(model) -> dict:
    """Each enum column as its translated title; a record's state as a coloured badge."""
    formatters = {}
    for column in model.__table__.columns:
        enum_cls = getattr(column.type, "enum_class", None)
        if enum_cls is not None and issubclass(enum_cls, LabelledEnum):
            shown = _state_badge if column.name in ("state", "result") else _enum_title
            formatters[column.name] = functools.partial(shown, enum_cls)
    return formatters


class LabelledEnumField(EnumField):
    """FAB's EnumField with the translated titles as option labels."""

    def __init__(self, enum_class, enums, **kwargs):
        super().__init__(enum_class, enums, **kwargs)
        self.choices = [(code, enum_class(code).title) for code, _label in self.choices]


def enum_fields(model, labels) -> dict:
    fields = {}
    for column in model.__table__.columns:
        enum_cls = getattr(column.type, "enum_class", None)
        if enum_cls is not None and issubclass(enum_cls, LabelledEnum):
            fields[column.name] = LabelledEnumField(
                enum_cls, column.type.enums, label=labels.get(column.name, column.name),
                widget=Select2Widget(), validators=[Optional()])
    return fields


def file_columns(model) -> list[str]:
    return [c.name for c in model.__table__.columns if isinstance(c.type, SafeFileColumn)]


def out_of_scope(item) -> bool:
    """True if ``item`` (after the user's changes, flushed) lies outside the user's jurisdiction."""
    model = type(item)
    db.session.add(item)
    db.session.flush()
    return jurisdiction.visible(db.session, model, item.id) is None


_DERIVED_TITLES = {
    "show": lambda subject: _("%(subject)s: details", subject=subject),
    "add": lambda subject: _("%(subject)s: new", subject=subject),
    "edit": lambda subject: _("%(subject)s: edit", subject=subject),
}


class RowListWidget(ListWidget):
    template = "office/widgets/list.html"


class PageHistory:
    """FAB's back-navigation history (where a form returns to), written only when the page is
    not already its last entry: FAB rewrote it on every view, so every reload of a list or the
    desk re-signed and re-sent the session cookie."""

    def update_redirect(self):
        history = session.get("page_history") or []
        if not history or history[-1] != request.url:
            super().update_redirect()


class ScopedModelView(ReadableView, PageHistory, RemoteChoices, ModelView):
    base_filters = JURISDICTION
    page_size = 25
    list_widget = RowListWidget
    # Columns whose search offers one box for Chinese, full pinyin or initials.
    pinyin_search_columns = ()
    # Many-to-ones searched by their name in that box instead of a dropdown of every record.
    pinyin_search_relations = ()
    # Many-to-ones a listed property reads (a project's deadline is its round's end), loaded
    # with the page's rows like the listed relations.
    list_loads = ()

    def _init_titles(self):
        # FAB fills a title left unset with English that no catalog translates ("Show Project"
        # on a Chinese page); derive it from the view's translated list title instead.
        unset = [kind for kind in _DERIVED_TITLES if not getattr(self, f"{kind}_title")]
        super()._init_titles()
        for kind in unset:
            setattr(self, f"{kind}_title", LazyString(_DERIVED_TITLES[kind], self.list_title))

    def _init_properties(self):
        super()._init_properties()

        for column in self.pinyin_search_columns:
            add_pinyin_search(self, column)
            for relation in self.pinyin_search_relations:
                add_related_pinyin_search(self, column, relation)
        self.datamodel.eager = tuple(c for c in self.list_columns
                                     if self.datamodel.is_relation_many_to_one(c)) + tuple(
            self.list_loads)
        self.datamodel.unlisted_wide = _unlisted_wide(self.datamodel, self.list_columns)
        # FAB displays and offers an Enum by its code; people read its translated title.
        # Phones and identifying numbers are masked for roles that do not need them (last, so
        # that no view's own formatter shows them in full).
        self.formatters_columns = {**enum_formatters(self.datamodel.obj),
                                   **(self.formatters_columns or {}),
                                   **masking.formatters(self.datamodel.obj)}
        for attr in ("search_form_extra_fields", "add_form_extra_fields", "edit_form_extra_fields"):
            setattr(self, attr, {**enum_fields(self.datamodel.obj, self.label_columns),
                                 **(getattr(self, attr) or {})})
        self._search_form_shared = search_form_is_shared(self)
        # The columns' own rules (lengths, the CHECK constraints' bounds), as the API has them,
        # on the generated fields and on those a view defines itself.
        ruled = field_rules.form_validators(self.datamodel.obj)
        self.validators_columns = {**ruled, **(self.validators_columns or {})}
        for attr in ("add_form_extra_fields", "edit_form_extra_fields"):
            fields = getattr(self, attr)
            setattr(self, attr, {name: field_rules.with_rule(field, ruled[name])
                                 if name in ruled else field for name, field in fields.items()})

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        # The search form offers no column the user sees masked (it could not use it).
        hidden = masking.hidden_columns(self.datamodel.obj)
        columns = [c for c in self.search_columns if c not in hidden]
        widgets["search"] = KeptSearchWidget(
            kept_key=(self.route_base, *sorted(hidden)) if self._search_form_shared else None,
            route_base=self.route_base, form=form, include_cols=columns,
            exclude_cols=exclude_cols or [], filters=self._filters)
        return widgets

    def pre_add(self, item):
        self._guard_scope(item)

    def pre_update(self, item):
        self._guard_scope(item)

    def _add(self):
        """FAB's add, except that a record its rules refuse (``pre_add``: not verified yet,
        outside the jurisdiction, a closed phase) shows the form again with what was typed
        and the reason, instead of redirecting away from an empty form."""
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method != "POST":
            self.update_redirect()
            refusal = self.why_no_new_record()
            if refusal:  # said before the form is filled, not only on save
                flash(refusal, "warning")
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self._fill_form_exclude_cols(exclude_cols, form)
        if not form.validate():
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.process_form(form, True)
        item = self.datamodel.obj()
        try:
            form.populate_obj(item)
            self.pre_add(item)
        except Exception as error:  # FAB's contract: a hook refuses by raising
            db.session.rollback()
            flash(str(error), "danger")
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        try:
            self.datamodel.add(item)
        except Exception:  # logged by FAB's interface, rolled back; the form stays as typed
            flash(self.database_error_message, "danger")
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.post_add(item)
        g.saved_pk = item.id
        flash(self.add_row_message, "success")
        return None

    def why_no_new_record(self) -> str | None:
        """Why the signed-in user could not save a new record now, if the rules say so before
        anything is typed (a view asks its domain rule)."""
        return None

    def post_add_redirect(self):
        """After a save, the record itself (with its next action), not the list or home."""
        return self._to_the_record(getattr(g, "saved_pk", None)) or super().post_add_redirect()

    def post_edit_redirect(self):
        return self._to_the_record((request.view_args or {}).get("pk")) or (
            super().post_edit_redirect())

    def _to_the_record(self, pk):
        if pk is None or not current_app.appbuilder.sm.has_access(
                "can_show", self.class_permission_name):
            return None
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    def _edit(self, pk):
        if request.method == "POST" and staff_request():  # audit: the record before the form
            remember_before(self.datamodel.get(pk, self._base_filters), self.edit_columns)
        return super()._edit(pk)

    def _guard_scope(self, item):
        if out_of_scope(item):
            db.session.rollback()
            raise ValueError(_("This record would lie outside your jurisdiction."))

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if self.datamodel.get(pk, self._base_filters) is None:
            abort(404)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        pks = request.form.getlist("rowid")
        allowed = jurisdiction.visible_ids(db.session, self.datamodel.obj, pks)
        if not pks or {str(p) for p in pks} - {str(i) for i in allowed}:
            abort(404)
        return super().action_post()

    def _document_path(self, filename) -> str:
        """The path of a file stored in one of this model's file columns, on a row the user
        may see; 404 otherwise (FAB's own download served any name)."""
        model = self.datamodel.obj
        columns = file_columns(model)
        if not columns:
            abort(404)
        stmt = select(model.id).where(or_(*[getattr(model, c) == filename for c in columns]))
        if db.session.execute(jurisdiction.scoped(stmt, model)).first() is None:
            abort(404)
        path = op.join(current_app.config["UPLOAD_FOLDER"], filename)
        if not op.isfile(path):
            abort(404)
        return path

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        return send_file(self._document_path(filename), download_name=uuid_originalname(filename),
                         as_attachment=True)

    @expose("/preview/<string:filename>")
    @has_access
    @permission_name("download")
    def preview(self, filename):
        """The same file shown in the page (PDF, PNG, JPG only), under its own CSP."""
        path = self._document_path(filename)
        kind = documents.extension(filename)
        if kind not in documents.KINDS:
            abort(404)
        response = send_file(path, mimetype=documents.IMAGE_TYPES.get(kind, "application/pdf"),
                             download_name=uuid_originalname(filename), as_attachment=False)
        response.headers.update(documents.inline_headers(filename))
        return response


class ScopedModelRestApi(ModelRestApi):
    base_filters = JURISDICTION
    max_page_size = 100
    model2schemaconverter = StrictConverter  # related ids must exist (api_input.py)

    def _init_properties(self):
        super()._init_properties()
        # The columns' own rules, as the back-office forms have them (app/core/field_rules.py).
        self.validators_columns = {**field_rules.api_validators(self.datamodel.obj),
                                   **(self.validators_columns or {})}

    # A database constraint that refuses a write (the jurisdiction check flushes in the pre
    # hooks, outside FAB's own handling) answers 422, never 500. The columns' rules above
    # refuse most such values before; this is the net under them.
    def post_headless(self):
        try:
            return super().post_headless()
        except IntegrityError as error:
            db.session.rollback()
            return self.response_422(message=str(error.orig))

    def put_headless(self, pk):
        try:
            return self._put_headless(pk)
        except IntegrityError as error:
            db.session.rollback()
            return self.response_422(message=str(error.orig))

    # The same masking as the screens (app/core/access/masking.py), on the response before it is sent.
    def pre_get(self, data):
        masking.mask_response(self.datamodel.obj, data.get("result"))

    def pre_get_list(self, data):
        masking.mask_response(self.datamodel.obj, data.get("result"))

    def pre_add(self, item):
        self._guard_scope(item)

    def pre_update(self, item):
        self._guard_scope(item)

    def _put_headless(self, pk):
        if staff_request():  # audit of staff edits: the record before the JSON is loaded
            remember_before(self.datamodel.get(pk, self._base_filters), self.edit_columns)
        return super().put_headless(pk)

    def _guard_scope(self, item):
        if out_of_scope(item):
            db.session.rollback()
            raise BadRequest(_("This record would lie outside your jurisdiction."))


@contextmanager
def as_bad_request():
    """A refused workflow rule inside a REST hook becomes HTTP 400 with its message."""
    try:
        yield
    except WorkflowError as err:
        db.session.rollback()
        raise BadRequest(str(err)) from None


class KeptFilterConverter(SQLAFilterConverter):
    """FAB's converter, converting each column once per interface. FAB builds a ``Filters``
    three times for every list page (the joined filters, and the inner filters of the count
    and of the page), each converting every column of the model to its filter objects only to
    discard them: a quarter of a 25-row page. The filter objects are shared, as the view's own
    ``Filters`` shares them across requests; each caller gets its own list of them, since views
    insert their pinyin filters into the lists they are given (``views/search.py``)."""

    def convert(self, col_name):
        kept = self.datamodel.__dict__.setdefault("_kept_filters", {})
        if col_name not in kept:
            kept[col_name] = super().convert(col_name)
        filters = kept[col_name]
        return None if filters is None else list(filters)


# A filtered list page of at most this many rows is sorted after its rows are found.
SORTED_AFTER_FILTERING = 10_000


class EagerInterface(RelatedRowsKept, BoundedInterface):
    """FAB's interface, loading a list's many-to-one columns with the page itself (a joined
    load) instead of one statement per row and column as stock FAB does."""

    filter_converter_class = KeptFilterConverter
    eager: tuple = ()

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False):
        if page is None and page_size is None and select_columns is None:
            return self._choices(filters, order_column, order_direction)
        return super().query(filters, order_column, order_direction, page, page_size,
                             select_columns, outer_default_load)

    def _choices(self, filters, order_column, order_direction):
        """Every row, as FAB asks for a form's related choices: limited by the jurisdiction rule
        (stock FAB offers every region's records in a bureau's dropdowns) and without the
        count a page needs."""
        query = self.session.query(self.obj)
        if not jurisdiction.choices_are_shared(self.obj):
            query = jurisdiction.scoped(query, self.obj)
        rows = self.apply_all(query, filters, order_column, order_direction).all()
        return len(rows), rows

    def query_count(self, query, filters=None, select_columns=None) -> int:
        """FAB's count of a list page, kept while its tables are unwritten (list_counts). FAB
        counts before it reads the page: the count says how the page is sorted (apply_all)."""
        refuse_hidden_columns(self.obj, filters)
        count = list_counts.count(self._apply_inner_all(query, filters,
                                                        select_columns=select_columns,
                                                        aliases_mapping={}))
        if has_request_context():
            g.setdefault("_list_counts", {})[self.obj] = count
        return count

    def _sorted_after_filtering(self, filters, order_column, page_size, select_columns):
        """A list page whose filters leave at most SORTED_AFTER_FILTERING rows: sorted after
        they are found. SQLite, which keeps no histograms, walked the order's index instead,
        checking the filter on every row: the 2,000,000 matches by score, filtered on a push
        date nobody was told on, took 4.9 s; found through the date's index and sorted, 10 ms."""
        counted = g.get("_list_counts", {}).get(self.obj) if has_request_context() else None
        return (counted is not None and counted <= SORTED_AFTER_FILTERING
                and page_size is not None and select_columns is None
                and bool(getattr(filters, "filters", None))
                and order_column in self.obj.__table__.columns)

    # FAB's edit and delete of every view and API end here, right before the commit.
    def edit(self, item, commit=True):
        audit_staff_change(item)
        super().edit(item, commit)

    def delete(self, item, commit=True):
        audit_staff_change(item, deleted=True)
        super().delete(item, commit)

    unlisted_wide: tuple = ()

    def get_search_columns_list(self):
        """FAB's searchable columns without the JSON ones: FAB offered text filters on them (a
        notification's payload, a need's matching profile through the API), which scan every
        row and that SQLAlchemy deprecates on JSON."""
        return [name for name in super().get_search_columns_list()
                if not isinstance(getattr(self.obj.__table__.columns.get(name), "type", None),
                                  JSON)]

    def apply_all(self, query, filters=None, order_column="", order_direction="", page=None,
                  page_size=None, select_columns=None, outer_default_load=False):
        refuse_hidden_columns(self.obj, filters, order_column)
        if page is not None and page < 0:
            # Before any statement: PostgreSQL refuses a negative OFFSET and aborts the
            # transaction, which FAB's API then answered 400 for and left broken.
            raise BadRequest(_("A page number cannot be negative."))
        if self._sorted_after_filtering(filters, order_column, page_size, select_columns):
            query = super().apply_all(query, filters, "", "", None, None, select_columns,
                                      outer_default_load)
            # coalesce(x, x) is x, but no index can give its order: the planner finds the
            # rows through the filters' indexes, then sorts them.
            key = func.coalesce(getattr(self.obj, order_column), getattr(self.obj, order_column))
            # and the key after it, as FAB orders: pages over tied values stay disjoint
            query = query.order_by(*(
                (key.desc(), self.obj.id.desc()) if order_direction == "desc" else
                (key.asc(), self.obj.id.asc())))
            query = query.offset(page * page_size).limit(page_size) if page else query.limit(
                page_size)
        else:
            query = super().apply_all(query, filters, order_column, order_direction, page,
                                      page_size, select_columns, outer_default_load)
        if self.eager:
            query = query.options(*[_joined(getattr(self.obj, name)) for name in self.eager])
        if page_size is not None and select_columns is None and self.unlisted_wide:
            # A list page: the rows' own JSON and text columns it does not show are read on
            # access.
            query = query.options(*[defer(getattr(self.obj, name))
                                    for name in self.unlisted_wide])
        return query


def refuse_hidden_columns(model, filters=None, order_column=""):
    """A filter or an order on a column the user sees masked is refused (400), on every view
    and API alike: FAB lets a list's ``_flt_`` arguments name any column of the model, and the
    API's ``q`` any search column. So is a filter on a text column given something other than
    text (FAB's filters add "%" to it: a number was a TypeError and a 500)."""
    if not has_request_context():
        return
    given = getattr(filters, "filters", None) or ()
    values = getattr(filters, "values", None) or ()
    for column in [*(f.column_name for f in given), order_column or ""]:
        if column and masking.is_hidden(model, column):
            raise BadRequest(_("You cannot search or sort by “%(column)s”.", column=column))
    for flt, value in zip(given, values):
        column = model.__table__.columns.get(flt.column_name)
        if column is not None and isinstance(column.type, String) and not _texts(value):
            raise BadRequest(_("“%(column)s” is searched by text.", column=flt.column_name))
    boolean_filter_values(model, filters)


def _texts(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(
        isinstance(v, str) for v in value))


def _unlisted_wide(datamodel, list_columns) -> tuple:
    """The model's JSON and text columns a list may leave unloaded: those it does not show,
    when every column it shows is a plain column or a relation (a computed column might read
    them). A need's six sections are most of its row: fetching and loading them for a page of
    100 that shows none was 6 % of the page."""
    model = datamodel.obj
    columns = model.__table__.columns
    if not all(name in columns or datamodel.is_relation(name) for name in list_columns):
        return ()
    return tuple(column.key for column in columns
                 if isinstance(column.type, (JSON, Text)) and column.key not in list_columns)


def _joined(relation):
    """A joined load of a list's many-to-one, without the related row's JSON columns (a need's
    or researcher's matching profile: decoding them was a fifth of a proposal list page);
    read on access, as a deferred column is."""
    related = relation.property.mapper.class_
    option = joinedload(relation)
    for column in related.__table__.columns:
        if isinstance(column.type, JSON):
            option = option.defer(getattr(related, column.key))
    return option


def interface(model):
    # Out-of-range keys are "no such row", not a database error (api_input.py).
    return EagerInterface(model)
