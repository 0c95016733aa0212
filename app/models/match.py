"""Matches between needs and researchers, with the reasons they matched."""
from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import relationship

from app.models.enums import MatchDirection
from app.models.mixins import TimestampMixin, state_column
from app.models.need import Need


class Match(TimestampMixin, Model):
    __tablename__ = "matches"
    # A ranking reads the matches of its need (or researcher) in its own direction: a popular
    # need sits in thousands of researchers' rankings, whose rows lie all over the table, and
    # with an index on need_id alone each of them was read to check its direction (26 ms for
    # a need in 5,583 researchers' rankings at 10x national). The direction in the index finds
    # the ranking's 20 rows without touching the others.
    __table_args__ = (UniqueConstraint("need_id", "researcher_id", name="uq_match_pair"),
                      Index("ix_matches_need_direction", "need_id", "direction"),
                      Index("ix_matches_researcher_direction", "researcher_id", "direction"),
                      # the back office's match list, best first (a sort of 2,000,000 rows),
                      # also when filtered on "not interested" (a rare value walked the whole
                      # score index: 12 s). Not (direction, score): half the rows have each
                      # direction, and SQLite took it for a ranking's own reads instead of
                      # (need, direction).
                      Index("ix_matches_score", "score"),
                      Index("ix_matches_dismissed_score", "dismissed", "score"),
                      # the list filtered by push date: a date nobody was told on walked the
                      # score index to its end (3.5 s at province). Partial: a re-match
                      # writes untold rows, which it leaves out, and a date filter never
                      # asks for them.
                      Index("ix_matches_pushed_at", "pushed_at",
                            sqlite_where=text("pushed_at IS NOT NULL"),
                            postgresql_where=text("pushed_at IS NOT NULL")))

    @classmethod
    def jurisdiction_keys(cls):
        enterprise = (select(Need.enterprise_id).where(Need.id == cls.need_id)
                      .correlate(cls).scalar_subquery())
        return {"enterprise": enterprise, "researcher": cls.researcher_id}

    id = Column(Integer, primary_key=True)
    need_id = Column(Integer, ForeignKey("needs.id", ondelete="CASCADE"), nullable=False)
    need = relationship("Need")
    researcher_id = Column(Integer, ForeignKey("researchers.id", ondelete="CASCADE"), nullable=False)
    researcher = relationship("Researcher")
    score = Column(Float, nullable=False)
    reasons = Column(JSON, nullable=False, default=dict)  # {"fields": [...], "keywords": [...]}
    direction = state_column(MatchDirection, MatchDirection.need_to_researcher)
    pushed_at = Column(DateTime)  # pushed to the researcher (a digest)
    enterprise_pushed_at = Column(DateTime)  # pushed to the need's enterprise
    channels = Column(String(40))  # e.g. "site,email"
    # The researcher said "not interested": kept so that re-matching never pushes it again.
    dismissed = Column(Boolean, nullable=False, default=False)
    dismiss_reason = Column(Text)


class MatchRun(Model):
    """A full two-way re-match started by platform staff, with its progress."""

    __tablename__ = "match_runs"

    @classmethod
    def jurisdiction_keys(cls):
        return {}

    id = Column(Integer, primary_key=True)
    started_by_id = Column(Integer, ForeignKey("ab_user.id"))
    started_by = relationship("AppUser")
    started_at = Column(DateTime, nullable=False)
    finished_at = Column(DateTime)
    total = Column(Integer, nullable=False, default=0)  # needs to rank
    done = Column(Integer, nullable=False, default=0)
    matches = Column(Integer, nullable=False, default=0)
    error = Column(Text)
    blocks = relationship("MatchRunBlock", back_populates="run", order_by="MatchRunBlock.id",
                          cascade="all, delete-orphan", passive_deletes=True)


class BlockProgress:
    """A block of work one RQ job runs (a re-match's, a push round's): the range of ids it
    covers (NULL at the open ends), its state (queued, running, done or failed; queued again
    by RQ's retry), how often it was tried and when, and its last error."""

    number = Column(Integer, nullable=False)
    first_id = Column(Integer)
    last_id = Column(Integer)
    state = Column(String(12), nullable=False, default="queued")
    attempts = Column(Integer, nullable=False, default=0)
    started_at = Column(DateTime)
    finished_at = Column(DateTime)
    error = Column(Text)


class MatchRunBlock(BlockProgress, Model):
    """One block of a re-match run: a range of researcher ids ranked against every need (its
    pairs kept aside for the needs' blocks), or a range of need ids ranked against every
    researcher and stored together with the pairs the researchers' blocks found for them. A
    job of the ``matching`` queue runs each; ``state`` is waiting (a needs' block until every
    researchers' block is done), queued, running, done or failed (and queued again by RQ's
    retry). ``first_id``/``last_id`` bound the ids, NULL at the open ends."""

    __tablename__ = "match_run_blocks"
    __table_args__ = (UniqueConstraint("run_id", "kind", "number", name="uq_match_run_block"),)

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("match_runs.id", ondelete="CASCADE"), nullable=False)
    run = relationship("MatchRun", back_populates="blocks")
    kind = Column(String(12), nullable=False)  # "researchers" | "needs"
    rows = Column(Integer, nullable=False, default=0)  # needs or researchers ranked
    matches = Column(Integer, nullable=False, default=0)  # new matches stored (needs' blocks)


class PushRound(Model):
    """A push round (SPEC §5): every match nobody was told about, one digest per person for
    ``period``, split into blocks of researchers and of enterprises that the ``matching``
    queue's workers run. One round per period: starting a period again resumes it."""

    __tablename__ = "push_rounds"

    @classmethod
    def jurisdiction_keys(cls):
        return {}

    id = Column(Integer, primary_key=True)
    period = Column(String(64), nullable=False, unique=True)
    day = Column(Date, nullable=False)  # the day its SMS slots count against
    started_at = Column(DateTime, nullable=False)
    finished_at = Column(DateTime)
    digests = Column(Integer, nullable=False, default=0)
    error = Column(Text)
    blocks = relationship("PushRoundBlock", back_populates="round",
                          order_by="PushRoundBlock.id", cascade="all, delete-orphan",
                          passive_deletes=True)


class PushRoundBlock(BlockProgress, Model):
    """One block of a push round: the researchers (or the enterprises) of a range of ids, their
    digests written and their matches stamped as told."""

    __tablename__ = "push_round_blocks"
    __table_args__ = (UniqueConstraint("round_id", "side", "number", name="uq_push_round_block"),)

    id = Column(Integer, primary_key=True)
    round_id = Column(Integer, ForeignKey("push_rounds.id", ondelete="CASCADE"), nullable=False)
    round = relationship("PushRound", back_populates="blocks")
    side = Column(String(12), nullable=False)  # "researcher" | "enterprise"
    digests = Column(Integer, nullable=False, default=0)
    matches = Column(Integer, nullable=False, default=0)  # matches told
