"""Which program round applies now. Rounds are configured data; nothing is hard-coded."""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ProgramRound
from app.utils import clock


def current_round(today: dt.date | None = None):
    """The round whose phases contain ``today``, else the most recent one (or ``None``)."""
    today = today or clock.today()
    stmt = select(ProgramRound).where(
        ProgramRound.needs_filing_start <= today, ProgramRound.evaluation_end >= today
    ).order_by(ProgramRound.needs_filing_start.desc())
    found = db.session.scalars(stmt).first()
    if found is not None:
        return found
    return db.session.scalars(
        select(ProgramRound).order_by(ProgramRound.needs_filing_start.desc())).first()


def round_for_filing(today: dt.date | None = None):
    """The round open for filing needs today, else ``None``."""
    today = today or clock.today()
    stmt = select(ProgramRound).where(
        ProgramRound.needs_filing_start <= today, ProgramRound.needs_filing_end >= today
    ).order_by(ProgramRound.needs_filing_start.desc())
    return db.session.scalars(stmt).first()


# 公示期: five working days unless the round says otherwise.
DEFAULT_PUBLICITY_DAYS = 5


def check_round(program_round):
    """A round's phases follow each other and its money rules are positive; raises ValueError
    with the message for the form (the database checks the same, without the explanation)."""
    r = program_round
    dates = [r.needs_filing_start, r.needs_filing_end, r.matching_end, r.execution_end,
             r.evaluation_end]
    if any(d is None for d in dates) or dates != sorted(dates):
        raise ValueError(_("The phases must follow each other: filing opens, filing ends, "
                           "matching and signing end, execution ends, evaluation ends."))
    if not (r.funding_cap or 0) > 0 or not (r.project_quota or 0) > 0 \
            or (r.min_need_amount or 0) < 0:
        raise ValueError(_("The funding cap and the quota must be above zero, and the minimum "
                           "need amount not negative."))
    if r.publicity_days is None:
        r.publicity_days = DEFAULT_PUBLICITY_DAYS
    if not 1 <= r.publicity_days <= 30:
        raise ValueError(_("The publicity lasts 1 to 30 working days (usually 5)."))
    if r.projects_per_enterprise != 1:
        # The database holds one project per enterprise and round (uq_project_enterprise_round).
        raise ValueError(_("The notice funds one project per enterprise in a round (§四(二)); "
                           "keep “projects per enterprise” at 1."))
