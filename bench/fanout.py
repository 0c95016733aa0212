"""Notification fan-out per worker, as a ratio against the same worker running empty jobs.

    python -m bench.fanout [--people 2000] [--redis redis://127.0.0.1:6379/13] [--database URL]
    python -m bench.fanout --round --database URL   # a generated database with its matches

``--round`` makes and enqueues a whole push round on a database that ``bench.generate`` filled
and ``bench.matching`` gave its matches: an account for every researcher and enterprise that has
none, then ``send_digests`` as the worker runs it (a commit per batch), timed, with the
notifications and jobs it made and the process's peak memory. Nothing is sent.
``--round --workers 1 2 [--blocks 8]`` makes the round as the periodic job does instead: a push
round by blocks (``push_rounds.start_push_round``) run by that many real ``flask worker
matching`` processes, timed from its start until its last block is done, with each worker's
peak memory and the ratio of two workers' wall time to one's (target <= 0.6).

A push round: one digest per person, in-site and e-mail (to an SMTP server on loopback), made by
``send_digests`` and sent by one RQ worker. Prints notifications delivered per second against
the worker's rate on empty jobs (target ≥ 0.5), and how long making and enqueueing the round
took. The Redis database given is flushed: use a scratch one.
"""
import argparse
import os
import socket
import sys
import tempfile
import time


def empty_job():
    return None


class _Inbox:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox, port


def run(n_people, database_url, redis_url, out=sys.stdout):
    from flask_migrate import upgrade
    from redis import Redis
    from rq import Queue, SimpleWorker
    from sqlalchemy import insert, select

    from app import create_app
    from app.core import queue as jobs
    from app.domain.matching.digests import send_digests
    from app.domain.reference.loader import seed_reference_data
    from app.extensions import db
    from app.models import AppUser, Match, NeedState, Notification
    from app.models.mixins import utcnow
    from tests.factories import Factories

    controller, inbox, port = _smtp()
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), REDIS_URL=redis_url, RQ_ASYNC=True,
                     MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    previous = jobs._worker_app
    jobs.init_worker_app(app)  # the worker below runs jobs in this app, as `flask worker` does
    try:
        with app.app_context():
            upgrade()
            seed_reference_data()
            make = Factories(app)
            enterprise = make.enterprise()
            need = make.need(enterprise, NeedState.draft)
            need.state, need.published_at = NeedState.published, utcnow()
            db.session.commit()
            redis.flushdb()  # the matching job queued at publish is not part of the round
            researcher = make.researcher()
            now = utcnow()
            users = [dict(first_name="研究员", last_name=str(i), username=f"fan{i}",
                          email=f"fan{i}@bench.local", active=True, created_on=now,
                          changed_on=now, researcher_id=researcher.id) for i in range(n_people)]
            db.session.execute(insert(AppUser), users)
            db.session.execute(insert(Match), [dict(
                need_id=need.id, researcher_id=researcher.id, score=0.9, reasons={},
                direction="need_to_researcher", dismissed=False, created_at=now,
                updated_at=now)])
            db.session.commit()
            queue = Queue("notifications", connection=redis)
            for _ in range(n_people * 2):
                queue.enqueue("bench.fanout.empty_job")  # by name: __main__ cannot be imported
            started = time.perf_counter()
            SimpleWorker([queue], connection=redis).work(burst=True)
            empty_rate = n_people * 2 / (time.perf_counter() - started)
            redis.flushdb()
            started = time.perf_counter()
            send_digests("bench")
            db.session.commit()
            enqueue_seconds = time.perf_counter() - started
            rows = db.session.scalar(select(db.func.count(Notification.id)).where(
                Notification.template.like("match.%")))
            queued = queue.count
            db.session.close()  # no read transaction of ours may hold SQLite's lock
            started = time.perf_counter()
            SimpleWorker([queue], connection=redis).work(burst=True)
            send_rate = rows / (time.perf_counter() - started)
            states = db.session.execute(select(Notification.channel, Notification.state,
                                               db.func.count()).group_by(
                Notification.channel, Notification.state)).all()
            assert inbox.count == n_people, (inbox.count, n_people, rows, queued, states)
    finally:
        jobs.init_worker_app(previous)
        controller.stop()
        redis.flushdb()
    ratio = send_rate / empty_rate
    print(f"fan-out of one push round to {n_people:,} people ({rows:,} notifications in "
          f"{queued:,} jobs, {database_url.split(':', 1)[0]})", file=out)
    print(f"  empty jobs per second      {empty_rate:>9.0f}", file=out)
    print(f"  notifications per second   {send_rate:>9.0f}", file=out)
    print(f"  make + enqueue the round   {enqueue_seconds:>9.2f} s", file=out)
    print(f"notifications / empty jobs: {ratio:.2f}   (target >= 0.5)", file=out)
    return {"ratio": ratio, "rows": rows, "jobs": queued}


def _accounts(db):
    """An account for every researcher and enterprise without one (bulk: ab_user rows)."""
    from sqlalchemy import insert, select

    from app.models import AppUser, Enterprise, Researcher
    from app.models.mixins import utcnow

    now = utcnow()
    made = 0
    for model, column in ((Researcher, AppUser.researcher_id), (Enterprise, AppUser.enterprise_id)):
        owners = db.session.scalars(select(model.id).where(model.id.not_in(
            select(column).where(column.is_not(None))))).all()
        for start in range(0, len(owners), 10000):
            db.session.execute(insert(AppUser), [
                {"first_name": "用户", "last_name": str(owner), "active": True,
                 "username": f"{model.__tablename__}{owner}", "created_on": now,
                 "changed_on": now, "email": f"{model.__tablename__}{owner}@bench.local",
                 "phone": f"18{owner:09d}", column.key: owner}
                for owner in owners[start:start + 10000]])
            db.session.commit()
        made += len(owners)
    return made


def _reset_round(db):
    """Every match untold again and no digest yet: a rerun measures the same round."""
    from sqlalchemy import delete, update

    from app.models import Match, Notification

    db.session.execute(update(Match).values(pushed_at=None, enterprise_pushed_at=None))
    db.session.execute(delete(Notification).where(Notification.template.like("match.digest%")))
    db.session.commit()


def push_round_by_workers(database_url, redis_url, worker_counts, blocks, out=sys.stdout):
    """The push round as the periodic job makes it, by blocks that 1, then 2 (...) real
    workers run; returns {workers: figures}."""
    from flask_migrate import upgrade
    from redis import Redis
    from sqlalchemy import func, select

    from app import create_app
    from app.domain.matching import push_rounds
    from app.extensions import db
    from app.models import Match, Notification

    from .workers import start_workers, stop_workers

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), REDIS_URL=redis_url, RQ_ASYNC=True)
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
               DIGEST_INTERVAL=str(7 * 86400), MATCH_SWEEP_INTERVAL=str(7 * 86400),
               FAB_UPDATE_PERMS="False")
    env.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    logdir = tempfile.mkdtemp(prefix="push-workers-")
    print(f"worker logs in {logdir}", file=out, flush=True)
    results = {}
    with app.app_context():
        upgrade()  # the copy comes up to the code's schema (the rounds' tables)
        matches = db.session.scalar(select(func.count(Match.id)))
        _accounts(db)
    for n_workers in worker_counts:
        Redis.from_url(redis_url).flushdb()
        with app.app_context():
            _reset_round(db)
            started = time.perf_counter()
            round_ = push_rounds.start_push_round(f"bench-{n_workers}w-{time.time():.0f}",
                                                  blocks=blocks)
            round_id, n_blocks = round_.id, len(round_.blocks)
            db.session.commit()  # its blocks are queued now
        workers = start_workers(n_workers, env, logdir, f"round{round_id}")
        with app.app_context():
            while not (state := push_rounds.progress_of(round_id))["finished"]:
                if state["error"]:
                    break
                time.sleep(0.5)
            wall = time.perf_counter() - started
            rows = db.session.scalar(select(func.count(Notification.id)).where(
                Notification.template.like("match.digest%")))
            db.session.rollback()
        peaks = [peak for peak, _text in stop_workers(workers)]
        results[n_workers] = {"wall": wall, "peaks": peaks, "digests": state["digests"],
                              "rows": rows, "error": state["error"]}
        print(f"{n_workers} worker(s), round {round_id} over {matches:,} matches, {n_blocks} "
              f"blocks: {wall:.1f} s wall, {state['digests']:,} digests, {rows:,} "
              f"notifications ({rows / max(wall, 1e-9):,.0f}/s), error: {state['error']}",
              file=out)
        print(f"  peak memory per worker: {', '.join(f'{p:,.0f} MB' for p in peaks)}",
              file=out, flush=True)
    Redis.from_url(redis_url).flushdb()
    if 1 in results and 2 in results:
        print(f"two workers / one: {results[2]['wall'] / results[1]['wall']:.2f}   "
              "(target <= 0.6)", file=out)
    return results


def push_round(database_url, redis_url, out=sys.stdout):
    """Make and enqueue one push round on a generated database; returns its figures."""
    from redis import Redis
    from sqlalchemy import func, select

    from app import create_app
    from app.domain.matching.digests import send_digests
    from app.extensions import db
    from app.models import Match, Notification

    from .generate import peak_rss_mb

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), REDIS_URL=redis_url, RQ_ASYNC=True)
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    try:
        with app.app_context():
            matches = db.session.scalar(select(func.count(Match.id)))
            if not matches:
                raise SystemExit("no matches: run python -m bench.matching --reuse on it first")
            started = time.perf_counter()
            accounts = _accounts(db)
            accounts_seconds = time.perf_counter() - started
            _reset_round(db)
            before = db.session.scalar(select(func.count(Notification.id)))
            started = time.perf_counter()
            digests = send_digests("bench-round", commit=True)
            seconds = time.perf_counter() - started
            rows = db.session.scalar(select(func.count(Notification.id))) - before
            jobs = sum(redis.llen(key) for key in redis.keys("rq:queue:*"))
    finally:
        redis.flushdb()
    print(f"one push round over {matches:,} matches ({database_url.split(':', 1)[0]}): "
          f"{digests:,} digests, {rows:,} notifications in {jobs:,} send jobs", file=out)
    print(f"  accounts made first          {accounts:>11,} in {accounts_seconds:.1f} s", file=out)
    print(f"  make + enqueue the round     {seconds:>11.1f} s "
          f"({rows / max(seconds, 1e-9):,.0f} notifications/s)", file=out)
    print(f"  peak memory of the process   {peak_rss_mb():>11,.0f} MB", file=out)
    return {"digests": digests, "rows": rows, "jobs": jobs, "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--round", action="store_true",
                        help="a whole push round on a generated database (see above)")
    parser.add_argument("--workers", type=int, nargs="+", default=None,
                        help="with --round: by blocks, run by this many workers in turn")
    parser.add_argument("--blocks", type=int, default=None, help="default PUSH_BLOCKS")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    if args.round and args.workers:
        return push_round_by_workers(args.database, args.redis, args.workers, args.blocks)
    if args.round:
        return push_round(args.database, args.redis)
    url = args.database
    if url == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    run(args.people, url, args.redis)


if __name__ == "__main__":
    main()
