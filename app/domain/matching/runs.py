"""A full re-match as a recorded run: started by platform staff (one at a time), ranked and
stored by a job on the ``matching`` queue, its progress and outcome kept on its ``MatchRun`` row."""
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core.queue import enqueue_after_commit
from app.domain.matching import rematch, scoring, store
from app.extensions import db
from app.models import MatchRun, Need, NeedState
from app.models.mixins import utcnow
from app.workflows.errors import RuleViolation

REMATCH_JOB = "app.jobs.matching.rematch_all"


def start_rematch(user, in_background: bool = True) -> MatchRun:
    """Record a full re-match run, refused while another is unfinished (two would rank and
    store the same pairs at once). The caller commits; in the background, the job then runs it.
    """
    if db.session.scalar(select(func.count(MatchRun.id)).where(MatchRun.finished_at.is_(None))):
        raise RuleViolation(_("A re-match is already running."))
    total = db.session.scalar(select(func.count(Need.id)).where(Need.state == NeedState.published))
    run = MatchRun(started_by_id=getattr(user, "id", None), started_at=utcnow(), total=total)
    db.session.add(run)
    db.session.flush()
    if in_background:
        enqueue_after_commit(REMATCH_JOB, run.id, queue="matching", job_timeout=6 * 3600)
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
        corpus = scoring.load_corpus(db.session)
        run.total = len(corpus.needs.ids)
        researcher_only = set()
        found = rematch.rank_everything(corpus, progress=ranked, researcher_only=researcher_only)
        with store.bulk_write_cache(db.session):
            run.matches = store.store_everything(corpus, found, researcher_only=researcher_only)
            run.done, run.finished_at = run.total, utcnow()
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(MatchRun, run_id)
        run.error, run.finished_at = str(exc)[:500], utcnow()
        db.session.commit()
        raise
    store.tidy_after_store(db.session)
    return run
