"""How a stored value reads on a page, in one place for every generated list and show page
(``PlainValues``) and for the templates (the filters of ``app/public/site.py``): times in the
configured zone to the minute, yes and no, amounts in yuan, lists joined in the reader's
language, records by their names.

FAB prints a value as Python does: ``2026-12-07 01:55:56.580281`` (UTC), ``True``, ``150000.00``
and ``[<TechField object at 0x…>]``.
"""
import datetime as dt
import functools
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Boolean, DateTime, Numeric, String, inspect

from app.core.notifications.outbox import SUBJECT_NAMES
from app.models.enums import Action

# A Numeric column of this precision or more with two decimals holds money (amounts, funding,
# caps); scores are Numeric(4, 1) and Numeric(5, 2).
MONEY_PRECISION = 12


def local_time(moment, seconds: bool = False) -> str:
    """A stored time (UTC, naive) as people in Hubei read it: Beijing time, to the minute
    (to the second where an order of events matters, as in the audit log's export)."""
    if moment is None:
        return ""
    if not isinstance(moment, dt.datetime):
        return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_date(moment) -> str:
    """The day of a stored time (UTC, naive) in the configured zone: 2026-12-07."""
    if isinstance(moment, dt.datetime):
        return local_time(moment)[:10]
    return "" if moment is None else str(moment)


def yes_no(value) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def money(amount) -> str:
    """An amount in yuan, with thousands separators and fen: 150,000.00 元."""
    if amount is None:
        return ""
    return _("%(amount)s yuan", amount=f"{Decimal(amount):,.2f}")


def amount(value) -> str:
    """An amount as a generated list or record page shows it, under a heading that names the
    unit ("金额（元）"): 150,000.00, without a second 元 in each cell."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def whole_yuan(amount) -> str:
    """An amount in whole yuan with thousands separators (1,500,000)."""
    return "" if amount is None else f"{amount:,.0f}"


def joined(values) -> str:
    """Records or words joined as the reader's language joins a list (、 in Chinese)."""
    if not values:
        return ""
    return format_list([str(value) for value in values], locale=str(get_locale() or "zh"))


# How a state reads at a glance, by its code (the codes are shared across record types): sent
# back or failed, waiting for someone, moving on, done, or laid aside.
STATE_TONES = {
    "returned": "danger", "returned_by_bureau": "danger", "returned_by_platform": "danger",
    "declined": "danger", "failed": "danger", "unqualified": "danger",
    "submitted": "warning", "pending": "warning", "sending": "warning",
    "recommended": "info", "docking": "info", "shortlisted": "info", "funded": "info",
    "reported": "info",
    "verified": "success", "approved": "success", "published": "success",
    "selected": "success", "contracted": "success", "accepted": "success",
    "evaluated": "success", "sent": "success", "excellent": "success", "good": "success",
    "qualified": "success",
}


def state_badge(state, title=None) -> Markup | str:
    """A state (a LabelledEnum member or its code with ``title``) as a coloured label."""
    if state is None or state == "":
        return ""
    code = getattr(state, "value", state)
    text = title if title is not None else getattr(state, "title", code)
    return Markup('<span class="label label-{} state-badge">{}</span>').format(
        STATE_TONES.get(code, "default"), text)


def person(user) -> str:
    """A user as people know them: the enterprise or researcher the account belongs to, or
    the staff member's name; the login (a mobile number) only when there is nothing else."""
    if user is None:
        return _("system")
    for profile in ("enterprise", "researcher"):
        record = getattr(user, profile, None) if getattr(user, f"{profile}_id", None) else None
        if record is not None and getattr(record, "name", None):
            return record.name
    last, first = (user.last_name or "").strip(), (user.first_name or "").strip()
    # 张 + 伟 reads 张伟; Ada + Lovelace reads "Ada Lovelace".
    name = f"{first} {last}".strip() if (last + first).isascii() else f"{last}{first}"
    return name or user.username


def action_title(code) -> str:
    """A workflow action's code (``start_docking``) as its title; any other code (an audit
    row's ``audit.export``) as it is."""
    if code in Action._value2member_map_:
        return str(Action(code).title)
    return "" if code is None else code


def record_type(table) -> str:
    """A record type stored as its table's name (``needs``) as people call it."""
    name = SUBJECT_NAMES.get(table)
    return name() if name else ("" if table is None else table)


def in_english(text) -> Markup:
    """A record's English name (``name_en``), marked as English inside a Chinese page: a
    screen reader reads it as English (WCAG 3.1.2, language of parts)."""
    if not text:
        return Markup("")
    return Markup('<span lang="en">%s</span>') % text


# String columns that hold a code, by name, in every model that has one (review records, the
# audit log, notifications): read as the code's title.
CODED_COLUMNS = {"action": action_title, "subject_type": record_type}


def _formatter_for(column):
    kind = column.type
    if isinstance(kind, String) and column.key in CODED_COLUMNS:
        return CODED_COLUMNS[column.key]
    if isinstance(kind, String) and column.key.endswith("_en"):
        return in_english
    if isinstance(kind, Boolean):
        return yes_no
    if isinstance(kind, DateTime):
        return local_time
    if is_money(column):
        return amount
    return None


def is_money(column) -> bool:
    kind = column.type
    return isinstance(kind, Numeric) and (kind.precision or 0) >= MONEY_PRECISION \
        and kind.scale == 2


@functools.lru_cache(maxsize=None)
def formatters(model) -> dict:
    """``formatters_columns`` for a FAB view of ``model``: its booleans, times, amounts and
    to-many relations (a relation to one record reads as that record's name already)."""
    found = {}
    for column in model.__table__.columns:
        formatter = _formatter_for(column)
        if formatter is not None:
            found[column.key] = formatter
    for relation in inspect(model).relationships:
        if relation.uselist:
            found[relation.key] = joined
    return found
