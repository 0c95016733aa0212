"""Version tokens: how processes keep copies of data and still never serve a stale one.

A process keeps what is costly to make (the need list's counts and pages, the roles'
permissions) under the token of its kind of data (a row of ``cache_tokens``), read at most once
per request. Every commit that changes such data replaces the token in the same transaction,
so from the next request every process reads the new token and makes its copies again. What
counts as a change of a kind is said by the module that keeps it (``register``).

A kind may also stand for every row of a table (``track_rows``: kind ``rows:<table>``). Its
token is replaced at the commit of any transaction that wrote to the table by any path (the
ORM's flush, Core statements, text SQL), as seen at the cursor.
"""
import re
import uuid

from flask import current_app, g, has_request_context
from sqlalchemy import bindparam, inspect, select, update

from app.extensions import db
from app.models import CacheToken

_TOUCHES = {}  # kind -> predicate(session) telling whether the pending flush changes it
_CHANGED = "cache_tokens_changed"


def register(kind: str, touches):
    """Replace ``kind``'s token at the commit of any flush for which ``touches(session)`` is
    true (it sees the flush's new, dirty and deleted objects with their history)."""
    _TOUCHES[kind] = touches


def _memo():
    return g.setdefault("_cache_tokens", {}) if has_request_context() else {}


def current(kind: str | tuple) -> str | tuple | None:
    """The kind's current token (one statement, then kept for the request); for a tuple of
    kinds, the tuple of their tokens, or None if one of them has none."""
    if isinstance(kind, tuple):
        tokens = tuple(current(each) for each in kind)
        return None if None in tokens else tokens
    memo = _memo()
    if kind not in memo:
        memo[kind] = db.session.connection().execute(_TOKEN, {"kind": kind}).scalar()
    return memo[kind]


_TOKEN = select(CacheToken.token).where(CacheToken.name == bindparam("kind"))
_TOKENS = select(CacheToken.name, CacheToken.token).where(
    CacheToken.name.in_(bindparam("kinds", expanding=True)))


def prefetch(kinds) -> None:
    """Read the tokens of ``kinds`` not read yet in this request, in one statement (a page
    that keeps parts under a dozen kinds would otherwise read them one by one)."""
    memo = _memo()
    missing = [kind for kind in kinds if kind not in memo]
    if not missing:
        return
    found = dict(db.session.connection().execute(_TOKENS, {"kinds": missing}).all())
    for kind in missing:
        memo[kind] = found.get(kind)


def kept(kind: str | tuple, store: str, key, make, limit: int = 500):
    """``make()``, kept by the process in ``store`` under ``key`` while ``kind``'s token (or
    every token of a tuple of kinds) holds: a new token drops every copy in the store. Made
    each time when there is no token."""
    token = current(kind)
    if token is None:
        return make()
    copies = current_app.extensions.setdefault(store, {})
    if copies.get(_STORE_TOKEN) != token or len(copies) > limit:
        copies.clear()
        copies[_STORE_TOKEN] = token
    if key not in copies:
        copies[key] = make()
    return copies[key]


_STORE_TOKEN = object()  # the key of a store's token: no caller's key equals it


def remember(kind: str, token: str | None):
    """Keep a token read along with something else (the signed-in user's row)."""
    _memo()[kind] = token


def replace(session, kind: str):
    """Give ``kind`` a new token in the session's transaction (PostgreSQL then holds the
    row's lock until the commit). Call it after changing such data with bulk SQL."""
    session.execute(update(CacheToken).where(CacheToken.name == kind)
                    .values(token=uuid.uuid4().hex))
    _memo().pop(kind, None)


def note_changes(session, _context):
    changed = session.info.setdefault(_CHANGED, set())
    for kind, touches in _TOUCHES.items():
        if kind not in changed and touches(session):
            changed.add(kind)


def replace_tokens(session):
    # At commit, not at the flush: the row lock is then held for one commit and is taken after
    # the transaction's own row locks, never before them (no lock-order deadlock).
    session.flush()
    # One order for every transaction's tokens: two commits never wait on each other's.
    for kind in sorted(session.info.pop(_CHANGED, set()) | _written(session)):
        replace(session, kind)


def forget_changes(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)


# -- row kinds: every write to a table, by any path -------------------------------------------

_TRACKED = set()  # table names whose writes replace the token "rows:<table>"
_MARKS = "cache_tokens_rows_written"  # in a DBAPI connection's info: kinds written, uncommitted
_SESSION_CONNECTIONS = "cache_tokens_connections"
# The table a statement writes, wherever the statement comes from; over-matching (``FOR UPDATE
# OF``, ``DO UPDATE SET``) only ever names something that is not a tracked table.
_WRITE = re.compile(r'\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)',
                    re.IGNORECASE)


def track_rows(*tables: str):
    """Give each table a kind, ``rows:<table>``, whose token every committed write to it
    replaces (its row in ``cache_tokens`` comes with a migration; without one it has no token
    and nothing is kept under it)."""
    _TRACKED.update(tables)


def row_kinds() -> tuple:
    return tuple(sorted(f"rows:{table}" for table in _TRACKED))


def rows_written(connection) -> bool:
    """Whether the connection's transaction wrote tracked rows it has not yet committed: what
    it sees of them no other process sees, so nothing it counts may be kept."""
    return bool(connection.info.get(_MARKS))


def mark_writes(connection, _cursor, statement, _parameters, _context, _executemany):
    if not _TRACKED or statement[:6].upper() == "SELECT":
        return  # a read: searching a page's 7 kB statement would cost 150 us
    written = {table for table in _WRITE.findall(statement) if table in _TRACKED}
    if not written:
        return
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        # Committed at once, with no commit to replace the token at: the read-only pages run
        # so (app/core/access/visitor.py) and must not write kept rows.
        raise RuntimeError(f"a write to {sorted(written)} in autocommit would go untold")
    connection.info.setdefault(_MARKS, set()).update(f"rows:{table}" for table in written)


def _take_marks(connection) -> set:
    if connection.closed or connection.invalidated:  # rolled back, or reset in the pool
        return set()
    return connection.info.pop(_MARKS, None) or set()


def note_connection(session, _transaction, connection):
    session.info.setdefault(_SESSION_CONNECTIONS, []).append(connection)


def forget_connections(session, transaction):
    # Committed, its writes were told at the commit; rolled back, they are gone (a session
    # joined to an outer transaction through a savepoint rolls back only to the savepoint,
    # and the connection sees no rollback).
    if transaction.parent is None:
        for connection in session.info.pop(_SESSION_CONNECTIONS, ()):
            _take_marks(connection)


def _written(session) -> set:
    """The row kinds the session's transaction wrote (taken at its commit)."""
    kinds = set()
    for connection in session.info.get(_SESSION_CONNECTIONS, ()):
        kinds |= _take_marks(connection)
    return kinds


def replace_written_outside_a_session(connection):
    # A commit of a connection used without the session: its writes are told here, last
    # thing before the COMMIT, as the session's are. Migrations write before there are
    # tokens to replace.
    kinds = _take_marks(connection)
    if not kinds or not inspect(connection).has_table(CacheToken.__tablename__):
        return
    for kind in sorted(kinds):
        connection.execute(update(CacheToken).where(CacheToken.name == kind)
                           .values(token=uuid.uuid4().hex))
        _memo().pop(kind, None)


def forget_written(connection):
    _take_marks(connection)


def forget_written_at_reset(_dbapi_connection, record, _reset_state):
    record.info.pop(_MARKS, None)
