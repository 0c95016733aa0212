"""The notification outbox: rows written in the event's own transaction, sent by jobs."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .enums import Channel, NotificationState
from .mixins import TimestampMixin, state_column


class Notification(TimestampMixin, Model):
    __tablename__ = "notifications"

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
