"""What a person sees when the database drops the connection in the middle of a request (a
PostgreSQL restart, a failover): the transaction is rolled back, so nothing is half-written, and
the answer is a short page asking to try again (HTTP 503), never a stack trace.

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


def database_unavailable(error):
    logger.warning("database connection lost during %s %s: %s", request.method, request.path,
                   error.__class__.__name__)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; dropping the session is all that is left
        logger.debug("rollback after a lost connection failed", exc_info=True)
    db.session.remove()
    message = _("The database is briefly unavailable; nothing was saved. Please try again in "
                "a moment.")
    if request.path.startswith("/api/"):
        return jsonify(message=message), 503
    # Plain HTML: the templates may need the database themselves.
    title, back = escape(_("Try again")), escape(_("Back"))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{escape(message)}</p>"
            f"<p><a href='javascript:history.back()'>{back}</a></p></body></html>")
    return page, 503, {"Content-Type": "text/html; charset=utf-8", "Retry-After": "5"}


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
