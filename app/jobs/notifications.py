"""Sending the outbox: one job per notification row, and the periodic sweeper.

The rules (claim, outcome, retry, sweep) live in ``app/core/notifications/delivery.py``; here is only the RQ side.
"""
import logging
import re
import smtplib
from collections import Counter
from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _
from rq import get_current_job

from app.core.notifications import delivery, outbox, sms
from app.core.queue import job
from app.domain.desk import notices
from app.extensions import db
from app.jobs import schedule
from app.models import Channel, NotificationState
from app.utils import clock

logger = logging.getLogger(__name__)


def _send_email(notification, subject, body):
    config = current_app.config
    if not notification.user.email:
        raise delivery.Undeliverable(_("The recipient has no e-mail address."))
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = notification.user.email
    message["Subject"] = subject
    # The same Message-ID on every attempt of this row: if a worker dies after the server
    # accepted the mail and before "sent" is committed, the sweep sends it again (at least once,
    # see app/core/notifications/delivery.py) and the receiving side can drop the copy by this header.
    message["Message-ID"] = message_id(notification, config["MAIL_FROM"])
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise delivery.Undeliverable(_("The mail server refused the recipient: %(answer)s",
                                           answer=_smtp_answer(exc))) from None
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:  # 5xx is permanent (RFC 5321 §4.2.1): a retry gets the same
            raise delivery.Undeliverable(_("The mail server refused the message: %(answer)s",
                                           answer=_smtp_answer(exc))) from None
        raise  # 4xx: try again later (RQ's retry)


def message_id(notification, sender) -> str:
    """``<n<row id>.<idempotency key>@<sender's domain>>``, the key's ``:`` (not allowed
    there by RFC 5322) written as ``.``; the row id keeps it unique."""
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "platform.local"
    key = re.sub(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+", ".", notification.idempotency_key)
    return f"<n{notification.id}.{key.strip('.')}@{domain}>"


def _smtp_answer(exc) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
    else:
        code, text = exc.smtp_code, exc.smtp_error
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}"


def _send_sms(notification, subject, body):
    phone = (notification.user.phone or "").strip()
    if not phone:
        raise delivery.Undeliverable(_("The recipient has no mobile phone number."))
    text = sms.sms_text(subject, delivery.link(notification))
    try:
        sms.check_quota(phone)
    except sms.QuotaExceeded as exc:  # a retry within the window would be refused again
        raise delivery.Undeliverable(str(exc)) from None
    sms.gateway().send(phone, text, request_id=notification.idempotency_key)


SENDERS = {Channel.email: _send_email, Channel.sms: _send_sms, Channel.site: lambda *a: None}


def _retry_in() -> int | None:
    """Seconds until RQ runs this job again, or None when this was its last attempt."""
    current = get_current_job()
    if current is None or not current.should_retry:
        return None
    return current.get_retry_interval()


@job
def send_notification(notification_id: int):
    """Deliver one outbox row, at most once per claim: a row that another job holds, or that
    was sent or failed for good, is skipped. Re-raises delivery errors so that RQ retries."""
    return _deliver(notification_id)


@job
def send_notifications(notification_ids: list):
    """Deliver a batch of rows (a push round). The in-site rows are delivered at once, each
    other row is claimed, sent and recorded, its "sent" committed with the next row's claim.
    One row's error does not stop the others; the first is re-raised at the end so RQ retries
    the batch, where sent rows are skipped by their claim and only the rows left pending are
    tried again."""
    in_site = set(delivery.deliver_in_site(db.session, notification_ids))
    outcomes, errors = Counter(sent=len(in_site)), []
    for notification_id in notification_ids:
        if notification_id in in_site:
            continue
        try:
            # A sent row's state is committed by the next row's claim (or below).
            outcomes[_deliver(notification_id, commit_sent=False)] += 1
        except Exception as exc:  # already recorded on the row by _deliver
            errors.append(exc)
    db.session.commit()
    if errors:
        raise errors[0]
    return {outcome: count for outcome, count in outcomes.items() if count}


def _deliver(notification_id: int, commit_sent: bool = True) -> str:
    row = delivery.claim(db.session, notification_id)
    if row is None:
        return "skipped"
    try:
        subject, body = outbox.render(row)
        SENDERS[row.channel](row, subject, body)
    except delivery.Undeliverable as exc:
        delivery.record_failure(db.session, row, exc, retry_in=None)
        _tell_the_platform_of_a_failure(row)
        return "failed"  # no retry can give a user a phone number: no exception, no RQ retry
    except Exception as exc:
        db.session.rollback()
        delivery.record_failure(db.session, row, exc, _retry_in())
        _tell_the_platform_of_a_failure(row)
        raise
    delivery.record_sent(db.session, row, commit=commit_sent)
    return "sent"


def _tell_the_platform_of_a_failure(row):
    """A delivery that gave up waits on the platform (it may send it again): its users get an
    in-site message, once per row."""
    if row.state is not NotificationState.failed:
        return
    name = f"{row.channel.title} → {row.user.username}"
    outbox.notify_staff(row, ("Platform",), event_key=f"failed:{row.id}", state="failed",
                        name=name)
    db.session.commit()


@job
def send_work_digests():
    """The daily e-mail of work waiting for staff who chose it, then schedule the next run."""
    try:
        count = notices.send_work_digests(clock.today())
        db.session.commit()
        return count
    finally:
        schedule.schedule_next(f"{__name__}.send_work_digests")


@job
def sweep_notifications():
    """Re-queue forgotten and stalled rows, then schedule the next sweep (even if this failed)."""
    try:
        counts = delivery.sweep(db.session)
        if any(counts.values()):
            logger.info("notification sweep re-queued %s", counts)
        return counts
    finally:
        schedule.schedule_next(f"{__name__}.sweep_notifications")
