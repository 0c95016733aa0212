"""Project jobs: the daily reminders of the summary report / self-acceptance deadline, and the
end of each 公示 window (the proposed projects it held become funded).

The rule (which projects are due, at which offset) is in ``app/domain/funding/execution.py``; here is only the
RQ side, a periodic job of ``app/jobs/schedule.py``.
"""
import logging

from app.core.queue import job
from app.domain.funding import execution, progress, publicity
from app.extensions import db
from app.jobs import schedule

logger = logging.getLogger(__name__)


@job
def send_report_reminders(reschedule: bool = True):
    """Write the due reminders to the outbox (idempotent), then schedule the next run."""
    try:
        count = execution.send_report_reminders()
        db.session.commit()
        if count:
            logger.info("report reminders: %d outbox rows", count)
        return count
    finally:
        if reschedule:
            schedule.schedule_next(f"{__name__}.send_report_reminders")


@job
def finalise_publicities(reschedule: bool = True):
    """Fund the proposed projects whose 公示 is over (idempotent), then schedule the next run."""
    try:
        count = publicity.finalise_due()
        db.session.commit()
        if count:
            logger.info("publicity: %d project(s) funded", count)
        return count
    finally:
        if reschedule:
            schedule.schedule_next(f"{__name__}.finalise_publicities")


@job
def send_progress_reminders(reschedule: bool = True):
    """Milestones due soon and service entries left unconfirmed (idempotent), then schedule
    the next run."""
    try:
        count = progress.send_progress_reminders()
        db.session.commit()
        if count:
            logger.info("progress reminders: %d outbox rows", count)
        return count
    finally:
        if reschedule:
            schedule.schedule_next(f"{__name__}.send_progress_reminders")
