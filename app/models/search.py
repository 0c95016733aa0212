"""The search index of needs: one row per (need, term), maintained at write time (app/domain/needs/search.py).

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

