"""List pages load what their rows show with the page, for FAB's own security views too.

FAB's user list shows each user's roles and groups, its role list each role's permissions (and
their names), its group list each group's roles: stock FAB reads them row by row (57 statements
for 25 users, 207 for 100). ``ListInterface`` loads a list page's to-many columns with one
statement each (``selectinload``) and their rows' own many-to-one relations with them.
"""
import datetime as dt
from decimal import Decimal, InvalidOperation

from dateutil import parser as date_parser
from flask import g, has_request_context
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from sqlalchemy import Boolean, DateTime, Numeric
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import BadRequest

from app.utils import clock

YES, NO = {"y", "yes", "true", "1", "on"}, {"n", "no", "false", "0", "off", ""}


def boolean_filter_values(model, filters):
    """A list's filter on a yes/no or a decimal column takes a value of its type: FAB passed
    the text of the address to the database as it was, which PostgreSQL refuses (``boolean =
    varchar``, ``numeric = varchar``: a 500 for any value, FAB's own "y" included). The values
    become booleans and decimals; anything else is a 400. A time is typed as the lists show
    times, in Beijing, and compared as stored, in UTC: FAB compared the typed time with the
    stored one as it was, eight hours off."""
    given = getattr(filters, "filters", None) or ()
    values = getattr(filters, "values", None)
    for index, (flt, value) in enumerate(zip(given, values or ())):
        column = model.__table__.columns.get(flt.column_name)
        if column is None:
            continue
        if isinstance(column.type, Boolean):
            convert = _yes_or_no
        elif isinstance(column.type, Numeric):  # Float too; FAB converts integers itself
            convert = _decimal
        elif isinstance(column.type, DateTime):
            convert = _stored_time
        else:
            continue
        # FAB keeps each filter's values as a list (an argument may repeat)
        given_values = value if isinstance(value, list) else [value]
        converted = [convert(v, flt.column_name) for v in given_values]
        values[index] = converted if isinstance(value, list) else converted[0]


def _decimal(value, column) -> Decimal:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise BadRequest(_("“%(column)s” is searched by a number.", column=column))
    return number


def _stored_time(value, column):
    """A time as typed on a page (Beijing; a day alone is its midnight) as the database stores
    it (UTC); a time with its own offset is taken as it says."""
    if isinstance(value, dt.datetime) or not str(value).strip():
        # A time already as stored: a code's own filter, or this value converted for the
        # page's count before the page itself (the same filters, converted in place). No
        # value: FAB leaves the filter out.
        return value
    try:
        moment = date_parser.parse(str(value).strip())
    except (ValueError, OverflowError):
        raise BadRequest(_("“%(column)s” is searched by a date and time, such as "
                           "2026-12-07 09:30.", column=column)) from None
    if moment.tzinfo is None:
        # The pages show Beijing time; the API gives times as stored (UTC) and takes them so.
        moment = moment.replace(tzinfo=dt.timezone.utc if _api_request() else clock.zone())
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _api_request() -> bool:
    from flask import request

    return has_request_context() and request.path.startswith("/api/")


def _yes_or_no(value, column) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in YES | NO:
        raise BadRequest(_("“%(column)s” is searched by yes or no.", column=column))
    return text in YES


def to_many_options(model, names):
    """Loader options for the to-many relations ``names`` of ``model`` (and the many-to-ones
    of their rows), one statement per relation."""
    options = []
    for name in names:
        relation = getattr(model, name)
        option = selectinload(relation)
        related = relation.property.mapper
        for inner in related.relationships:
            if inner.direction.name == "MANYTOONE":
                options.append(selectinload(relation).joinedload(getattr(related.class_,
                                                                          inner.key)))
        options.append(option)
    return options


class RelatedRowsKept:
    """FAB's relation filters look the chosen row up (``get_related_obj``) for the page and
    again for its count, a statement each (the first row was no longer in the session's weak
    identity map). The row is kept for the request."""

    def get_related_obj(self, col_name, value):
        if not has_request_context():
            return super().get_related_obj(col_name, value)
        kept = g.setdefault("_related_rows", {})
        key = (self.get_related_model(col_name), str(value))
        if key not in kept:
            kept[key] = super().get_related_obj(col_name, value)
        return kept[key]


class ListInterface(RelatedRowsKept, SQLAInterface):
    """FAB's interface; a list page (``page_size`` given) loads ``listed_many`` with it."""

    def __init__(self, obj, listed_many=(), session=None):
        super().__init__(obj, session=session)
        self.listed_many = tuple(listed_many)

    def query_count(self, query, filters=None, select_columns=None):
        boolean_filter_values(self.obj, filters)
        return super().query_count(query, filters, select_columns)

    def apply_all(self, query, filters=None, order_column="", order_direction="", page=None,
                  page_size=None, select_columns=None, outer_default_load=False):
        boolean_filter_values(self.obj, filters)
        query = super().apply_all(query, filters, order_column, order_direction, page,
                                  page_size, select_columns, outer_default_load)
        if page_size is not None and select_columns is None and self.listed_many:
            query = query.options(*to_many_options(self.obj, self.listed_many))
        return query
