"""Audit of staff edits ("an append-only audit log of every staff decision … before/after").

Decisions through the workflow are recorded by app/workflows/engine.py; this records the other
way staff change a record: FAB's edit and delete, on a screen (ScopedModelView) or through the
REST API (ScopedModelRestApi). The view remembers the record before the form or the JSON is
applied (``remember_before``); the interface queues the row with app/core/audit.record just before
FAB's commit (``audit_staff_change``), so the row is linked in the same commit as the change,
and an edit that is refused (a rule, the jurisdiction, a database error) leaves no row.

Only users holding a staff role (jurisdiction.STAFF_ROLES) are recorded. A participant
editing its own record (an enterprise's draft need, a researcher's profile) is not: the log
holds officials to account for what they do to other people's records; what a participant
submits is recorded as a workflow decision; and logging every draft save would copy personal
data into a log that can never be corrected or erased (PIPL art. 6: no more than needed).

What a row holds: the changed columns only (all columns for a delete), never a password, a
file's stored name but never its content, and the fields app/core/access/masking.py masks masked always
(the log is kept for years, whoever reads it later).
"""
import enum

from flask import g, has_request_context
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError

from app.core import audit
from app.core.access import jurisdiction, masking
from app.extensions import db

AUDIT_SNAPSHOT = "audit_before"
# Written by the model layer (timestamps, optimistic lock, pinyin sort keys, matching terms),
# not by the person: not a change of theirs.
BOOKKEEPING = frozenset({"updated_at", "version", "name_pinyin", "name_initials",
                         "match_terms", "matched_at"})


def staff_request() -> bool:
    return has_request_context() and bool(
        jurisdiction.role_names(getattr(g, "user", None)) & jurisdiction.STAFF_ROLES)


def _audited_keys(model, relations=()) -> list[str]:
    mapper = sa_inspect(model)
    keys = [p.key for p in mapper.column_attrs
            if p.key not in BOOKKEEPING and "password" not in p.key]
    # Many-to-many fields the form or API edits (a researcher's technical fields); a
    # many-to-one change shows in its foreign-key column.
    return keys + [r for r in relations if r in mapper.relationships
                   and mapper.relationships[r].uselist]


def _raw_values(item, keys) -> dict:
    values = {}
    for key in keys:
        value = getattr(item, key)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, (list, set, tuple)):
            value = sorted(getattr(v, "id", v) for v in value)
        values[key] = value
    return values


def _shown(model, values: dict) -> dict:
    table = model.__tablename__
    out = {}
    for key, value in values.items():
        rule = masking.FULL.get((table, key))
        out[key] = (masking.MASKERS[rule[0]](value)
                    if rule is not None and value not in (None, "") else value)
    return out


def _snapshot_key(item):
    return type(item), sa_inspect(item).identity


def remember_before(item, relations=()):
    """Before a staff user's changes are applied to ``item``: keep its values to compare. On
    ``g`` by identity, not on the instance: the session holds instances weakly, so FAB's own
    load of the record may be another instance than this one."""
    if item is None or not staff_request():
        return
    keys = _audited_keys(type(item), relations)
    g.setdefault(AUDIT_SNAPSHOT, {}).setdefault(_snapshot_key(item),
                                                (keys, _raw_values(item, keys)))


def audit_staff_change(item, deleted=False):
    """Just before FAB commits a staff user's edit or delete of ``item``: queue its row."""
    if not staff_request():
        return
    model = type(item)
    if deleted:
        before = _raw_values(item, _audited_keys(model))
        audit.record(f"{model.__tablename__}.delete", item, before=_shown(model, before))
        return
    snapshot = g.get(AUDIT_SNAPSHOT, {}).pop(_snapshot_key(item), None)
    if snapshot is None:
        return  # not an edit through the views (no before to compare with)
    keys, before = snapshot
    try:
        db.session.flush()  # foreign keys of changed relations take their new values
    except SQLAlchemyError:
        return  # FAB's edit reports the failure and saves nothing
    after = _raw_values(item, keys)
    # A form submits an empty field as "", where the database held NULL: no change to a person.
    changed = [key for key in keys if before[key] != after[key]
               and not (before[key] in (None, "") and after[key] in (None, ""))]
    if changed:  # a save without changes changes nothing
        audit.record(f"{model.__tablename__}.update", item,
                     before=_shown(model, {k: before[k] for k in changed}),
                     after=_shown(model, {k: after[k] for k in changed}))
