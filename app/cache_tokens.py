"""Version tokens: how processes keep copies of data and still never serve a stale one.

A process keeps what is costly to make (the need list's counts and pages, the roles'
permissions) under the token of its kind of data (a row of ``cache_tokens``), read at most once
per request. Every commit that changes such data replaces the token in the same transaction,
so from the next request every process reads the new token and makes its copies again. What
counts as a change of a kind is said by the module that keeps it (``register``).
"""
import uuid

from flask import current_app, g, has_request_context
from sqlalchemy import bindparam, event, select, update

from .extensions import Session, db
from .models import CacheToken

_TOUCHES = {}  # kind -> predicate(session) telling whether the pending flush changes it
_CHANGED = "cache_tokens_changed"


def register(kind: str, touches):
    """Replace ``kind``'s token at the commit of any flush for which ``touches(session)`` is
    true (it sees the flush's new, dirty and deleted objects with their history)."""
    _TOUCHES[kind] = touches


def _memo():
    return g.setdefault("_cache_tokens", {}) if has_request_context() else {}


def current(kind: str) -> str | None:
    """The kind's current token (one statement, then kept for the request)."""
    memo = _memo()
    if kind not in memo:
        memo[kind] = db.session.connection().execute(_TOKEN, {"kind": kind}).scalar()
    return memo[kind]


_TOKEN = select(CacheToken.token).where(CacheToken.name == bindparam("kind"))


def kept(kind: str, store: str, key, make, limit: int = 500):
    """``make()``, kept by the process in ``store`` under ``key`` while ``kind``'s token holds
    (a new token drops every copy in the store); made each time when there is no token."""
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


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context):
    changed = session.info.setdefault(_CHANGED, set())
    for kind, touches in _TOUCHES.items():
        if kind not in changed and touches(session):
            changed.add(kind)


@event.listens_for(Session, "before_commit")
def _replace_tokens(session):
    # At commit, not at the flush: the row lock is then held for one commit and is taken after
    # the transaction's own row locks, never before them (no lock-order deadlock).
    session.flush()
    for kind in sorted(session.info.pop(_CHANGED, ())):
        replace(session, kind)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)
