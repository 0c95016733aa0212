"""The daily check of the audit log's hash chain. The rule (verify, keep the result, tell the
administrators of a break) is ``app/domain/desk/notices.py``; here is only the RQ side, a
periodic job of ``app/jobs/schedule.py``."""
import logging

from app.core.queue import job
from app.domain.desk import notices
from app.extensions import db
from app.jobs import schedule

logger = logging.getLogger(__name__)


@job
def check_audit_chain(reschedule: bool = True):
    """Verify the chain, keep the result, then schedule the next run."""
    try:
        check = notices.check_audit_chain("job")
        db.session.commit()
        if not check.ok:
            logger.error("audit chain broken at seq %s: %s", check.first_bad_seq, check.reason)
        return check.ok
    finally:
        if reschedule:
            schedule.schedule_next(f"{__name__}.check_audit_chain")
