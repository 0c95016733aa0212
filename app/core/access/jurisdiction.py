"""The one jurisdiction rule. Every view, API, action, download, export and job asks here.

Who sees which rows of a record that declares ``jurisdiction_keys()``:

1. Anonymous users see nothing.
2. ``Admin``, ``Platform`` and ``Province`` see every row (GLOBAL_ROLES).
3. ``Bureau`` sees the rows whose enterprise lies in the user's region, or, for records not tied
   to an enterprise (researchers, institutions), whose own region is the user's.
4. ``Enterprise`` sees the rows of its own enterprise.
5. ``Researcher`` sees its own rows, plus the rows the record declares public (published needs).
6. Records addressed to a user (notifications) are also visible to that user.
7. Reference data (``__reference_data__ = True``: regions, zones, taxonomy, categories, rounds)
   is visible to every signed-in user.

A user holding several roles sees the union. A record without keys is visible to global roles only.
"""
from flask import g
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.selectable import ScalarSelect

from app.models import AppUser, Enterprise

GLOBAL_ROLES = frozenset({"Admin", "Platform", "Province"})
STAFF_ROLES = GLOBAL_ROLES | {"Bureau"}


def _user(user=None):
    if user is not None:
        return user
    return getattr(g, "user", None)


def role_names(user) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {r.name for r in user.roles}


def is_global(user=None) -> bool:
    return bool(role_names(_user(user)) & GLOBAL_ROLES)


def choices_are_shared(model) -> bool:
    """Whether every user is offered the same rows of ``model`` as form choices: reference data
    (visible to all), or a model that declares its choice list public (``__public_choices__``:
    the institutions a researcher chooses from). Such choices are not scoped, and forms showing
    only them may be kept for everyone (app/views/search_widget.py)."""
    return bool(getattr(model, "__reference_data__", False)
                or getattr(model, "__public_choices__", False))



def shared_choices_changed(session) -> bool:
    """The pending flush adds, changes or deletes a record whose choices every user shares
    (reference data, directories): the kept search forms and need pages' labels (the
    ``reference`` token) are made again."""
    return any(choices_are_shared(type(obj))
               for obj in list(session.new) + list(session.dirty) + list(session.deleted))

def clause_for(model, user=None):
    """The WHERE clause limiting ``model`` to what ``user`` (default: ``g.user``) may see.

    Returns ``None`` when the user may see every row. Pure: touches no session. A filter to
    put in a WHERE, never to negate: a row whose parent is missing is FALSE in one of its
    forms and NULL in another, and ``NOT`` would let it through.
    """
    user = _user(user)
    roles = role_names(user)
    if not roles:
        return false()
    if roles & GLOBAL_ROLES or getattr(model, "__reference_data__", False):
        return None
    keys = model.jurisdiction_keys() if hasattr(model, "jurisdiction_keys") else {}
    parts = []
    if "Bureau" in roles and user.region_id is not None:
        if "enterprise" in keys:
            in_region = (select(Enterprise.id).where(Enterprise.region_id == user.region_id)
                         .correlate(None))
            parts.append(_compared(keys["enterprise"], model, lambda key: key.in_(in_region)))
        elif "region" in keys:
            parts.append(_compared(keys["region"], model, lambda key: key == user.region_id))
    if "Enterprise" in roles and user.enterprise_id is not None and "enterprise" in keys:
        parts.append(_compared(keys["enterprise"], model,
                               lambda key: key == user.enterprise_id))
    if "Researcher" in roles:
        if user.researcher_id is not None and "researcher" in keys:
            parts.append(_compared(keys["researcher"], model,
                                   lambda key: key == user.researcher_id))
        if "public" in keys:
            parts.append(keys["public"])
    if "user" in keys:
        parts.append(keys["user"] == user.id)
    return or_(*parts) if parts else false()


def _compared(key, model, compare):
    """``compare(key)``, and for a key that reaches the row's owner through a parent row (a
    scalar subquery correlated to the row by ``Parent.id == row.fk``, as ``jurisdiction_keys``
    declare them) the same condition written as ``row.fk IN (SELECT Parent.id ... WHERE
    compare(owner))``: the database then finds the rows through the foreign key's index
    instead of running the subquery once per row (a bureau's researcher list searched by
    name: 0.58 s to 0.01 s at province). A row whose parent is missing or fails the key's
    other conditions is left out either way. Any other shape is compared as it is."""
    if not isinstance(key, ScalarSelect):
        return compare(key)
    inner, table = key.element, model.__table__
    link, on_row, on_parent = None, [], []
    for criterion in inner._where_criteria:
        froms = set(criterion._from_objects)
        if froms == {table}:
            on_row.append(criterion)
        elif table not in froms:
            on_parent.append(criterion)
        elif link is None and isinstance(criterion, BinaryExpression) \
                and criterion.operator is operators.eq:
            sides = (criterion.left, criterion.right)
            tables = [getattr(side, "table", None) for side in sides]
            if tables.count(table) != 1:
                return compare(key)
            link = sides if tables[0] is table else sides[::-1]
        else:
            return compare(key)
    if link is None:
        return compare(key)
    row_column, parent_column = link
    # Never correlated: the subquery stands on its own wherever the clause goes (a statement
    # that joins the parent's table would otherwise swallow its FROM).
    parents = inner.with_only_columns(parent_column).correlate(None)
    parents._where_criteria = (*on_parent, compare(inner.selected_columns[0]))
    return and_(*on_row, row_column.in_(parents))


def scoped(query, model, user=None):
    """Apply the rule to a legacy ``Query`` or a 2.0 ``Select``."""
    clause = clause_for(model, user)
    if clause is None:
        return query
    return query.filter(clause) if hasattr(query, "filter") else query.where(clause)


def visible(session, model, pk, user=None):
    """The row ``pk`` of ``model`` if ``user`` may see it, else ``None``."""
    stmt = scoped(select(model).where(model.id == pk), model, user)
    return session.execute(stmt).scalar_one_or_none()


def visible_ids(session, model, pks, user=None) -> set:
    """Those of ``pks`` that ``user`` may see (one query, for bulk actions)."""
    ids = [int(p) for p in pks if str(p).isdigit()]
    if not ids:
        return set()
    stmt = scoped(select(model.id).where(model.id.in_(ids)), model, user)
    return {row[0] for row in session.execute(stmt)}


def region_of(session, model, pk) -> int | None:
    """The region a row of ``model`` lies in for the bureau rule (its enterprise's, or its
    own region key), or None for a record no region holds."""
    keys = model.jurisdiction_keys() if hasattr(model, "jurisdiction_keys") else {}
    if "enterprise" in keys:
        enterprise = select(keys["enterprise"]).where(model.id == pk).scalar_subquery()
        return session.scalar(select(Enterprise.region_id).where(Enterprise.id == enterprise))
    if "region" in keys:
        return session.scalar(select(keys["region"]).where(model.id == pk))
    return None


def staff_of(session, obj, role: str) -> list:
    """The active users of staff ``role`` whose jurisdiction holds ``obj``: every user of a
    global role, the bureau users of the record's region (none for a record of no region)."""
    users = select(AppUser).join(AppUser.roles).where(Role.name == role,
                                                      AppUser.active.is_(True))
    if role not in GLOBAL_ROLES:
        region = region_of(session, type(obj), obj.id)
        if region is None:
            return []
        users = users.where(AppUser.region_id == region)
    return session.scalars(users.order_by(AppUser.id)).unique().all()


def region_ids_for(user=None) -> list | None:
    """Regions a user may pick in forms: ``None`` for all, else the user's own."""
    user = _user(user)
    if is_global(user):
        return None
    if user is not None and getattr(user, "region_id", None) is not None:
        return [user.region_id]
    return []
