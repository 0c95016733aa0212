"""A full re-match split into blocks, run by a real RQ worker, stores exactly what the single
process stores (pairs, scores, reasons, direction; kept, updated and dropped rows alike) on a
generated dataset; a block whose job died after storing runs again without a duplicate and
the run ends; a run that stopped progressing does not hold the next one back forever."""
import datetime as dt
import io

import pytest
from rq import SimpleWorker
from sqlalchemy import insert, select

from app import create_app
from app.core import queue as jobs
from app.domain.matching import rematch, runs, scoring, store
from app.extensions import db
from app.models import Match, MatchDirection, MatchRun, MatchRunBlock, Need, NeedState
from app.models.mixins import utcnow
from app.workflows.errors import RuleViolation

SECRET = "rematch-blocks-test-secret-key-long-enough-0123456789"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """bench.generate's tiny scale (20 needs, 100 researchers) in a SQLite file of its own."""
    from bench.generate import generate

    path = tmp_path_factory.mktemp("rematch") / "tiny.db"
    generate("tiny", f"sqlite:///{path}", out=io.StringIO())
    return f"sqlite:///{path}"


@pytest.fixture()
def tiny(app, generated, redis_conn, monkeypatch):
    """An app on the generated data whose jobs go to Redis for a real worker, with each
    test's changes to the matches table undone."""
    gen_app = create_app("config.TestConfig", SECRET_KEY=SECRET, SQLALCHEMY_DATABASE_URI=generated,
                         REDIS_URL=app.config["REDIS_URL"], UPLOAD_FOLDER="/tmp", RQ_ASYNC=True,
                         REMATCH_STALE_AFTER=120)  # a block waiting for a lock gives up soon
    monkeypatch.setattr(jobs, "_worker_app", gen_app)
    with gen_app.app_context():
        yield gen_app
        db.session.rollback()
        db.session.execute(Match.__table__.delete())
        db.session.execute(MatchRun.__table__.delete())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _snapshot():
    db.session.expire_all()
    return {(m.need_id, m.researcher_id): (m.id if m.dismissed or m.pushed_at else None,
                                           m.score, m.reasons, m.direction.value, m.dismissed,
                                           m.pushed_at)
            for m in db.session.scalars(select(Match))}


def _single_process():
    corpus = scoring.load_corpus(db.session)
    researcher_only = set()
    found = rematch.rank_everything(corpus, researcher_only=researcher_only)
    with store.bulk_write_cache(db.session):
        store.store_everything(corpus, found, researcher_only=researcher_only)
        db.session.commit()


def _split(blocks=3):
    run_id = runs.start_rematch(None, blocks=blocks).id
    db.session.commit()  # the researchers' blocks go to Redis now
    # Nothing read here until the worker is done: on SQLite a transaction of this session
    # would hold the write lock that the blocks wait for.
    SimpleWorker([jobs.get_queue("matching")], connection=jobs.redis_connection()).work(
        burst=True)
    db.session.expire_all()
    return db.session.get(MatchRun, run_id)


def _history():
    """Matches from an earlier re-match that people saw or dismissed, stale scores, and rows
    nobody found any more (of a published need, and of a need no longer published)."""
    _single_process()
    rows = db.session.scalars(select(Match).order_by(Match.id)).all()
    for i, match in enumerate(rows):
        if i % 7 == 0:
            match.pushed_at = utcnow()
        elif i % 11 == 0:
            match.dismissed, match.dismiss_reason = True, "方向不符"
        elif i % 5 == 0:
            match.score, match.reasons = 0.0001, {"stale": True}
    found = {(m.need_id, m.researcher_id) for m in rows}
    needs = db.session.scalars(select(Need.id).order_by(Need.id)).all()
    unpublished = db.session.scalar(select(Need.id).where(Need.state != NeedState.published))
    researchers = sorted({m.researcher_id for m in rows})
    # The need no longer published may be one of the first three (bench.generate contracts
    # some): each pair once.
    extra = [(n, r) for n in dict.fromkeys(needs[:3] + [unpublished]) for r in researchers[-6:]
             if n is not None and (n, r) not in found]
    now = utcnow()
    db.session.execute(insert(Match), [
        dict(need_id=n, researcher_id=r, score=0.2, reasons={},
             direction=MatchDirection.need_to_researcher,
             dismissed=False, pushed_at=now if i % 2 else None, created_at=now, updated_at=now)
        for i, (n, r) in enumerate(extra)])
    db.session.commit()
    return [dict(row._mapping) for row in db.session.execute(select(Match.__table__))]


def _restore(rows):
    db.session.execute(Match.__table__.delete())
    db.session.execute(insert(Match.__table__), rows)
    db.session.commit()


def test_a_split_rematch_stores_what_the_single_process_stores(tiny):
    before = _history()
    _single_process()
    single = _snapshot()
    assert single and {d for *_x, d, _dis, _p in single.values()} >= {"need_to_researcher"}
    _restore(before)
    run = _split(blocks=3)
    assert run.error is None and run.finished_at is not None
    assert run.done == run.total == db.session.scalar(
        select(db.func.count(Need.id)).where(Need.state == NeedState.published))
    blocks = db.session.scalars(select(MatchRunBlock).where(MatchRunBlock.run_id == run.id)).all()
    assert {(b.kind, b.state) for b in blocks} == {("researchers", "done"), ("needs", "done")}
    assert len(blocks) == 6 and runs.block_counts([run.id]) == {run.id: (6, 6)}
    assert _snapshot() == single  # pairs, scores, reasons, direction; seen rows kept by id
    # From an empty table too, with more blocks than a side has rows in some ranges.
    db.session.execute(Match.__table__.delete())
    db.session.commit()
    _single_process()
    single = _snapshot()
    directions = {d for *_x, d, _dis, _p in single.values()}
    assert directions == {"need_to_researcher", "researcher_to_need"}  # both kinds compared
    db.session.execute(Match.__table__.delete())
    db.session.commit()
    run = _split(blocks=7)
    assert run.error is None and run.matches == len(single) and _snapshot() == single


def test_a_block_that_died_after_storing_runs_again_without_duplicates(tiny, monkeypatch):
    _single_process()
    single = _snapshot()
    db.session.execute(Match.__table__.delete())
    db.session.commit()
    died = []
    done = runs._done

    def dying(block_id, rows, matches):
        kind = db.session.get(MatchRunBlock, block_id).kind
        if kind == "needs" and not died:
            died.append(block_id)
            db.session.commit()  # its matches are stored, the block is not marked done
            raise RuntimeError("worker killed")
        return done(block_id, rows, matches)

    monkeypatch.setattr(runs, "_done", dying)
    run = _split(blocks=3)
    assert died and run.error is None and run.finished_at is not None
    block = db.session.get(MatchRunBlock, died[0])
    assert block.state == "done" and block.attempts == 2 and block.error is None
    stored = db.session.execute(select(Match.need_id, Match.researcher_id)).all()
    assert len(stored) == len(set(stored)) == len(single)
    assert _snapshot() == single


def test_a_block_failing_every_time_ends_its_run_as_failed(tiny, monkeypatch):
    def broken(*_args):
        raise RuntimeError("no memory left")

    monkeypatch.setattr(runs, "_rank_and_store_needs", broken)
    run = _split(blocks=2)
    assert run.finished_at is not None and "no memory left" in run.error
    failed = db.session.scalars(select(MatchRunBlock).where(
        MatchRunBlock.run_id == run.id, MatchRunBlock.state == "failed")).all()
    # The first block out of retries ends the run; the other's last retry then does nothing.
    assert failed and max(b.attempts for b in failed) == 1 + tiny.config["REMATCH_BLOCK_RETRIES"]
    runs.start_rematch(None, in_background=False)  # the next one may start at once


def test_a_run_without_progress_for_too_long_no_longer_blocks_the_next(app, db_session):
    long_ago = utcnow() - dt.timedelta(seconds=app.config["REMATCH_STALE_AFTER"] + 60)
    dead = MatchRun(started_at=long_ago, total=1)
    db_session.add(dead)
    db_session.add(MatchRunBlock(run=dead, kind="needs", number=0, state="running",
                                 started_at=long_ago, rows=0, matches=0, attempts=1))
    db_session.commit()
    assert runs.is_dead(dead)
    run = runs.start_rematch(None, in_background=False)
    db_session.commit()
    db_session.refresh(dead)
    assert dead.finished_at is not None and "30" in dead.error and run.finished_at is None
    # One that progressed lately is still running: refused.
    with pytest.raises(RuleViolation):
        runs.start_rematch(None, in_background=False)
    block = db_session.scalars(select(MatchRunBlock).where(MatchRunBlock.run_id == run.id)).first()
    block.started_at = utcnow()
    run.started_at = long_ago
    db_session.commit()
    with pytest.raises(RuleViolation):
        runs.start_rematch(None, in_background=False)


def test_a_run_queued_before_blocks_existed_still_runs_whole(app, make, db_session):
    """``rematch_all`` jobs already in Redis name a run without blocks: it is planned then."""
    from app.jobs.matching import rematch_all

    make.researcher(keywords="储能电池 热管理", expertise="储能电池热管理")
    old = MatchRun(started_at=utcnow(), total=0)
    db_session.add(old)
    db_session.commit()
    rematch_all(old.id)
    db_session.expire_all()
    assert old.finished_at is not None and old.error is None
    assert runs.block_counts([old.id])[old.id][0] == runs.block_counts([old.id])[old.id][1] > 0
