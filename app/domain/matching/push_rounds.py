"""A push round as a recorded run, split into blocks that any number of ``flask worker``
processes run as RQ jobs of the ``matching`` queue, on one machine or several; its progress is
kept on its ``PushRound`` row and one ``PushRoundBlock`` row per block.

The result is ``digests.send_digests``'s: a block is the researchers (or the enterprises) of a
range of ids, whose untold matches it reads, whose digests it writes and whose matches it
stamps as told (``digests.send_side_digests``), committing as it goes. The two sides stamp
different columns and the ranges do not overlap, so blocks never wait for one another's
answer, only (on SQLite) for the write lock.

Run again (RQ's retry after an error, or after its worker died), a block does its whole work
again over what it may have committed: the matches it stamped are no longer untold, and the
outbox keys of the digests it wrote (``digest:<period>:<side><owner>``) make the database skip
them, so nobody is told twice. One round per period (``uq`` on the period): the periodic job
starting a period again, on every worker, resumes the same round instead of making another.
The job that finishes the last block closes the round (a conditional UPDATE, so exactly one).
"""
import datetime as dt
import logging

from flask import current_app
from rq import Retry, get_current_job
from sqlalchemy import case, func, select, true, update
from sqlalchemy.exc import IntegrityError

from app.core.queue import enqueue_after_commit
from app.domain.matching import digests
from app.domain.matching.runs import begin_write, first_ids
from app.extensions import SQLITE_BEGIN, db
from app.models import (
    Enterprise,
    PushRound,
    PushRoundBlock,
    Researcher,
)
from app.models.mixins import utcnow
from app.utils import clock

logger = logging.getLogger(__name__)

BLOCK_JOB = "app.jobs.matching.push_block"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
SIDES = {side.name: side for side in digests.SIDES}
OWNERS = {"researcher": Researcher, "enterprise": Enterprise}


def _setting(name):
    return current_app.config[name]


def start_push_round(period: str, today: dt.date | None = None, blocks: int | None = None,
                     in_background: bool = True) -> PushRound:
    """The round of ``period``: recorded with its blocks and, in the background, its blocks
    queued once the caller commits. A period already recorded is resumed: its unfinished
    blocks are queued again (a block that is running is harmless to run twice)."""
    round_ = db.session.scalar(select(PushRound).where(PushRound.period == period))
    if round_ is None:
        round_ = _record(period, today or clock.today(), max(1, blocks or _setting(
            "PUSH_BLOCKS")))
    if in_background and round_.finished_at is None:
        for block in round_.blocks:
            if block.state != DONE:
                _enqueue(block.id)
    return round_


def _record(period, today, blocks) -> PushRound:
    """A new round and its blocks: ranges of ids that together cover every id (the first and
    last open), so that every owner falls in exactly one block of its side. Two workers
    starting the same period at once: the unique period lets one insert it; the other takes
    that one."""
    try:
        with db.session.begin_nested():
            round_ = PushRound(period=period, day=today, started_at=utcnow(), digests=0)
            db.session.add(round_)
            for side, model in OWNERS.items():
                firsts = first_ids(model, true(), blocks) or [None]
                for number, first in enumerate(firsts):
                    last = firsts[number + 1] - 1 if number + 1 < len(firsts) else None
                    db.session.add(PushRoundBlock(
                        round=round_, side=side, number=number, state=QUEUED,
                        first_id=first if number else None, last_id=last, digests=0,
                        matches=0, attempts=0))
            db.session.flush()
    except IntegrityError:
        round_ = db.session.scalar(select(PushRound).where(PushRound.period == period))
    return round_


def _enqueue(block_id: int) -> None:
    enqueue_after_commit(BLOCK_JOB, block_id, queue="matching",
                         job_timeout=_setting("PUSH_BLOCK_TIMEOUT"),
                         retry=Retry(max=_setting("PUSH_BLOCK_RETRIES")))


def run_push_block(block_id: int) -> int:
    """Run one block (see the module's docstring); the digests it created."""
    begin_write()
    block = db.session.get(PushRoundBlock, block_id)
    if block is None or block.state == DONE or block.round.finished_at is not None:
        db.session.rollback()
        return 0
    side, first, last = SIDES[block.side], block.first_id, block.last_id
    period, today, round_id = block.round.period, block.round.day, block.round_id
    started = block.round.started_at
    block.state, block.started_at, block.error = RUNNING, utcnow(), None
    block.attempts += 1
    db.session.commit()
    try:
        # Matches made after the round started wait for the next one: run again, a block
        # skips the digests it wrote, and would otherwise stamp as told the matches that
        # arrived since without their being in any digest.
        sent, told = digests.send_side_digests(side, period, today, commit=True, first=first,
                                               last=last, made_until=started)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        _failed(block_id, exc)
        raise
    begin_write()
    db.session.execute(update(PushRoundBlock).where(PushRoundBlock.id == block_id).values(
        state=DONE, digests=PushRoundBlock.digests + sent, matches=PushRoundBlock.matches + told,
        finished_at=utcnow(), error=None).execution_options(synchronize_session=False))
    # Committed before the count: two blocks ending at once on PostgreSQL would each count
    # the other as running in their own transaction, and neither would close the round. The
    # later of two separate counts sees both done; the conditional UPDATE lets one close it.
    db.session.commit()
    begin_write()
    _close_if_done(round_id)
    db.session.commit()
    logger.info("push round %s (%s), %s block %s: %d digests, %d matches told", round_id,
                period, side.name, block_id, sent, told)
    return sent


def _close_if_done(round_id: int) -> None:
    left = db.session.scalar(select(func.count(PushRoundBlock.id)).where(
        PushRoundBlock.round_id == round_id, PushRoundBlock.state != DONE))
    if not left:
        total = select(func.coalesce(func.sum(PushRoundBlock.digests), 0)).where(
            PushRoundBlock.round_id == round_id).scalar_subquery()
        db.session.execute(update(PushRound).where(
            PushRound.id == round_id, PushRound.finished_at.is_(None)).values(
            finished_at=utcnow(), digests=total, error=None)
            .execution_options(synchronize_session=False))


def _failed(block_id: int, exc: Exception) -> None:
    """Note the error on the block; when RQ will not run it again, the round has failed (the
    next start of its period runs its unfinished blocks again)."""
    begin_write()
    block = db.session.get(PushRoundBlock, block_id)
    block.state, block.error = FAILED, str(exc)[:500]
    job = get_current_job()
    if (job is None or not job.retries_left) and block.round.finished_at is None:
        block.round.error = str(exc)[:500]
    db.session.commit()


def run_push_round(period: str, today: dt.date | None = None, blocks: int | None = None,
                   progress=None) -> PushRound:
    """Every block of the period's round here, one after the other (``flask matching digests
    --inline``, the tests). ``progress(blocks done, blocks)``."""
    round_ = start_push_round(period, today, blocks, in_background=False)
    round_id = round_.id
    block_ids = [b.id for b in round_.blocks]
    db.session.commit()
    for done, block_id in enumerate(block_ids, 1):
        run_push_block(block_id)
        if progress:
            progress(done, len(block_ids))
    return db.session.get(PushRound, round_id, populate_existing=True)


def progress_of(round_id: int) -> dict:
    """A round's state for someone watching it: blocks done of all, digests so far. Read in a
    reading transaction, as the re-match's progress is: outside a request every transaction
    began with SQLite's write lock, and the watcher of a 10× round failed with "database is
    locked" while its blocks wrote."""
    db.session.rollback()
    db.session.connection(execution_options={SQLITE_BEGIN: "read"})
    done, total, sent = db.session.execute(select(
        func.coalesce(func.sum(case((PushRoundBlock.state == DONE, 1), else_=0)), 0),
        func.count(PushRoundBlock.id), func.coalesce(func.sum(PushRoundBlock.digests), 0))
        .where(PushRoundBlock.round_id == round_id)).one()
    round_ = db.session.get(PushRound, round_id, populate_existing=True)
    state = {"finished": round_.finished_at is not None, "error": round_.error,
             "blocks_done": int(done), "blocks": total, "digests": int(sent)}
    db.session.rollback()  # no lock held while the caller waits
    return state


def recent(limit: int = 10) -> list[dict]:
    """The latest rounds with their blocks done / all, for the matching page: one statement."""
    done = func.coalesce(func.sum(case((PushRoundBlock.state == DONE, 1), else_=0)), 0)
    rows = db.session.execute(
        select(PushRound.id, PushRound.period, PushRound.started_at, PushRound.finished_at,
               PushRound.error, done, func.count(PushRoundBlock.id),
               func.coalesce(func.sum(PushRoundBlock.digests), 0))
        .outerjoin(PushRoundBlock, PushRoundBlock.round_id == PushRound.id)
        .group_by(PushRound.id).order_by(PushRound.id.desc()).limit(limit))
    return [{"id": id_, "period": period, "started_at": started, "finished_at": finished,
             "error": error, "blocks_done": int(blocks_done), "blocks": blocks,
             "digests": int(sent)}
            for id_, period, started, finished, error, blocks_done, blocks, sent in rows]
