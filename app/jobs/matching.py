"""Matching jobs: rank one need, one researcher, or everything (with progress), and digests."""
import datetime as dt
import logging

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain.matching import digests, scoring as matching, store as recommendations, rematch
from app.extensions import db
from app.models import MatchRun, Need, NeedState
from app.models.mixins import utcnow
from app.core.queue import job, schedule_in_slot

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
    return _committed(recommendations.rank_for_need, need_id)


@job
def match_researcher(researcher_id: int):
    return _committed(recommendations.rank_for_researcher, researcher_id)


def start_rematch(user, in_background: bool = True) -> MatchRun:
    """Record a full re-match run, refused while another is unfinished (two would rank and
    store the same pairs at once). The caller commits; in the background, the job then runs it.
    """
    from flask_babel import gettext as _

    from app.workflows.errors import RuleViolation
    from app.core.queue import enqueue_after_commit

    if db.session.scalar(select(func.count(MatchRun.id)).where(MatchRun.finished_at.is_(None))):
        raise RuleViolation(_("A re-match is already running."))
    total = db.session.scalar(select(func.count(Need.id)).where(Need.state == NeedState.published))
    run = MatchRun(started_by_id=getattr(user, "id", None), started_at=utcnow(), total=total)
    db.session.add(run)
    db.session.flush()
    if in_background:
        enqueue_after_commit(rematch_all, run.id, queue="matching", job_timeout=6 * 3600)
    return run


def run_rematch(run_id: int, progress=None) -> MatchRun:
    """Rank every published need and approved researcher both ways against one fresh corpus,
    by blocks of needs, then store the result in bulk. ``done``/``total`` count needs ranked."""
    run = db.session.get(MatchRun, run_id)

    def ranked(done, total):
        run.done, run.total = done, total
        db.session.commit()  # progress is visible to the back office while the run goes on
        if progress:
            progress(done, total)

    try:
        corpus = matching.load_corpus(db.session)
        run.total = len(corpus.needs.ids)
        researcher_only = set()
        found = rematch.rank_everything(corpus, progress=ranked, researcher_only=researcher_only)
        with recommendations.room_to_store(db.session):
            run.matches = recommendations.store_everything(corpus, found,
                                                           researcher_only=researcher_only)
            run.done, run.finished_at = run.total, utcnow()
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(MatchRun, run_id)
        run.error, run.finished_at = str(exc)[:500], utcnow()
        db.session.commit()
        raise
    recommendations.tidy_after_store(db.session)
    return run


@job
def rematch_all(run_id: int):
    return run_rematch(run_id).matches


DIGEST_JOB_PREFIX = "match-digest-"


def schedule_digests(now: float | None = None):
    """Schedule the next digest run, one per ``DIGEST_INTERVAL`` slot; the digest period names
    the slot too, so a re-run of a slot sends nothing twice."""
    return schedule_in_slot("matching", send_match_digests, DIGEST_JOB_PREFIX,
                            current_app.config["DIGEST_INTERVAL"], lambda slot: f"slot{slot}",
                            now=now)


@job
def send_match_digests(period: str, reschedule: bool = True):
    """Push the period's digests, then schedule the next run (even if this one failed)."""
    try:
        count = digests.send_digests(period, commit=True)
        db.session.commit()
        return count
    finally:
        if reschedule:
            schedule_digests()


SWEEP_JOB_PREFIX = "matching-sweep-"


def schedule_match_sweep(now: float | None = None):
    return schedule_in_slot("matching", sweep_matching, SWEEP_JOB_PREFIX,
                            current_app.config["MATCH_SWEEP_INTERVAL"], now=now)


def requeue_owed_rankings() -> dict:
    """Queue the rankings owed for longer than ``MATCH_SWEEP_AGE`` seconds."""
    from app.core.queue import get_queue

    age = dt.timedelta(seconds=current_app.config["MATCH_SWEEP_AGE"])
    needs, researchers = recommendations.owed_rankings(age)
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
        schedule_match_sweep()
