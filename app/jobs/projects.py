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


def _periodic(name, rule, what):
    """Run ``rule`` (it writes and returns a count; idempotent), commit, and schedule the
    job's next slot, even after a failure."""
    def run(reschedule: bool = True):
        try:
            count = rule()
            db.session.commit()
            if count:
                logger.info("%s: %d", what, count)
            return count
        finally:
            if reschedule:
                schedule.schedule_next(f"{__name__}.{name}")
    run.__name__ = run.__qualname__ = name
    return run


send_report_reminders = job(_periodic(
    "send_report_reminders", lambda: execution.send_report_reminders(),
    "report reminders, outbox rows"))
send_report_reminders.__doc__ = "Write the due report reminders to the outbox (idempotent)."
# Fund the proposed projects whose 公示 is over (idempotent).
finalise_publicities = job(_periodic(
    "finalise_publicities", lambda: publicity.finalise_due(), "publicity, projects funded"))
# Milestones due soon and service entries left unconfirmed (idempotent).
send_progress_reminders = job(_periodic(
    "send_progress_reminders", lambda: progress.send_progress_reminders(),
    "progress reminders, outbox rows"))
