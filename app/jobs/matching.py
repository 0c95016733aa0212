"""Matching jobs: rank one need, one researcher, or everything (with progress), and digests."""
import datetime as dt
import logging

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.core.queue import get_queue, job
from app.domain.matching import push_rounds, runs, store
from app.extensions import db
from app.jobs import schedule

logger = logging.getLogger(__name__)


def _committed(rank, *args):
    """Run ``rank`` and commit; a concurrent job that stored the same pair first wins the
    unique constraint, so rank once more against what it stored."""
    for attempt in (1, 2):
        try:
            stored = rank(*args)
            db.session.commit()
            return stored
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    return 0


@job
def match_need(need_id: int):
    return _committed(store.rank_for_need, need_id)


@job
def match_researcher(researcher_id: int):
    return _committed(store.rank_for_researcher, researcher_id)


@job
def rematch_all(run_id: int):
    """Every block of a run in this job (a run queued this way before runs had blocks)."""
    return runs.run_rematch(run_id).matches


@job
def rematch_block(block_id: int):
    """One block of a full re-match (app/domain/matching/runs.py); RQ runs it again if it
    fails or its worker dies, and the block's work is idempotent."""
    return runs.run_block(block_id)


@job
def push_block(block_id: int):
    """One block of a push round (app/domain/matching/push_rounds.py); RQ runs it again if it
    fails or its worker dies, and nobody is told twice."""
    return push_rounds.run_push_block(block_id)


@job
def send_match_digests(period: str, reschedule: bool = True):
    """Start (or resume) the period's push round, whose blocks the matching queue's workers
    run, then schedule the next round (even if this one failed). Returns the round's id."""
    try:
        round_id = push_rounds.start_push_round(period).id
        db.session.commit()
        return round_id
    finally:
        if reschedule:
            schedule.schedule_next(f"{__name__}.send_match_digests")


def requeue_owed_rankings() -> dict:
    """Queue the rankings owed for longer than ``MATCH_SWEEP_AGE`` seconds."""
    age = dt.timedelta(seconds=current_app.config["MATCH_SWEEP_AGE"])
    needs, researchers = store.owed_rankings(age)
    queue = get_queue("matching")
    for need_id in needs:
        queue.enqueue(match_need, need_id)
    for researcher_id in researchers:
        queue.enqueue(match_researcher, researcher_id)
    return {"needs": len(needs), "researchers": len(researchers)}


@job
def sweep_matching():
    """Re-queue lost rankings, then schedule the next sweep (even if this one failed)."""
    try:
        counts = requeue_owed_rankings()
        if any(counts.values()):
            logger.info("matching sweep re-queued %s", counts)
        return counts
    finally:
        schedule.schedule_next(f"{__name__}.sweep_matching")
