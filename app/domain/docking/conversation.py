"""Detail communication (notice §三(四) 细节沟通): one message thread per shortlisted proposal,
between the enterprise that owns the need and the researcher who wrote the proposal.

Staff read the threads of their jurisdiction (the docking progress) but do not write in them.
Each message tells the other side through the outbox, in the message's own transaction.
"""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.core.notifications.outbox import notify
from app.extensions import db
from app.models import AppUser, Message, ProposalState
from app.models.mixins import utcnow
from app.workflows.errors import RuleViolation

OPEN_STATES = (ProposalState.shortlisted, ProposalState.selected)
MAX_BODY = 5000
EXCERPT = 200
# The same text from the same sender within this many seconds is a double submission (a
# double click, a browser re-posting the form), not a second message.
REPEAT_WINDOW = 120


class ConversationError(RuleViolation):
    pass


def side_of(proposal, user) -> str | None:
    """"enterprise" or "researcher" if ``user`` is a party to the proposal's thread, else None."""
    if user is None:
        return None
    if getattr(user, "researcher_id", None) == proposal.researcher_id:
        return "researcher"
    if (getattr(user, "enterprise_id", None) is not None
            and user.enterprise_id == proposal.need.enterprise_id):
        return "enterprise"
    return None


def check_can_post(proposal, user):
    if side_of(proposal, user) is None:
        raise ConversationError(_("Only the enterprise and the researcher of this proposal can "
                                  "write in its thread."))
    if proposal.state not in OPEN_STATES:
        raise ConversationError(_("Messages can be exchanged once the enterprise has "
                                  "shortlisted the proposal; it is now “%(state)s”.",
                                  state=proposal.state.title))


def messages_of(proposal):
    return db.session.scalars(select(Message).where(Message.proposal_id == proposal.id)
                              .order_by(Message.created_at, Message.id)).all()


def _other_side(proposal, side):
    column, value = ((AppUser.enterprise_id, proposal.need.enterprise_id) if side == "researcher"
                     else (AppUser.researcher_id, proposal.researcher_id))
    return db.session.scalars(select(AppUser).where(column == value,
                                                    AppUser.active.is_(True))).all()


def post_message(proposal, user, body, attachment=None):
    """Add a message (``attachment``: a stored upload name) and notify the other side. No commit."""
    check_can_post(proposal, user)
    body = (body or "").strip()
    if not body:
        raise ConversationError(_("Please write a message."))
    if len(body) > MAX_BODY:
        raise ConversationError(_("A message may have at most %(count)d characters.",
                                  count=MAX_BODY))
    if attachment is None and _just_sent(proposal, user, body):
        raise ConversationError(_("This message has just been sent; it was not sent again."))
    message = Message(proposal_id=proposal.id, sender_id=user.id, body=body,
                      attachment=attachment)
    db.session.add(message)
    db.session.flush()
    side = side_of(proposal, user)
    excerpt = body if len(body) <= EXCERPT else body[:EXCERPT] + "…"
    payload = {"proposal_id": proposal.id, "need_title": proposal.need.title,
               "excerpt": excerpt, "path": f"/docking/thread/{proposal.id}"}
    for recipient in _other_side(proposal, side):
        notify(recipient, "messages.new", payload, event_key=f"message:{message.id}")
    return message


def _just_sent(proposal, user, body) -> bool:
    last = db.session.execute(
        select(Message.body, Message.created_at)
        .where(Message.proposal_id == proposal.id, Message.sender_id == user.id)
        .order_by(Message.id.desc()).limit(1)).first()
    return (last is not None and last.body == body
            and last.created_at >= utcnow() - dt.timedelta(seconds=REPEAT_WINDOW))


def mark_read(proposal, user):
    """The messages the other side sent are read once ``user`` (a party) opens the thread."""
    if side_of(proposal, user) is None:
        return
    db.session.execute(update(Message).where(Message.proposal_id == proposal.id,
                                             Message.sender_id != user.id,
                                             Message.read_at.is_(None))
                       .values(read_at=utcnow()))


def unread_counts(proposal_ids, user) -> dict:
    """{proposal_id: messages not yet read by ``user``} for the given proposals."""
    if not proposal_ids:
        return {}
    rows = db.session.execute(
        select(Message.proposal_id, func.count()).where(Message.proposal_id.in_(proposal_ids),
                                                        Message.sender_id != user.id,
                                                        Message.read_at.is_(None))
        .group_by(Message.proposal_id))
    return dict(rows.all())
