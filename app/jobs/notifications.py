"""Sending the outbox: one job per notification row, idempotent."""
import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from ..extensions import db
from ..models import Channel, Notification, NotificationState
from ..models.mixins import utcnow
from . import job

logger = logging.getLogger(__name__)


def _send_email(notification, subject, body):
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = notification.user.email
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        smtp.send_message(message)


def _send_sms(notification, subject, body):
    # Development gateway: the message goes to the log. Issue 5 adds the HTTP provider.
    logger.info("SMS to %s: %s", notification.user.phone, subject)


SENDERS = {Channel.email: _send_email, Channel.sms: _send_sms, Channel.site: lambda *a: None}


@job
def send_notification(notification_id: int):
    """Deliver one outbox row. A row already sent is left alone, so re-runs never send twice.

    Commits the row's new state; re-raises delivery errors so RQ records the failure.
    """
    from ..notify import render

    row = db.session.get(Notification, notification_id)
    if row is None or row.state is NotificationState.sent:
        return "skipped"
    row.attempts += 1
    subject, body = render(row)
    try:
        SENDERS[row.channel](row, subject, body)
    except Exception as exc:
        row.last_error = str(exc)[:500]
        row.state = NotificationState.failed
        db.session.commit()
        raise
    row.state = NotificationState.sent
    row.sent_at = utcnow()
    row.last_error = None
    db.session.commit()
    return "sent"
