"""A request to reset a forgotten password: the code sent by SMS or the link sent by e-mail.

Only a keyed hash of the code or the link's token is kept (app/domain/registration/
password_reset.py makes and checks it): whoever reads the table cannot use a live request.
"""
import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from app.models.enums import Channel
from app.models.mixins import state_column, utcnow


class PasswordReset(Model):
    __tablename__ = "password_resets"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    user = relationship("AppUser")
    channel = state_column(Channel, Channel.sms)
    # HMAC-SHA256 (hex) of the code or token under the app's secret key.
    secret_hash = Column(String(64), nullable=False, index=True)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    # Wrong codes entered against this request; at the limit it is dead.
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    used_at = Column(DateTime)  # the password was reset with it
    # Superseded by a newer request, or killed by too many wrong codes.
    revoked_at = Column(DateTime)

    def is_live(self, now: dt.datetime, minutes: int, max_attempts: int) -> bool:
        """Unused, not revoked, within its time and its tries."""
        return (self.used_at is None and self.revoked_at is None
                and self.attempts < max_attempts
                and now < self.issued_at + dt.timedelta(minutes=minutes))
