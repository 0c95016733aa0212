"""A full re-match as a recorded run, split into blocks that any number of ``flask worker``
processes run as RQ jobs of the ``matching`` queue, on one machine or several; its progress
and outcome are kept on its ``MatchRun`` row and one ``MatchRunBlock`` row per block.

The result is the single process's (``rematch.rank_everything`` then
``store.store_everything``), in two steps:

1. Blocks of researchers (ranges of ids): each ranks its researchers' best needs against the
   whole corpus and keeps the pairs aside by the block of their need (``stash``), then stamps
   its researchers. No match is written.
2. Blocks of needs, once every researchers' block is done: each ranks its needs' best
   researchers, adds the pairs the researchers' blocks kept for its needs (a pair only they
   found goes in the researcher's direction; found both ways, the higher score) and stores the
   matches of its range of need ids in one transaction, as the single store does for all:
   pairs already stored are updated in place (dismissed, pushed and ids kept), new ones added,
   unseen ones that fell out dropped.

Every block job commits its work and its ``done`` together. Run again (RQ's retry after an
error, or after its worker died: ``Retry`` and RQ's abandoned-job cleanup), a block that is
done does nothing, and one that is not does its whole work again over what it may have
written: it finds the same pairs and updates them, so no pair is stored twice (nor could be:
``uq_match_pair``). The job that finishes the last researchers' block queues the needs'
blocks, and the one that finishes the last needs' block closes the run; each step is a
conditional UPDATE, so that of two jobs finishing at once exactly one takes it, and it is
state in the database, not in RQ's dependencies, so a lost job or a Redis restart leaves a
run that a retry or the next run's start can judge. A run whose blocks have not progressed
for ``REMATCH_STALE_AFTER`` seconds is closed as failed by the next start.
"""
import datetime as dt
import logging
import time

import numpy as np
from flask import current_app
from flask_babel import gettext as _
from rq import Retry, get_current_job
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import OperationalError

from app.core.outages import is_busy
from app.core.queue import enqueue_after_commit
from app.domain.matching import rematch, scoring, store
from app.domain.matching.stash import MemoryStash, RedisStash, pairs
from app.extensions import SQLITE_BEGIN, db
from app.models import (
    MatchRun,
    MatchRunBlock,
    Need,
    NeedState,
    Researcher,
    ResearcherState,
)
from app.models.mixins import utcnow
from app.workflows.errors import RuleViolation

logger = logging.getLogger(__name__)

REMATCH_JOB = "app.jobs.matching.rematch_all"
BLOCK_JOB = "app.jobs.matching.rematch_block"
RESEARCHERS, NEEDS = "researchers", "needs"
WAITING, QUEUED, RUNNING, DONE, FAILED = "waiting", "queued", "running", "done", "failed"


def _setting(name):
    return current_app.config[name]


# --- Starting a run -------------------------------------------------------------------------------

def last_progress(run: MatchRun) -> dt.datetime:
    """When the run or one of its blocks last started or finished."""
    latest = db.session.execute(select(func.max(MatchRunBlock.started_at),
                                       func.max(MatchRunBlock.finished_at))
                                .where(MatchRunBlock.run_id == run.id)).one()
    return max([run.started_at] + [t for t in latest if t is not None])


def is_dead(run: MatchRun, now=None) -> bool:
    """Unfinished, with no progress for ``REMATCH_STALE_AFTER`` seconds."""
    stale_after = dt.timedelta(seconds=_setting("REMATCH_STALE_AFTER"))
    return run.finished_at is None and (now or utcnow()) - last_progress(run) > stale_after


def close_dead_runs(now=None) -> list[int]:
    """Close as failed the unfinished runs with no progress for ``REMATCH_STALE_AFTER``
    seconds: their workers died with no retry left, or their jobs were lost."""
    now = now or utcnow()
    stale_after = dt.timedelta(seconds=_setting("REMATCH_STALE_AFTER"))
    closed = []
    for run in db.session.scalars(select(MatchRun).where(MatchRun.finished_at.is_(None))):
        if is_dead(run, now):
            run.error = _("No block progressed for %(minutes)d minutes: given up.",
                          minutes=int(stale_after.total_seconds() // 60))
            run.finished_at = now
            closed.append(run.id)
    if closed:
        db.session.flush()
        logger.warning("re-match runs %s closed: no progress for %s", closed, stale_after)
    return closed


def first_ids(model, condition, blocks: int) -> list[int]:
    """The first id of each of ``blocks`` ranges holding as many rows each (fewer ranges when
    there are fewer rows)."""
    ranked = select(model.id, func.ntile(blocks).over(order_by=model.id).label("tile")).where(
        condition).subquery()
    return list(db.session.scalars(select(func.min(ranked.c.id)).group_by(ranked.c.tile)
                                   .order_by(func.min(ranked.c.id))))


def _plan(run: MatchRun, blocks: int) -> None:
    """The run's blocks: ranges of ids that together cover every id (the first and last open),
    so that every stored match's need falls in exactly one needs' block."""
    for kind, model, condition, state in (
            (RESEARCHERS, Researcher, Researcher.state == ResearcherState.approved, QUEUED),
            (NEEDS, Need, Need.state == NeedState.published, WAITING)):
        firsts = first_ids(model, condition, blocks) or [None]
        for number, first in enumerate(firsts):
            last = firsts[number + 1] - 1 if number + 1 < len(firsts) else None
            db.session.add(MatchRunBlock(run=run, kind=kind, number=number, state=state,
                                         first_id=first if number else None, last_id=last,
                                         rows=0, matches=0, attempts=0))


def start_rematch(user, in_background: bool = True, blocks: int | None = None) -> MatchRun:
    """Record a full re-match run and its blocks, refused while another is unfinished (two
    would rank and store the same pairs at once) unless that one is dead. The caller commits;
    in the background, the researchers' blocks are then queued (the needs' follow them)."""
    close_dead_runs()
    if db.session.scalar(select(func.count(MatchRun.id)).where(MatchRun.finished_at.is_(None))):
        raise RuleViolation(_("A re-match is already running."))
    total = db.session.scalar(select(func.count(Need.id)).where(Need.state == NeedState.published))
    run = MatchRun(started_by_id=getattr(user, "id", None), started_at=utcnow(), total=total)
    db.session.add(run)
    _plan(run, max(1, blocks or _setting("REMATCH_BLOCKS")))
    db.session.flush()
    if in_background:
        for block in run.blocks:
            if block.kind == RESEARCHERS:
                _enqueue(block.id)
    return run


def _enqueue(block_id: int) -> None:
    enqueue_after_commit(BLOCK_JOB, block_id, queue="matching",
                         job_timeout=_setting("REMATCH_BLOCK_TIMEOUT"),
                         retry=Retry(max=_setting("REMATCH_BLOCK_RETRIES")))


# --- Running a block ------------------------------------------------------------------------------

def begin_write() -> None:
    """Begin a writing transaction: on SQLite it takes the write lock first (BEGIN IMMEDIATE),
    which another block's store may hold longer than the busy timeout; wait for it, as long as
    a run may go without progress."""
    deadline = time.monotonic() + _setting("REMATCH_STALE_AFTER")
    while True:
        try:
            db.session.execute(select(1))
            return
        except OperationalError as exc:
            db.session.rollback()
            if not is_busy(exc) or time.monotonic() > deadline:
                raise


def _read() -> None:
    """Begin a reading transaction, which on SQLite waits for no writer."""
    db.session.connection(execution_options={SQLITE_BEGIN: "read"})


def load_corpus() -> scoring.Corpus:
    """The corpus, read without taking SQLite's write lock, which stores of other blocks
    need; the read transaction ends with it."""
    _read()
    try:
        return scoring.load_corpus(db.session)
    finally:
        db.session.rollback()


def _rows(ids: np.ndarray, first_id, last_id) -> range:
    """The corpus rows (ids in ascending order) of a block's id range."""
    start = 0 if first_id is None else int(np.searchsorted(ids, first_id, "left"))
    stop = len(ids) if last_id is None else int(np.searchsorted(ids, last_id, "right"))
    return range(start, max(start, stop))


def run_block(block_id: int, corpus=None, stash=None, queue_next: bool = True) -> int:
    """Run one block of a re-match (see the module's docstring), then take the run's next step
    if this block was the last of its kind. Returns the new matches the block stored."""
    begin_write()
    block = db.session.get(MatchRunBlock, block_id)
    if block is None:
        db.session.rollback()
        return 0
    run_id, kind, run = block.run_id, block.kind, block.run
    if run.finished_at is not None:  # closed, as failed or dead, while this job waited
        db.session.rollback()
        return 0
    if block.state != DONE:
        block.state, block.started_at, block.error = RUNNING, utcnow(), None
        block.attempts += 1
        db.session.commit()
        stash = stash or RedisStash()
        try:
            started = time.perf_counter()
            corpus = corpus or load_corpus()
            loaded = time.perf_counter() - started
            if kind == RESEARCHERS:
                _rank_researchers(block_id, corpus, stash)
            else:
                _rank_and_store_needs(block_id, corpus, stash)
            logger.info("re-match %s, block %s: corpus %.1f s, all %.1f s", run_id, block_id,
                        loaded, time.perf_counter() - started)
        except Exception as exc:
            db.session.rollback()
            _failed(block_id, exc)
            raise
    return _next_step(run_id, block_id, queue_next, stash)


def _need_blocks(run_id: int) -> list[MatchRunBlock]:
    return db.session.scalars(select(MatchRunBlock).where(
        MatchRunBlock.run_id == run_id, MatchRunBlock.kind == NEEDS)
        .order_by(MatchRunBlock.number)).all()


def _rank_researchers(block_id: int, corpus, stash) -> None:
    _read()
    block = db.session.get(MatchRunBlock, block_id)
    run_id, number = block.run_id, block.number
    rows = _rows(corpus.researchers.ids, block.first_id, block.last_id)
    need_blocks = [(b.number, b.first_id) for b in _need_blocks(run_id)]
    db.session.rollback()  # no transaction held while ranking
    need_rows, researcher_rows, scores = rematch.researchers_side(
        corpus, scoring.top_k(), scoring.min_score(), 256, rows)
    need_ids = corpus.needs.ids[need_rows]
    found = pairs(need_ids, corpus.researchers.ids[researcher_rows], scores)
    starts = np.array([first for _n, first in need_blocks[1:]], dtype=np.int64)
    which = np.searchsorted(starts, need_ids, side="right")
    stash.put(run_id, number, {n: found[which == i] for i, (n, _f) in enumerate(need_blocks)})
    begin_write()
    store.stamp_matched(Researcher, corpus.researchers.ids[rows.start:rows.stop])
    _done(block_id, len(rows), 0)
    db.session.commit()


def _rank_and_store_needs(block_id: int, corpus, stash) -> None:
    _read()
    block = db.session.get(MatchRunBlock, block_id)
    run_id, number, first_id, last_id = block.run_id, block.number, block.first_id, block.last_id
    db.session.rollback()
    rows = _rows(corpus.needs.ids, first_id, last_id)
    found = rematch.needs_side(corpus, rows=rows)
    kept = stash.get(run_id, number)
    researcher_only = set()
    rematch.merge_researchers_side(found, kept["need"], kept["researcher"], kept["score"],
                                   researcher_only)
    del kept
    store.prepare(corpus, found)  # reasons made before the write lock, not while holding it
    started = time.perf_counter()
    begin_write()
    run = db.session.get(MatchRun, run_id)
    if run.finished_at is not None:  # closed while this block ranked
        db.session.rollback()
        return
    locked, n_pairs = time.perf_counter(), len(found)
    with store.bulk_write_cache(db.session):
        added = store.store_need_range(corpus, found, first_id, last_id,
                                       researcher_only=researcher_only, prepared=True)
        _done(block_id, len(rows), added)
        run.done = db.session.scalar(select(func.coalesce(func.sum(MatchRunBlock.rows), 0)).where(
            MatchRunBlock.run_id == run_id, MatchRunBlock.kind == NEEDS,
            MatchRunBlock.state == DONE))
        db.session.commit()
    logger.info("re-match %s, needs' block %s: waited %.1f s for the write lock, stored %d "
                "pairs (%d new) in %.1f s", run_id, number, locked - started, n_pairs,
                added, time.perf_counter() - locked)


def _done(block_id: int, rows: int, matches: int) -> None:
    db.session.execute(update(MatchRunBlock).where(MatchRunBlock.id == block_id).values(
        state=DONE, rows=rows, matches=matches, finished_at=utcnow(), error=None)
        .execution_options(synchronize_session=False))
    db.session.flush()


def _failed(block_id: int, exc: Exception) -> None:
    """Note the error on the block; when RQ will not run it again, the run has failed."""
    begin_write()
    block = db.session.get(MatchRunBlock, block_id)
    run = block.run
    block.state, block.error = FAILED, str(exc)[:500]
    job = get_current_job()
    if job is None or not job.retries_left:
        if run.finished_at is None:
            run.error, run.finished_at = str(exc)[:500], utcnow()
    db.session.commit()


def _next_step(run_id: int, block_id: int, queue_next: bool, stash) -> int:
    """After a block: if every researchers' block is done, the needs' blocks are queued; if
    every block is done, the run is closed. Whichever job gets there first takes the step.
    Returns the block's new matches."""
    begin_write()
    matches = db.session.scalar(select(MatchRunBlock.matches).where(MatchRunBlock.id == block_id))
    left = db.session.execute(select(
        func.coalesce(func.sum(case((MatchRunBlock.kind == RESEARCHERS, 1), else_=0)), 0),
        func.count(MatchRunBlock.id)).where(
        MatchRunBlock.run_id == run_id, MatchRunBlock.state != DONE)).one()
    researchers_left, blocks_left = left
    if not researchers_left:
        queued = db.session.execute(update(MatchRunBlock).where(
            MatchRunBlock.run_id == run_id, MatchRunBlock.kind == NEEDS,
            MatchRunBlock.state == WAITING).values(state=QUEUED)
            .execution_options(synchronize_session=False)).rowcount
        if queued and queue_next:
            for block in _need_blocks(run_id):
                _enqueue(block.id)
    closed = False
    if not blocks_left:
        totals = select(func.coalesce(func.sum(MatchRunBlock.matches), 0)).where(
            MatchRunBlock.run_id == run_id).scalar_subquery()
        done = select(func.coalesce(func.sum(MatchRunBlock.rows), 0)).where(
            MatchRunBlock.run_id == run_id, MatchRunBlock.kind == NEEDS).scalar_subquery()
        closed = db.session.execute(update(MatchRun).where(
            MatchRun.id == run_id, MatchRun.finished_at.is_(None)).values(
            finished_at=utcnow(), matches=totals, done=done, error=None)
            .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    if closed:
        store.tidy_after_store(db.session)
        (stash or RedisStash()).clear(run_id, [b.number for b in _need_blocks(run_id)])
        db.session.rollback()
    return matches


# --- In one process -------------------------------------------------------------------------------

def run_rematch(run_id: int, progress=None) -> MatchRun:
    """Run every block of a run here, one after the other, over one corpus and with the pairs
    kept in memory (``flask matching rematch --inline``, or an old ``rematch_all`` job).
    ``progress(blocks done, blocks)``."""
    def blocks_of_run():
        return db.session.scalars(select(MatchRunBlock.id).where(
            MatchRunBlock.run_id == run_id).order_by(
            case((MatchRunBlock.kind == RESEARCHERS, 0), else_=1), MatchRunBlock.number)).all()

    begin_write()
    blocks = blocks_of_run()
    if not blocks:  # a run recorded before runs had blocks (its rematch_all job was queued)
        _plan(db.session.get(MatchRun, run_id), _setting("REMATCH_BLOCKS"))
        db.session.flush()
        blocks = blocks_of_run()
    db.session.commit()
    stash = MemoryStash()
    try:
        corpus = load_corpus()
        for done, block_id in enumerate(blocks, 1):
            run_block(block_id, corpus=corpus, stash=stash, queue_next=False)
            if progress:
                progress(done, len(blocks))
    except Exception as exc:
        db.session.rollback()
        begin_write()
        run = db.session.get(MatchRun, run_id)
        if run.finished_at is None:
            run.error, run.finished_at = str(exc)[:500], utcnow()
        db.session.commit()
        raise
    return db.session.get(MatchRun, run_id, populate_existing=True)


def progress_of(run_id: int) -> dict:
    """A run's state for someone watching it, read without holding any lock afterwards."""
    _read()
    try:
        run = db.session.get(MatchRun, run_id, populate_existing=True)
        done, total = block_counts([run_id]).get(run_id, (0, 0))
        return {"finished": run.finished_at is not None, "error": run.error, "done": run.done,
                "total": run.total, "matches": run.matches, "blocks_done": done,
                "blocks": total}
    finally:
        db.session.rollback()


def block_counts(run_ids) -> dict:
    """``{run_id: (blocks done, blocks)}`` for the back office's list of runs."""
    rows = db.session.execute(select(
        MatchRunBlock.run_id, func.sum(case((MatchRunBlock.state == DONE, 1), else_=0)),
        func.count(MatchRunBlock.id)).where(MatchRunBlock.run_id.in_(list(run_ids)))
        .group_by(MatchRunBlock.run_id))
    return {run_id: (int(done), total) for run_id, done, total in rows}
