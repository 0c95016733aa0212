"""The search index of needs: one row per (need, term), maintained at write time (app/search.py).

Terms are Chinese words, their full pinyin and initials; a query matches by term prefix with a
range on a B-tree index (``term >= q AND term < q || U+10FFFF``), never by ``LIKE '%q%'``.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Index, Integer, String

# Byte order, so the prefix range is right: PostgreSQL's locale collations are not.
TERM = String(80).with_variant(String(80, collation="C"), "postgresql")


class NeedSearchTerm(Model):
    __tablename__ = "need_search_terms"
    __table_args__ = (Index("ix_need_search_term", "term", "need_id"),)

    need_id = Column(Integer, ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True)
    term = Column(TERM, primary_key=True)


class NeedListVersion(Model):
    """One row whose token changes whenever the public need list changes (app/need_list.py).

    Processes cache the list's counts under the token they read; a new token makes every
    cached count stale at once, in every process. A token is random and never reused, so a
    rolled-back change cannot bring back a token whose counts were cached from it.
    """

    __tablename__ = "need_list_version"
    id = Column(Integer, primary_key=True)
    token = Column(String(32), nullable=False)
