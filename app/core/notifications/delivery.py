"""Delivery rules of the notification outbox: claiming a row, recording the outcome, retries,
the sweeper, re-sending, the tracking link and the response figures.

States: ``pending`` (waiting for a job, maybe for an RQ retry) → ``sending`` (one job holds
it) → ``sent`` | back to ``pending`` (retries remain) | ``failed`` (last attempt failed, or the
recipient cannot be reached on that channel). Only ``pending`` rows can be claimed, and the
claim is one conditional UPDATE, so two workers running the same row's job cannot both send.

At-least-once window: a worker killed after the mail server or SMS gateway accepted the message
but before ``sent`` is committed leaves the row ``sending``; after ``NOTIFY_SENDING_TIMEOUT`` the
sweeper makes it pending again and it is sent a second time. The window is kept to the time
between the provider's answer and one commit; the SMS gateway also gets the idempotency key as
request id so that it can drop the duplicate.
"""
import datetime as dt

from flask import current_app, url_for
from rq import Retry
from sqlalchemy import case, func, select, update

from app.core import list_counts
from app.core.long_reads import note
from app.core.queue import enqueue_after_commit
from app.extensions import db
from app.models import Channel, Notification, NotificationState
from app.models.mixins import utcnow

PENDING, SENDING = NotificationState.pending, NotificationState.sending
SENT, FAILED = NotificationState.sent, NotificationState.failed

# The page a notification about a record leads to, by the record's table.
SUBJECT_VIEWS = {
    "enterprises": "EnterpriseModelView",
    "researchers": "ResearcherModelView",
    "needs": "NeedModelView",
    "proposals": "ProposalModelView",
    "contracts": "ContractModelView",
    "projects": "ProjectModelView",
    "publicity": "ProjectModelView",  # publicity.listed: a project put on a 公示 list
    "objections": "ObjectionModelView",
    "payments": "PaymentModelView",
    "milestones": "MilestoneModelView",
    "service_logs": "ServiceLogModelView",
}


class Undeliverable(Exception):
    """The recipient cannot be reached on this channel (no phone, no e-mail): retrying is useless."""


def retry_policy(config=None):
    """RQ's retry for a send job, from ``NOTIFY_RETRY_INTERVALS``; none when jobs run inline
    (``RQ_ASYNC = False`` runs a job once inside ``enqueue`` and never retries it)."""
    config = config if config is not None else current_app.config
    intervals = list(config.get("NOTIFY_RETRY_INTERVALS") or [])
    if not intervals or not config.get("RQ_ASYNC", True):
        return None
    return Retry(max=len(intervals), interval=intervals)


BATCH_KEY = "notification_send_batch"
# The job that sends a batch of rows (RQ stores it by name).
SEND_JOB = "app.jobs.notifications.send_notifications"


def enqueue_send(notification_id: int) -> None:
    """Queue the sending of one row once the current transaction commits. Rows of one
    transaction share jobs of up to ``NOTIFY_BATCH`` rows: a push round to thousands of people
    costs a job per batch, not per row (the job's own overhead would halve the rate)."""
    info = db.session().info
    batch = info.get(BATCH_KEY)
    if batch is None or len(batch) >= current_app.config.get("NOTIFY_BATCH", 100):
        batch = info[BATCH_KEY] = []
        # The list is serialised at commit, so rows added later in the transaction ride along.
        enqueue_after_commit(SEND_JOB, batch, queue="notifications",
                             retry=retry_policy())
    batch.append(notification_id)


def close_send_batch(session):
    session.info.pop(BATCH_KEY, None)


def claim(session, notification_id: int) -> Notification | None:
    """Take a pending row for this job and commit that, or return None if another job has it,
    it was sent, or it failed for good. One UPDATE ... WHERE state = 'pending': the database
    lets exactly one of two concurrent claims change the row."""
    now = utcnow()
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == PENDING)
        .values(state=SENDING, claimed_at=now, updated_at=now,
                attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    if result.rowcount != 1:
        return None
    return session.get(Notification, notification_id, populate_existing=True)


# A payload key whose value only the message may carry (a password reset's code or link):
# the row keeps it until it is sent or given up, then forgets it.
SECRET = "secret"


def forget_secret(row) -> None:
    if SECRET in (row.payload or {}):
        row.payload = {key: value for key, value in row.payload.items() if key != SECRET}


def record_sent(session, row, commit: bool = True) -> None:
    """The row was sent. A batch passes ``commit=False`` and lets the next row's claim commit
    it: one commit per mail instead of two, and the at-least-once window is still the time
    between the provider's answer and one commit."""
    row.state, row.sent_at, row.last_error, row.next_attempt_at = SENT, utcnow(), None, None
    forget_secret(row)
    if commit:
        session.commit()


def deliver_in_site(session, notification_ids) -> list[int]:
    """Deliver the pending in-site rows among ``notification_ids`` at once and commit: nothing
    leaves the platform (the inbox shows the row itself), so there is nothing to hold a claim
    across and the claim is the delivery. One conditional UPDATE, as ``claim`` is: a row another
    job holds is not touched. Returns the ids delivered; the others go through ``claim``."""
    if not notification_ids:
        return []
    now = utcnow()
    delivered = session.scalars(
        update(Notification)
        .where(Notification.id.in_(notification_ids), Notification.channel == Channel.site,
               Notification.state == PENDING)
        .values(state=SENT, claimed_at=now, sent_at=now, updated_at=now, last_error=None,
                next_attempt_at=None, attempts=Notification.attempts + 1)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)).all()
    session.commit()
    return delivered


def record_failure(session, row, error, retry_in: int | None) -> None:
    """A failed attempt: pending again if RQ will retry in ``retry_in`` seconds, else failed."""
    row.last_error = str(error)[:500] or type(error).__name__
    if retry_in is None:
        row.state, row.next_attempt_at = FAILED, None
        forget_secret(row)
    else:
        row.state = PENDING
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=retry_in)
    session.commit()


def sweep(session, now=None) -> dict:
    """Re-queue what no job will pick up: ``pending`` rows past their time (Redis was down at
    commit, or RQ lost the job) and ``sending`` rows whose worker died. Commits."""
    config = current_app.config
    now = now or utcnow()
    age = dt.timedelta(seconds=config["NOTIFY_SWEEP_AGE"])
    stale = now - dt.timedelta(seconds=config["NOTIFY_SENDING_TIMEOUT"])
    stalled = session.scalars(select(Notification.id).where(
        Notification.state == SENDING, Notification.claimed_at <= stale)).all()
    if stalled:
        session.execute(
            update(Notification)
            .where(Notification.id.in_(stalled), Notification.state == SENDING,
                   Notification.claimed_at <= stale)
            .values(state=PENDING, next_attempt_at=now,
                    last_error=func.coalesce(Notification.last_error, "worker stopped while sending"))
            .execution_options(synchronize_session=False))
    due = func.coalesce(Notification.next_attempt_at, Notification.created_at)
    waiting = [row_id for row_id in session.scalars(select(Notification.id).where(
        Notification.state == PENDING, due <= now - age)) if row_id not in set(stalled)]
    if waiting:
        # Moving the due time on means the next sweep leaves them to this job for a while.
        session.execute(
            update(Notification).where(Notification.id.in_(waiting))
            .values(next_attempt_at=now).execution_options(synchronize_session=False))
    for row_id in [*stalled, *waiting]:
        enqueue_send(row_id)
    session.commit()
    return {"pending": len(waiting), "stalled": len(stalled)}


def resend(session, rows) -> int:
    """Staff re-send failed rows: pending again, a send job queued after the commit. Commits."""
    count = 0
    for row in rows:
        if row.state is not FAILED:
            continue
        row.state, row.next_attempt_at = PENDING, None
        enqueue_send(row.id)
        count += 1
    session.commit()
    return count


def link(row) -> str:
    """The address in the message; opening it is what ``opened_at`` records."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/n/{row.token}"


def target_path(row) -> str:
    """Where the link leads: the record the notification is about (a request context is
    needed). A path in the payload wins, if it stays on this site."""
    payload = row.payload or {}
    path = payload.get("path")
    if isinstance(path, str) and path.startswith("/") and not path.startswith("//"):
        return path
    parts = row.template.split(".")
    table = parts[1] if parts[0] == "work" and len(parts) > 1 else parts[0]
    if table == "notifications":
        return url_for("FailedNotificationModelView.show", pk=payload.get("subject_id"))
    if table == "audit_checks":
        return url_for("AuditLogModelView.list")
    view = SUBJECT_VIEWS.get(table)
    if view and payload.get("subject_id"):
        return url_for(f"{view}.show", pk=payload["subject_id"])
    return url_for("InboxView.index")


def open_link(session, token: str) -> str | None:
    """Record the first opening of a notification's link; the path to go to, None if unknown."""
    row = session.scalars(select(Notification).where(Notification.token == token)).first()
    if row is None:
        return None
    row_id, target = row.id, target_path(row)
    note(lambda: session.execute(
        update(Notification).where(Notification.id == row_id, Notification.opened_at.is_(None))
        .values(opened_at=utcnow()).execution_options(synchronize_session=False)),
        session=session)
    return target


def response_rates(session, since=None) -> dict:
    """Per channel: notifications created (since ``since``), sent, failed, and opened; kept
    while no notification is written (it reads every one of them)."""
    return list_counts.kept_by_key(session, ("channel rates", since),
                                   frozenset({"notifications"}),
                                   lambda: _response_rates(session, since))


def _response_rates(session, since=None) -> dict:
    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = (select(Notification.channel, func.count(Notification.id),
                   count(Notification.state == SENT), count(Notification.state == FAILED),
                   count(Notification.opened_at.is_not(None)))
            .group_by(Notification.channel))
    if since is not None:
        stmt = stmt.where(Notification.created_at >= since)
    rates = {c: {"created": 0, "sent": 0, "failed": 0, "opened": 0} for c in Channel}
    for channel, created, sent, failed, opened in session.execute(stmt):
        rates[Channel(channel)] = {"created": created, "sent": int(sent), "failed": int(failed),
                                   "opened": int(opened)}
    return rates
