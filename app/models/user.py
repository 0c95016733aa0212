"""The FAB user, extended with what the jurisdiction rule needs: a bureau user's region,
a participant's own enterprise or researcher profile, and a preferred language."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship


class AppUser(User):
    __tablename__ = "ab_user"
    region_id = Column(Integer, ForeignKey("regions.id"), nullable=True, index=True)
    region = relationship("Region")
    enterprise_id = Column(Integer, ForeignKey("enterprises.id"), nullable=True, index=True)
    enterprise = relationship("Enterprise", foreign_keys=[enterprise_id])
    researcher_id = Column(Integer, ForeignKey("researchers.id"), nullable=True, index=True)
    researcher = relationship("Researcher", foreign_keys=[researcher_id])
    phone = Column(String(20))
    locale = Column(String(8), nullable=False, default="zh", server_default="zh")
    # Set (UTC) when too many wrong passwords in a row lock the account (app/core/access/auth_policy.py).
    locked_until = Column(DateTime, nullable=True)
    # Raised to end every session and API token of the user at once: sign-out, a password
    # change or reset, deactivation. A session or token carries the value it was made with
    # (app/core/access/auth_policy.py).
    session_epoch = Column(Integer, nullable=False, default=0, server_default="0")
    # How a staff user hears of work waiting for it by e-mail, besides the in-site message:
    # "immediate", "daily" (one digest a day) or "never" (app/domain/desk/notices.py).
    work_email = Column(String(10), nullable=False, default="daily", server_default="daily")
    # When the user last looked at what the desk counts as "new since your last visit":
    # {"proposals": iso time, "recommended": iso time}.
    seen_at = Column(JSON, nullable=False, default=dict, server_default="{}")

    @property
    def role_names(self) -> set[str]:
        return {r.name for r in self.roles}
