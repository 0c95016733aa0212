"""What a desk keeps per process, and under which row tokens.

A desk's counts and panels are a few statements over the big tables, and its page is made of
them; each is kept by the process under the row tokens of the tables its statement reads
(``list_counts.kept_by_key``), keyed by the inputs of the jurisdiction rule and the values the
statement depends on, so that a kept part costs no statement and is not even built. The page
made of them is kept under all their tables together.
"""
from app.core import list_counts
from app.core.access import jurisdiction
from app.extensions import db

# The tables the desk's statements read; a write to any of them replaces its row token.
DESK_TABLES = ("ab_user", "audit_checks", "audit_log", "contracts", "enterprises",
               "match_runs", "matches", "messages", "milestones", "needs", "notifications",
               "objections", "program_rounds", "projects", "proposals", "researchers",
               "service_logs")
MAX_KEPT = 5000  # users' parts kept per set of tables and process

# The tables each statement reads, by its name and the shape of the user's jurisdiction (the
# same for every user of that shape; the rule reads other tables for a user with a region).
_TABLES_READ: dict[tuple, frozenset | None] = {}


def _roles(user) -> tuple:
    return tuple(sorted(jurisdiction.role_names(user)))


def _shape(user, name: str) -> tuple:
    return (name, _roles(user), user.region_id is None, user.enterprise_id is None,
            user.researcher_id is None)


def _scope(user) -> tuple:
    """The inputs of the jurisdiction rule, and the user."""
    return (user.id, _roles(user), user.region_id, user.enterprise_id, user.researcher_id)


def kept_for(user, name: str, values: tuple, build, fetch):
    """``fetch(build())`` for ``user``, kept while the tables the statement reads are unwritten,
    without building the statement once kept. ``values`` are every value the statement
    depends on besides the user's jurisdiction."""
    shape = _shape(user, name)
    if shape not in _TABLES_READ:
        _TABLES_READ[shape] = list_counts.tables_read(build(), DESK_TABLES)
    return list_counts.kept_by_key(db.session, (name, *_scope(user), *values),
                                   _TABLES_READ[shape], lambda: fetch(build()), MAX_KEPT)


def _tables_of(user, names) -> frozenset | None:
    """The tables the user's statements ``names`` read; None until each was made once, or if
    one of them cannot be kept."""
    found = set()
    for name in names:
        tables = _TABLES_READ.get(_shape(user, name))
        if tables is None:
            return None
        found |= tables
    return frozenset(found)


def kept_page(user, names, values: tuple, make):
    """``make()``, a rendering of the user's parts ``names`` (their counts and panels), kept
    while none of the tables they read is written; ``values`` are every value it depends on
    besides the parts' own (the day, the language, the unread count...)."""
    return list_counts.kept_by_key(db.session, ("page", *names, *_scope(user), *values),
                                   _tables_of(user, names), make, MAX_KEPT)
