"""Working days (工作日) in mainland China, for windows counted in them (the 公示's five working
days). The province's own adjustments (``WorkingDayAdjustment``) come first; then the State
Council's holidays and adjusted working days as the maintained ``chinese-calendar`` library
knows them; for a year it does not know yet, Monday to Friday, until the province enters that
year's holidays (the back office warns of it: ``year_known``)."""
import datetime as dt

import chinese_calendar
from sqlalchemy import select

from app.extensions import db
from app.models import WorkingDayAdjustment


def _adjustments(first: dt.date, last: dt.date) -> dict:
    return dict(db.session.execute(
        select(WorkingDayAdjustment.day, WorkingDayAdjustment.working)
        .where(WorkingDayAdjustment.day.between(first, last))).all())


def year_known(year: int) -> bool:
    """Whether the holidays of ``year`` are known (to the library or entered by the province)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
        return True
    except NotImplementedError:
        return db.session.scalar(select(WorkingDayAdjustment.id).where(
            WorkingDayAdjustment.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
            WorkingDayAdjustment.working.is_(False)).limit(1)) is not None


def _is_working(day: dt.date, adjustments: dict) -> bool:
    if day in adjustments:
        return adjustments[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def window(start: dt.date, working_days: int) -> tuple[dt.date, dt.date]:
    """The first and last day of a window of ``working_days`` working days beginning on
    ``start`` (counted from it if it is a working day, else from the next one)."""
    if working_days < 1:
        raise ValueError("a window has at least one working day")
    # Golden Week and the Spring Festival add at most nine rest days to a fortnight.
    horizon = start + dt.timedelta(days=working_days * 2 + 30)
    adjustments = _adjustments(start, horizon)
    day, first, counted = start, None, 0
    while True:
        if _is_working(day, adjustments):
            first = first or day
            counted += 1
            if counted == working_days:
                return first, day
        day += dt.timedelta(days=1)
        if day > horizon:  # a calendar of holidays only: never loop for ever
            horizon += dt.timedelta(days=60)
            adjustments = _adjustments(start, horizon)
