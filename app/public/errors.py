"""Error pages (400, 403, 404, 405, 429, 500) in the site's frame and the reader's language,
with a way on: home, back, and the desk for a signed-in user. The API answers JSON instead.

Werkzeug's own pages are English and outside the site: a bureau clerk who followed an old
link read "Not Found. The requested URL was not found on the server."
"""
import logging

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.access.rate_limits import too_many_message
from app.extensions import db
from app.public.blueprint import bp

logger = logging.getLogger(__name__)

PAGES = {
    400: (_l("The request could not be understood"),
          _l("Something in what was sent is not right. Go back, check the form and try again.")),
    403: (_l("You may not open this page"),
          _l("This page or record is not part of your work on the platform. If you think it "
             "should be, ask the platform's support.")),
    404: (_l("Page not found"),
          _l("There is no such page or record, or it is no longer here. Check the address, or "
             "start again from the home page.")),
    405: (_l("This page cannot be used that way"),
          _l("Go back and use the page's own buttons and links.")),
    429: (_l("Too many requests"), None),
    500: (_l("Something went wrong on our side"),
          _l("Nothing you did caused this, and it has been recorded. Please try again in a "
             "moment; if it happens again, tell the platform's support.")),
}


def _page(code: int, message=None):
    title, text = PAGES[code]
    text = message or text
    if request.path.startswith("/api/"):
        return jsonify(message=str(text)), code
    return render_template("public/error.html", code=code, title=title, text=text), code


def _http_error(error: HTTPException):
    code = error.code if error.code in PAGES else None
    if code is None:
        return error
    if code == 429:  # the limit's own words (per address, per mobile number), else ours
        limit = getattr(error, "limit", None)
        return _page(429, error.description if getattr(limit, "error_message", None)
                     else too_many_message())
    return _page(code)


def _server_error(error):
    """An unexpected failure: the page in the frame if it can be made, else plain text."""
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, InternalServerError):
        logger.error("unhandled error on %s", request.path, exc_info=original)
    try:
        db.session.rollback()
        return _page(500)
    except Exception:  # the frame itself failed (the database is gone): no frame then
        logger.exception("the error page could not be made")
        title, text = PAGES[500]
        return (f"<!doctype html><meta charset='utf-8'><title>{escape(str(title))}</title>"
                f"<h1>{escape(str(title))}</h1><p>{escape(str(text))}</p>", 500,
                {"Content-Type": "text/html; charset=utf-8"})


for _code in (400, 403, 404, 405, 429):
    bp.app_errorhandler(_code)(_http_error)
bp.app_errorhandler(500)(_server_error)
