"""The public site's frame: home page, health check, the language switch and what every
public template may use."""
import logging

from flask import (
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from sqlalchemy import text

from app.core import display
from app.core.access import visitor
from app.core.queue import redis_connection
from app.domain.rounds import current_round
from app.extensions import db
from app.public.blueprint import bp
from app.public.page_cache import frame

logger = logging.getLogger(__name__)


@bp.before_request
def _read_only_pages_read_outside_a_transaction():
    visitor.read_outside_a_transaction(db.session)


@bp.app_context_processor
def _template_globals():
    return {"get_locale": get_locale, "appbuilder": current_app.appbuilder}


bp.add_app_template_filter(display.local_time, "local_time")
bp.add_app_template_filter(display.local_date, "local_date")
bp.add_app_template_filter(display.whole_yuan, "yuan")
bp.add_app_template_filter(display.money, "money")
bp.add_app_template_filter(display.amount, "amount")
bp.add_app_template_filter(display.state_badge, "state_badge")
bp.add_app_template_filter(display.person, "person")


@bp.app_template_filter("unread_badge")
def unread_badge(count):
    """The unread count as a badge shows it: up to 99, then "99+" (the count stops at 100)."""
    return str(count) if count < 100 else "99+"


@bp.app_template_global()
def page_numbers(page, pages):
    """The page links a long list shows: the first three, the last two and two either side of
    the current page, in order (a handful, whatever the number of pages)."""
    around = range(page - 2, page + 3)
    return sorted({p for p in (1, 2, 3, pages - 1, pages, *around) if 1 <= p <= pages})


@bp.route("/")
def index():
    program_round = current_round()
    return render_template("public/index.html", program_round=program_round)


@bp.route("/language/<code>")
def set_language(code):
    """Switch the interface language (kept in the session, shared with the back office)."""
    if code not in current_app.config["LANGUAGES"]:
        return redirect(url_for("public.index"))
    session["locale"] = code
    target = request.referrer or url_for("public.index")
    if not target.startswith(request.host_url):
        target = url_for("public.index")
    return redirect(target)


@bp.route("/healthz")
def healthz():
    """Database and Redis status as JSON; 503 when either is down."""
    status = {}
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = "ok"
    except Exception as exc:  # report, never raise: this is the page that tells what is broken
        status["database"] = f"error: {exc.__class__.__name__}"
        db.session.rollback()
    try:
        redis_connection().ping()
        status["redis"] = "ok"
    except Exception as exc:
        status["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in status.values())
    return jsonify(status=("ok" if healthy else "degraded"), **status), (200 if healthy else 503)


bp.add_app_template_global(frame, "public_frame")
