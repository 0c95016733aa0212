"""Masking of phone numbers and identifying numbers for roles that do not need them in full
(PIPL art. 6 and GB/T 35273 §7.2: show no more personal data than the task needs).

ONE table says, per field, which roles see it in full and why; list/show views (formatters),
the REST API (response dicts) and the Excel exports all ask here. Everyone else sees e.g.
``138****1234`` — enough to recognise a number, not to use it.
"""
from flask import g

from app.core.access import jurisdiction
from app.models import ResearcherState

PHONE, CODE = "phone", "code"

# (table, column) → (kind, roles that see the value in full). A participant's own record is in
# its role's set when the jurisdiction rule shows it nothing but its own rows.
FULL = {
    # The bureau verifies enterprises of its region and calls them; the platform verifies and
    # runs the notifications; an enterprise sees only itself. The province decides contracts and
    # funding on the bureau's verification and the server's cross-checks: it never dials.
    ("enterprises", "phone"): (PHONE, {"Admin", "Platform", "Bureau", "Enterprise"}),
    # The credit code and the tech-SME number are what the bureau and the platform verify
    # against the licence and the national database.
    ("enterprises", "credit_code"): (CODE, {"Admin", "Platform", "Bureau", "Enterprise"}),
    ("enterprises", "sme_number"): (CODE, {"Admin", "Platform", "Bureau", "Enterprise"}),
    # Researchers are approved by the platform; a researcher sees only itself. A bureau or an
    # enterprise reaches a researcher through the docking threads, not by phone.
    ("researchers", "phone"): (PHONE, {"Admin", "Platform", "Researcher"}),
    # A need's contact: staff and the owning enterprise; researchers only once approved (the
    # same rule as the public detail page, need_list.can_see_contact).
    ("needs", "contact_phone"): (PHONE, {"Admin", "Platform", "Bureau", "Enterprise",
                                          "approved Researcher"}),
    ("ab_user", "phone"): (PHONE, {"Admin"}),
}


def mask_phone(value: str) -> str:
    """``13812341234`` → ``138****1234``; shorter numbers keep at most a third visible."""
    digits = str(value)
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    keep = max(len(digits) // 3, 1)
    return digits[:keep] + "*" * max(len(digits) - 2 * keep, 1) + digits[-keep:]


def mask_code(value: str) -> str:
    """An 18-character credit code keeps its first 4 (registration authority, type, province)
    and last 4 characters; the rest become ``*`` of the same length."""
    text = str(value)
    if len(text) <= 8:
        return text[:2] + "*" * max(len(text) - 2, 1)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


MASKERS = {PHONE: mask_phone, CODE: mask_code}


def _user_roles(user):
    roles = set(jurisdiction.role_names(user))
    if "Researcher" in roles:
        researcher = getattr(user, "researcher", None)
        if researcher is not None and researcher.state is ResearcherState.approved:
            roles.add("approved Researcher")
    return roles


def sees_in_full(table: str, column: str, user=None) -> bool:
    rule = FULL.get((table, column))
    if rule is None:
        return True
    user = user if user is not None else getattr(g, "user", None)
    return bool(_user_roles(user) & rule[1])


def shown(table: str, column: str, value, user=None):
    """``value`` as ``user`` (default: the signed-in user) may see it."""
    if value in (None, "") or sees_in_full(table, column, user):
        return value
    return MASKERS[FULL[(table, column)][0]](value)


def hidden_columns(model, user=None) -> set[str]:
    """The columns of ``model`` that ``user`` sees masked: it may not filter, search or sort
    by them either, or a filter on ``phone`` starting with ``138``, then ``1381``, … would give
    the number back digit by digit."""
    table = model.__tablename__
    return {column for (t, column) in FULL if t == table and not sees_in_full(t, column, user)}


def is_hidden(model, column_path: str, user=None) -> bool:
    """Whether ``column_path`` (``phone``, or ``enterprise.phone`` through a relation) names a
    column that ``user`` sees masked."""
    *relations, column = column_path.split(".")
    for name in relations:
        relation = model.__mapper__.relationships.get(name)
        if relation is None:
            return False
        model = relation.mapper.class_
    return column in hidden_columns(model, user)


def formatters(model) -> dict:
    """``formatters_columns`` for a FAB view of ``model``: each masked field of its table."""
    table = model.__tablename__
    return {column: (lambda value, c=column: shown(table, c, value))
            for (t, column) in FULL if t == table}


def mask_response(model, data, user=None):
    """Mask a REST response dict in place: the model's own fields and those of related
    records nested in it (``{"enterprise": {"phone": …}}``)."""
    if isinstance(data, list):
        for item in data:
            mask_response(model, item, user)
        return data
    if not isinstance(data, dict):
        return data
    table = model.__tablename__
    relations = {r.key: r.mapper.class_ for r in model.__mapper__.relationships}
    for key, value in data.items():
        if (table, key) in FULL:
            data[key] = shown(table, key, value, user)
        elif key in relations and isinstance(value, (dict, list)):
            mask_response(relations[key], value, user)
    return data
