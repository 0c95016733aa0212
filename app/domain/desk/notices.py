"""Staff hear of work waiting for them: the in-site message comes when the record enters the
state that waits on their role (``tell`` in ``app/domain/transitions.py``, sent by
``outbox.notify_staff``); an e-mail comes at once, once a day, or never, as each user chose
(``AppUser.work_email``). This module is the daily digest, the choice, and the check of the
audit chain, whose break is word for every administrator."""
import datetime as dt

from sqlalchemy import func, select

from app.core import audit
from app.core.notifications import outbox
from app.extensions import db
from app.models import AppUser, Channel, Notification
from app.utils import clock

WORK_EMAIL_CHOICES = ("immediate", "daily", "never")
DIGEST_LINES = 10


def choose_work_email(user, choice: str) -> None:
    """Set how ``user`` hears of work by e-mail; refuses an unknown choice. No commit."""
    if choice not in WORK_EMAIL_CHOICES:
        raise ValueError(choice)
    db.session.get(AppUser, user.id).work_email = choice


def send_work_digests(day: dt.date) -> int:
    """One e-mail per user who chose a daily digest and has unread work messages of the day
    before ``day`` or since: how many, and the first of them. Idempotent per user and day.
    Flushes, no commit; returns the number of digests written."""
    since = clock.start_of(day - dt.timedelta(days=1))
    unread = (select(Notification.user_id, func.count(Notification.id))
              .where(Notification.channel == Channel.site, Notification.read_at.is_(None),
                     Notification.template.startswith("work."),
                     Notification.created_at >= since)
              .group_by(Notification.user_id))
    counts = dict(db.session.execute(unread).all())
    if not counts:
        return 0
    users = db.session.scalars(select(AppUser).where(
        AppUser.id.in_(counts), AppUser.work_email == "daily", AppUser.email.is_not(None),
        AppUser.active.is_(True))).all()
    for user in users:
        rows = db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id, Notification.channel == Channel.site,
                Notification.read_at.is_(None), Notification.template.startswith("work."),
                Notification.created_at >= since)
            .order_by(Notification.id).limit(DIGEST_LINES)).all()
        lines = [outbox.render(row)[0] for row in rows]
        outbox.notify(user, "work.digest", {"count": counts[user.id], "lines": lines},
                      event_key=f"work-digest:{day.isoformat()}", channels=[Channel.email])
    return len(users)


def check_audit_chain(source: str):
    """Verify the audit chain and keep the result (the admin's desk shows the last); a broken
    chain is an in-site message to every administrator (and an e-mail as each chose). Flushes,
    no commit; returns the ``AuditCheck``."""
    check = audit.record_check(source)
    if not check.ok:
        outbox.notify_staff(check, {"Admin"}, f"audit-check:{check.id}", state="broken",
                            name=str(check.first_bad_seq or ""))
    return check
