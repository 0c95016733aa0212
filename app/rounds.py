"""Which program round applies now. Rounds are configured data; nothing is hard-coded."""
import datetime as dt

from sqlalchemy import select

from .extensions import db
from .models import ProgramRound


def current_round(today: dt.date | None = None):
    """The round whose phases contain ``today``, else the most recent one (or ``None``)."""
    today = today or dt.date.today()
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
    today = today or dt.date.today()
    stmt = select(ProgramRound).where(
        ProgramRound.needs_filing_start <= today, ProgramRound.needs_filing_end >= today
    ).order_by(ProgramRound.needs_filing_start.desc())
    return db.session.scalars(stmt).first()
