"""Notification fan-out per worker, as a ratio against the same worker running empty jobs.

    python -m bench.fanout [--people 2000] [--redis redis://127.0.0.1:6379/14] [--database URL]

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

    from app import create_app, jobs
    from app.extensions import db
    from app.models import AppUser, Match, NeedState, Notification
    from app.models.mixins import utcnow
    from app.recommendations import send_digests
    from app.seed.loader import seed_reference_data
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    url = args.database
    if url == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    run(args.people, url, args.redis)


if __name__ == "__main__":
    main()
