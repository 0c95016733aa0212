"""The notification outbox: rows written in the event's own transaction, sent by jobs."""
import secrets

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import relationship

from app.models.enums import Channel, NotificationState
from app.models.mixins import TimestampMixin, state_column


def new_token() -> str:
    """128 random bits, URL-safe: short enough for an SMS link, too many to guess."""
    return secrets.token_urlsafe(16)


class Notification(TimestampMixin, Model):
    __tablename__ = "notifications"
    # A reader's unread in-site messages: the navbar's badge counts them on every page.
    __table_args__ = (Index("ix_notifications_unread", "user_id",
                            sqlite_where=text("channel = 'site' AND read_at IS NULL"),
                            postgresql_where=text("channel = 'site' AND read_at IS NULL")),
                      # the delivery log, newest first, also of one state
                      Index("ix_notifications_created_at", "created_at"),
                      Index("ix_notifications_state_created", "state", "created_at"))

    @classmethod
    def jurisdiction_keys(cls):
        return {"user": cls.user_id}

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    user = relationship("AppUser")
    channel = state_column(Channel, Channel.site)
    template = Column(String(60), nullable=False)
    payload = Column(JSON, nullable=False, default=dict)
    state = state_column(NotificationState, NotificationState.pending, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    # A retried or re-run job never sends twice: one row per (event, recipient, channel).
    idempotency_key = Column(String(200), unique=True, nullable=False)
    sent_at = Column(DateTime)
    read_at = Column(DateTime)
    # The link in the message (/n/<token>) names the row without revealing its id.
    token = Column(String(32), unique=True, nullable=False, default=new_token)
    opened_at = Column(DateTime)  # first time the recipient followed the link
    claimed_at = Column(DateTime)  # when a job took the row (state ``sending``)
    # When RQ will try again (pending rows); the sweeper leaves the row alone until then.
    next_attempt_at = Column(DateTime)
