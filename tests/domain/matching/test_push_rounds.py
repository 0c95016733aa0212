"""A push round split into blocks of researchers and of enterprises, run by a real RQ worker,
writes exactly the digests and stamps of the single pass (``send_digests``) on a generated
dataset; a block whose worker died after committing part of its digests runs again and
nobody is told twice; a period started again resumes its round and sends nothing more."""
import datetime as dt
import io
import json

import pytest
from rq import SimpleWorker
from sqlalchemy import select, update

from app import create_app
from app.core import queue as jobs
from app.domain.matching import digests, push_rounds, runs
from app.extensions import db
from app.models import Match, Notification, PushRound, PushRoundBlock

SECRET = "push-rounds-test-secret-key-long-enough-0123456789"
DAY = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """bench.generate's tiny scale with its re-match stored and an account per researcher and
    enterprise, in a SQLite file of its own."""
    from bench.fanout import _accounts
    from bench.generate import generate

    path = tmp_path_factory.mktemp("push") / "tiny.db"
    url = f"sqlite:///{path}"
    generate("tiny", url, out=io.StringIO())
    gen_app = create_app("config.TestConfig", SECRET_KEY=SECRET, SQLALCHEMY_DATABASE_URI=url,
                         UPLOAD_FOLDER="/tmp")
    with gen_app.app_context():
        run = runs.start_rematch(None, in_background=False)
        db.session.commit()
        runs.run_rematch(run.id)
        _accounts(db)
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture()
def tiny(app, generated, redis_conn, monkeypatch):
    """An app on the generated data whose jobs go to Redis for a real worker; every match
    untold and no round or notification left after each test."""
    gen_app = create_app("config.TestConfig", SECRET_KEY=SECRET, SQLALCHEMY_DATABASE_URI=generated,
                         REDIS_URL=app.config["REDIS_URL"], UPLOAD_FOLDER="/tmp", RQ_ASYNC=True,
                         PUSH_BLOCK_RETRIES=2, DIGEST_SMS_PER_DAY=1)
    monkeypatch.setattr(jobs, "_worker_app", gen_app)
    with gen_app.app_context():
        _untold()
        yield gen_app
        db.session.rollback()
        _untold()
        db.session.remove()
        db.engine.dispose()


def _untold():
    db.session.execute(update(Match).values(pushed_at=None, enterprise_pushed_at=None))
    db.session.execute(Notification.__table__.delete())
    db.session.execute(PushRound.__table__.delete())
    db.session.commit()


def _told():
    """What a round left: every outbox row (its key without the period) and every stamp."""
    db.session.expire_all()
    rows = sorted((n.user_id, n.channel.value, n.template, json.dumps(n.payload, sort_keys=True),
                   n.idempotency_key.replace("round-b", "P").replace("round-a", "P"))
                  for n in db.session.scalars(select(Notification)))
    stamps = {m_id: (pushed is not None, enterprise_pushed is not None)
              for m_id, pushed, enterprise_pushed in db.session.execute(
                  select(Match.id, Match.pushed_at, Match.enterprise_pushed_at))}
    return rows, stamps


def _work():
    SimpleWorker([jobs.get_queue("matching")], connection=jobs.redis_connection()).work(
        burst=True)


def _split(period, blocks=3):
    round_id = push_rounds.start_push_round(period, DAY, blocks=blocks).id
    db.session.commit()  # the blocks go to Redis now
    _work()
    db.session.expire_all()
    return db.session.get(PushRound, round_id)


def test_a_split_round_tells_what_the_single_pass_tells(tiny):
    assert db.session.scalar(select(db.func.count(Match.id))) > 100
    single_digests = digests.send_digests("round-a", DAY, commit=True)
    db.session.commit()
    single = _told()
    assert single_digests > 10 and all(all(s) for s in single[1].values())
    assert {t for _u, _c, t, _p, _k in single[0]} == {"match.digest_researcher",
                                                       "match.digest_enterprise"}
    _untold()
    round_ = _split("round-b", blocks=3)
    assert round_.finished_at is not None and round_.error is None
    assert round_.digests == single_digests
    blocks = db.session.scalars(select(PushRoundBlock).where(
        PushRoundBlock.round_id == round_.id)).all()
    assert sorted((b.side, b.state) for b in blocks) == sorted(
        [("researcher", "done")] * 3 + [("enterprise", "done")] * 3)
    assert sum(b.matches for b in blocks) == 2 * len(single[1])  # each match told on both sides
    assert _told() == single
    assert push_rounds.progress_of(round_.id) == {
        "finished": True, "error": None, "blocks_done": 6, "blocks": 6,
        "digests": single_digests}


def test_a_block_whose_worker_died_midway_runs_again_and_tells_nobody_twice(tiny, monkeypatch):
    digests.send_digests("round-a", DAY, commit=True)
    db.session.commit()
    single = _told()
    _untold()
    died, stamp = [], digests._stamp_ids

    def dying(side, ids):
        if side.name == "enterprise" and not died:  # its digests are committed, no stamp yet
            died.append(side.name)
            raise RuntimeError("worker killed")
        return stamp(side, ids)

    monkeypatch.setattr(digests, "_stamp_ids", dying)
    monkeypatch.setattr(digests, "BATCH", 2)  # several commits within the block
    round_ = _split("round-b", blocks=2)
    assert died and round_.finished_at is not None and round_.error is None
    retried = db.session.scalars(select(PushRoundBlock).where(
        PushRoundBlock.round_id == round_.id, PushRoundBlock.attempts == 2)).all()
    assert len(retried) == 1 and retried[0].state == "done" and retried[0].error is None
    assert _told() == single  # the same rows, none twice (the keys are unique anyway)


def test_a_period_started_again_resumes_its_round_and_sends_nothing_more(tiny):
    first = _split("round-b", blocks=2)
    told = _told()
    assert first.finished_at is not None
    again = _split("round-b", blocks=5)
    assert again.id == first.id and len(again.blocks) == 4
    assert _told() == told
    assert db.session.scalar(select(db.func.count(PushRound.id))) == 1


def test_a_failing_block_marks_its_round_failed_when_out_of_retries(tiny, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(digests, "send_side_digests", broken)
    round_ = _split("round-b", blocks=1)
    assert round_.finished_at is None and "database gone" in round_.error
    failed = [b for b in round_.blocks if b.state == "failed"]
    assert failed and max(b.attempts for b in failed) == 1 + tiny.config["PUSH_BLOCK_RETRIES"]
    monkeypatch.undo()
    monkeypatch.setattr(jobs, "_worker_app", tiny)
    again = _split("round-b", blocks=1)  # the next start of the period finishes it
    assert again.id == round_.id and again.finished_at is not None
    assert {b.state for b in again.blocks} == {"done"}



def test_a_block_run_again_sends_no_second_sms_when_a_day_has_two_slots(tiny, monkeypatch):
    """The SMS keys name the day's slot, not the period: a block run again found slot 0
    taken and took slot 1, a second SMS for the same digest."""
    monkeypatch.setitem(tiny.config, "DIGEST_SMS_PER_DAY", 2)
    died, stamp = [], digests._stamp_ids

    def dying(side, ids):
        if not died:
            died.append(side.name)
            raise RuntimeError("worker killed")
        return stamp(side, ids)

    monkeypatch.setattr(digests, "_stamp_ids", dying)
    round_ = _split("round-b", blocks=1)
    assert died and round_.finished_at is not None
    sms = db.session.execute(select(Notification.user_id, db.func.count()).where(
        Notification.channel == "sms").group_by(Notification.user_id)).all()
    assert sms and max(count for _user, count in sms) == 1


def test_matches_made_after_the_round_started_wait_for_the_next_round(tiny):
    from app.models.mixins import utcnow

    round_id = push_rounds.start_push_round("round-b", DAY, blocks=1).id
    db.session.commit()  # queued; a re-match adds a match before the blocks run
    late = db.session.scalars(select(Match).order_by(Match.id.desc())).first()
    late.created_at, late_id = utcnow() + dt.timedelta(seconds=5), late.id
    db.session.commit()  # nothing read after it: on SQLite a read here would hold the lock
    _work()
    db.session.expire_all()
    assert db.session.get(PushRound, round_id).finished_at is not None
    assert db.session.get(Match, late_id).pushed_at is None  # left for the next round
    assert db.session.scalar(select(db.func.count(Match.id)).where(
        Match.pushed_at.is_(None))) == 1
