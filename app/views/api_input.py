"""Input the REST API must refuse with 400/404 instead of failing with 500 (found by the
schemathesis run of tests/views/test_api_fuzz.py).

* A primary key beyond the column's integer range reached the database: SQLite raised
  OverflowError, PostgreSQL "integer out of range". ``BoundedInterface.get`` answers "no such
  row" (404) for a key that no row can have.
* A related value that is not an id (``{"category": {}}``, a list, ``true``) went to
  ``session.get`` as is, and an unknown id made marshmallow-sqlalchemy build a *new* related
  row (a Region, an Enterprise) that the insert then tripped over. ``StrictRelated`` accepts an
  existing row's integer id only and otherwise reports a field error (400).
"""
from flask_appbuilder.api.convert import Model2SchemaConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from marshmallow_sqlalchemy.fields import Related, RelatedList

# Primary keys are INTEGER columns: 32-bit signed on PostgreSQL.
PK_MIN, PK_MAX = 1, 2**31 - 1


def as_pk(value) -> int | None:
    """``value`` as a possible primary key, or None if no row can have it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdecimal() or len(value) > 10:
            return None
        value = int(value)
    if not isinstance(value, int) or not PK_MIN <= value <= PK_MAX:
        return None
    return value


class BoundedInterface(SQLAInterface):
    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        pk = as_pk(id)
        if pk is None:
            return None
        return super().get(pk, filters, select_columns, outer_default_load)


class StrictRelated(Related):
    """A many-to-one value: the id of an existing row, or ``{"id": <id>}``."""

    default_error_messages = {"unknown": _l("Not a valid choice.")}

    def _deserialize(self, value, *args, **kwargs):
        keys = [prop.key for prop in self.related_keys]
        if isinstance(value, dict) and len(keys) == 1 and list(value) == keys:
            value = value[keys[0]]
        pk = as_pk(value) if len(keys) == 1 else None
        result = None if pk is None else self.session.get(self.related_model, pk)
        if result is None:
            raise ValidationError(str(self.error_messages["unknown"]))
        return result


class StrictConverter(Model2SchemaConverter):
    def _column2relation(self, datamodel, column, nested=False, parent_schema_name=None):
        field = super()._column2relation(datamodel, column, nested, parent_schema_name)
        if type(field) is Related:
            strict = StrictRelated(columns=field.columns or None, required=field.required,
                                   allow_none=field.allow_none)
        elif isinstance(field, RelatedList):
            strict = RelatedList(StrictRelated(columns=field.inner.columns or None),
                                 required=field.required)
        else:
            return field
        strict.unique = field.unique
        return strict
