"""Project jobs: the daily reminders of the summary report / self-acceptance deadline.

The rule (which projects are due, at which offset) is in ``app/domain/funding/execution.py``; here is only the
RQ side, scheduled by ``flask worker`` like the digests.
"""
import logging

from flask import current_app

from app.domain.funding import execution
from app.extensions import db
from app.core.queue import job, schedule_in_slot

logger = logging.getLogger(__name__)
REMINDER_JOB_PREFIX = "report-reminders-"


def schedule_report_reminders(now: float | None = None):
    """Schedule the next reminder run, one per ``REPORT_REMINDER_INTERVAL`` slot (daily)."""
    return schedule_in_slot("default", send_report_reminders, REMINDER_JOB_PREFIX,
                            current_app.config["REPORT_REMINDER_INTERVAL"], now=now)


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
            schedule_report_reminders()
