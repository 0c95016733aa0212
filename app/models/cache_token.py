"""Version tokens of data that processes keep copies of (app/core/cache_tokens.py)."""
from flask_appbuilder import Model
from sqlalchemy import Column, String


class CacheToken(Model):
    """One row per kind of kept data ("need_list", "permissions", "reference"): its token
    changes at the commit of every change of that data. A token is random and never reused, so a rolled-back
    change cannot bring back a token that copies were kept under."""

    __tablename__ = "cache_tokens"
    name = Column(String(40), primary_key=True)
    token = Column(String(32), nullable=False)
