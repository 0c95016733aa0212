"""What a person sees when the database drops the connection in the middle of a request (a
PostgreSQL restart, a failover), or stays busy past its lock timeout: the transaction is rolled
back, so nothing is half-written, and the answer is a short page asking to try again (HTTP 503),
never a stack trace. Busy and down say different things: one is contention, the other an
outage.

The next request gets a working connection: the pool tests a connection that has been idle for
``DB_PING_AFTER_IDLE_SECONDS`` before handing it out and replaces it if it is dead, and a
connection found dead in use makes the pool replace all those older than it.
"""
import logging
import time

from flask import jsonify, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from app.extensions import db

logger = logging.getLogger(__name__)


# Contention, not an outage: a lock waited for too long, a deadlock broken by the server.
BUSY_SQLSTATES = {"40P01", "55P03", "40001"}  # deadlock, lock not available, serialization


def is_busy(error) -> bool:
    """The database refused because others hold what this request needed, not because it is
    down: SQLite's "database is locked" after its busy timeout, PostgreSQL's lock errors."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return "database is locked" in str(original or error) or "database table is locked" in str(
        original or error)


def database_unavailable(error):
    busy = is_busy(error)
    if busy:
        logger.info("database busy during %s %s: %s", request.method, request.path, error.orig)
    else:
        logger.warning("database connection lost during %s %s: %s", request.method,
                       request.path, error.__class__.__name__)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; dropping the session is all that is left
        logger.debug("rollback after a lost connection failed", exc_info=True)
    db.session.remove()
    if busy:
        message = _("The platform is busy with other changes at this moment; nothing was "
                    "saved. Please try again.")
    else:
        message = _("The database is briefly unavailable; nothing was saved. Please try again "
                    "in a moment.")
    if request.path.startswith("/api/"):
        return jsonify(message=message), 503
    # Plain HTML: the templates may need the database themselves.
    title, back = escape(_("Try again")), escape(_("Back"))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{escape(message)}</p>"
            f"<p><a href='javascript:history.back()'>{back}</a></p></body></html>")
    return page, 503, {"Content-Type": "text/html; charset=utf-8",
                       "Retry-After": "1" if busy else "5"}


def _is_lost_connection(error) -> bool:
    return isinstance(error, OperationalError) or getattr(error, "connection_invalidated", False)


def register(app):
    @app.errorhandler(DBAPIError)
    def _on_dbapi_error(error):
        if _is_lost_connection(error):
            return database_unavailable(error)
        raise error


def ping_idle_connections(engine, after_seconds: float):
    """Test a pooled connection before use if it has been idle ``after_seconds`` or more.

    ``pool_pre_ping`` tests every checkout: one more round trip on every page, 5–12 % of a
    signed-in page's throughput on PostgreSQL. A connection handed back a moment ago is as
    alive as the request that just used it; one that sat idle through a restart or a failover
    is the one to test. A restart inside that moment costs one request a "try again" page,
    as a restart in the middle of a request does anyway.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _handed_back(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _before_use(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < after_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error  # the pool connects afresh and retries
            raise
