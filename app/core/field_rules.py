"""What a field of a record may hold, in one place for the back-office forms, the REST API and
every other writer (imports, jobs, the CLI).

- **Lengths and ranges** come from the columns themselves: a ``String(n)`` holds ``n``
  characters, a ``Text`` column ``info["max_length"]`` (``TEXT_MAX_LENGTH`` unless it says),
  and a number the bounds of the table's CHECK constraints (``amount > 0``,
  ``score >= 0 AND score <= 10``). The forms and the API build their validators from them, so
  the API refuses with 400 what the form refuses beside the field, instead of storing 200,000
  characters the form would not take, or failing on the database's CHECK with a 500.
- **Invisible characters** go before any value is stored (``clean_pending_values``, a flush
  listener): a single-line value keeps no control character (a CR/LF in a title broke every
  e-mail subject about it) and no format character (right-to-left overrides and zero-width
  characters let a name pose as another); a multi-line text keeps its line breaks and tabs.
"""
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from marshmallow import validate as marshmallow_validate
from sqlalchemy import CheckConstraint, Enum, Numeric, String, Text, inspect
from wtforms import validators as wtforms_validators

TEXT_MAX_LENGTH = 10_000
_BOUND = re.compile(r"^\s*(\w+)\s*(>=|>|<=|<)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Rule:
    max_length: int | None = None
    minimum: Decimal | None = None
    minimum_inclusive: bool = True
    maximum: Decimal | None = None
    maximum_inclusive: bool = True


def _check_bounds(table) -> dict:
    """``{column: {"minimum": …, …}}`` from the table's CHECK constraints of the simple shape
    ``col > n``, ``col >= n AND col <= m``; any other constraint is the database's alone."""
    bounds = {}
    for constraint in table.constraints:
        if not isinstance(constraint, CheckConstraint):
            continue
        for part in re.split(r"\bAND\b", str(constraint.sqltext), flags=re.IGNORECASE):
            found = _BOUND.match(part)
            if not found or found.group(1) not in table.columns:
                continue
            column, operator, number = found.group(1), found.group(2), Decimal(found.group(3))
            side = "minimum" if operator.startswith(">") else "maximum"
            bounds.setdefault(column, {})[side] = number
            bounds[column][f"{side}_inclusive"] = operator.endswith("=")
    return bounds


def rules_of(model) -> dict[str, Rule]:
    """The rule of every column of ``model`` that has one."""
    table = model.__table__
    bounds = _check_bounds(table)
    rules = {}
    for column in table.columns:
        if isinstance(column.type, Enum):
            continue  # its choices are its rule
        if isinstance(column.type, String) and not isinstance(column.type, Text) \
                and column.type.length:
            rules[column.key] = Rule(max_length=column.type.length)
        elif isinstance(column.type, Text) and not column.foreign_keys:
            rules[column.key] = Rule(max_length=column.info.get("max_length", TEXT_MAX_LENGTH))
        elif isinstance(column.type, Numeric) and column.key in bounds:
            rules[column.key] = Rule(**bounds[column.key])
    return rules


class _Range:
    """WTForms' NumberRange with exclusive bounds (it has only inclusive ones)."""

    def __init__(self, rule: Rule):
        self.rule = rule

    def __call__(self, form, field):
        if field.data is None:
            return
        message = range_message(self.rule)
        if message is not None and not in_range(self.rule, field.data):
            raise wtforms_validators.ValidationError(str(message))


def in_range(rule: Rule, value) -> bool:
    value = Decimal(str(value))
    if rule.minimum is not None and (value < rule.minimum or (
            value == rule.minimum and not rule.minimum_inclusive)):
        return False
    return rule.maximum is None or not (value > rule.maximum or (
        value == rule.maximum and not rule.maximum_inclusive))


def range_message(rule: Rule):
    low, high = rule.minimum, rule.maximum
    if low is not None and high is not None:
        return _l("Must be between %(low)s and %(high)s.", low=_number(low), high=_number(high))
    if low is not None:
        return (_l("Must be at least %(low)s.", low=_number(low)) if rule.minimum_inclusive
                else _l("Must be more than %(low)s.", low=_number(low)))
    if high is not None:
        return _l("Must be at most %(high)s.", high=_number(high))
    return None


def _number(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral() else f"{value:,}"


def form_validators(model) -> dict[str, list]:
    """WTForms validators of each ruled column, for a back-office view's forms."""
    found = {}
    for column, rule in rules_of(model).items():
        if rule.max_length is not None:
            found[column] = [wtforms_validators.Length(max=rule.max_length)]
        elif rule.minimum is not None or rule.maximum is not None:
            found[column] = [_Range(rule)]
    return found


def with_rule(unbound, validators: list):
    """A form field a view defines itself (an extra field), given the column's validators as
    well: the rule holds for it as for a generated field."""
    args, kwargs = list(unbound.args), dict(unbound.kwargs)
    if "validators" in kwargs or len(args) < 2:
        kwargs["validators"] = [*(kwargs.get("validators") or ()), *validators]
    else:
        args[1] = [*(args[1] or ()), *validators]
    return unbound.field_class(*args, **kwargs)


def api_validators(model) -> dict:
    """The marshmallow validator of each ruled column (FAB takes one per column), for a REST
    API's schemas."""
    found = {}
    for column, rule in rules_of(model).items():
        if rule.max_length is not None:
            found[column] = marshmallow_validate.Length(max=rule.max_length)
        elif rule.minimum is not None or rule.maximum is not None:
            found[column] = _ApiRange(rule)
    return found


class _ApiRange(marshmallow_validate.Validator):
    """marshmallow's Range, with the message in the reader's language at the time of use."""

    def __init__(self, rule: Rule):
        self.rule = rule

    def __call__(self, value):
        if value is not None and not in_range(self.rule, value):
            raise marshmallow_validate.ValidationError(str(range_message(self.rule)))
        return value


# -- invisible characters --------------------------------------------------------------------

def _invisible(character: str, keep: str = "") -> bool:
    return character not in keep and unicodedata.category(character) in ("Cc", "Cf")


def clean_line(value: str) -> str:
    """A single-line value without control or format characters (a tab becomes a space)."""
    value = value.replace("\t", " ")
    return "".join(c for c in value if not _invisible(c))


def clean_text(value: str) -> str:
    """A multi-line text without control or format characters but its line breaks and tabs;
    CR LF and lone CR become LF."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in value if not _invisible(c, keep="\n\t"))


def clean_pending_values(session, _flush_context, _instances):
    """``before_flush``: every string value about to be written, cleaned (forms, API, imports,
    jobs alike). JSON and binary columns are left as they are, and so are the records that
    keep what was given verbatim (``__verbatim__``: the audit log, whose rows are evidence of
    what someone typed)."""
    new = session.new
    for obj in list(new) + list(session.dirty):
        if getattr(obj, "__verbatim__", False):
            continue
        state = inspect(obj)
        for attribute in state.mapper.column_attrs:
            column = attribute.columns[0]
            if not isinstance(column.type, String):
                continue
            # An unchanged value is not read (it may not even be loaded).
            if obj not in new and not state.attrs[attribute.key].history.has_changes():
                continue
            value = getattr(obj, attribute.key, None)
            if not isinstance(value, str):
                continue
            cleaned = clean_text(value) if isinstance(column.type, Text) else clean_line(value)
            if cleaned != value:
                setattr(obj, attribute.key, cleaned)
