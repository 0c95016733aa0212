"""The inbox: a user's in-site messages, read as messages (a title and text in the reader's
language, a link to the record, read or unread), never anyone else's, whatever the role.

The rows are the outbox's in-site notifications; the delivery log of every channel is a
separate staff page (Records). Each function reads and writes the signed-in user's own rows
only.
"""
import datetime as dt
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from app.core.notifications import delivery, outbox
from app.extensions import db
from app.models import Channel, Notification, Proposal
from app.utils import clock

PER_PAGE = 25
# Kinds of messages, by the template's first word.
KINDS = {
    "work": (_l("Work waiting for you"), ("work.",)),
    "registration": (_l("Registrations"), ("enterprises.", "researchers.", "registration.")),
    "needs": (_l("Needs"), ("needs.",)),
    "docking": (_l("Docking and recommendations"), ("proposals.", "messages.", "match.")),
    "funding": (_l("Contracts and projects"), ("contracts.", "projects.")),
}


@dataclass
class InboxMessage:
    id: int
    title: str
    text: str
    url: str
    created_at: dt.datetime
    read: bool


def _own(user, kind: str | None = None):
    stmt = select(Notification).where(Notification.user_id == user.id,
                                      Notification.channel == Channel.site)
    if kind in KINDS:
        stmt = stmt.where(or_(*[Notification.template.startswith(prefix)
                                for prefix in KINDS[kind][1]]))
    return stmt


def page_of(user, kind: str | None = None, page: int = 1) -> tuple[list[InboxMessage], int]:
    """One page of the user's messages, newest first, rendered in the current language, and
    how many there are. Three statements whatever the page holds."""
    stmt = _own(user, kind)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.options(joinedload(Notification.user))
                              .order_by(Notification.id.desc())
                              .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    # What the texts of proposal messages name, in one statement (then from the session).
    proposals = {row.payload.get("subject_id") for row in rows
                 if row.template.startswith("proposals.") and row.payload}
    # Held in a variable while the texts are rendered: the session's identity map holds its
    # objects weakly, and an unreferenced result was gone again, one query per message.
    named = (db.session.scalars(select(Proposal).where(Proposal.id.in_(proposals))
                                .options(joinedload(Proposal.need))).all() if proposals else [])
    locale = str(get_locale())
    messages = []
    for row in rows:
        title, text = outbox.render(row, locale=locale)
        body = text[len(title):].strip() if text.startswith(title) else text
        if row.token:  # the e-mail's tracked link: here the title is the link
            body = "\n".join(line for line in body.splitlines()
                              if f"/n/{row.token}" not in line).strip()
        messages.append(InboxMessage(row.id, title, body, delivery.target_path(row),
                                     row.created_at, row.read_at is not None))
    del named
    return messages, total


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(
        _own(user).where(Notification.read_at.is_(None)).subquery()))


def mark_read(user, ids) -> int:
    """Mark the user's own messages ``ids`` read; others' ids change nothing. No commit."""
    ids = [int(i) for i in ids if str(i).isdigit()]
    if not ids:
        return 0
    return db.session.execute(
        update(Notification).where(Notification.id.in_(ids), Notification.user_id == user.id,
                                   Notification.channel == Channel.site,
                                   Notification.read_at.is_(None))
        .values(read_at=clock.utcnow())).rowcount


def mark_all_read(user, kind: str | None = None) -> int:
    """Mark all the user's unread messages (of one kind) read. No commit."""
    unread = _own(user, kind).where(Notification.read_at.is_(None)).with_only_columns(
        Notification.id)
    return db.session.execute(
        update(Notification).where(Notification.id.in_(unread))
        .values(read_at=clock.utcnow())).rowcount


def open_message(user, pk) -> str | None:
    """Mark the user's message read and return where it leads; None if it is not theirs."""
    row = db.session.scalars(_own(user).where(Notification.id == pk)).first()
    if row is None:
        return None
    if row.read_at is None:
        row.read_at = clock.utcnow()
    return delivery.target_path(row)
