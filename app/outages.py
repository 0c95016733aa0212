"""What a person sees when the database drops the connection in the middle of a request (a
PostgreSQL restart, a failover): the transaction is rolled back, so nothing is half-written, and
the answer is a short page asking to try again (HTTP 503), never a stack trace.

The next request gets a working connection: the pool tests each connection before use
(``pool_pre_ping`` in config.py) and replaces the dead ones.
"""
import logging

from flask import jsonify, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, OperationalError

from .extensions import db

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
