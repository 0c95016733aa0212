"""RQ wiring: queues named by purpose, jobs that take ids, enqueued only after commit.

Jobs run inside a fresh app context: the worker's preloaded app (``flask worker``), or the
current app when a test runs them inline (``RQ_ASYNC = False``).
"""
import datetime as dt
import functools
import logging
import time

from flask import current_app, has_app_context
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue

from app.extensions import db

logger = logging.getLogger(__name__)

QUEUES = ("default", "notifications", "matching")
_worker_app = None
_PENDING = "after_commit_jobs"


def init_worker_app(app):
    """Remember the app that jobs run in (the worker process builds it once)."""
    global _worker_app
    _worker_app = app


def _app():
    if _worker_app is not None:
        return _worker_app
    if has_app_context():
        return current_app._get_current_object()
    raise RuntimeError("no Flask app for this job: start workers with `flask worker`")


def job(fn):
    """Run ``fn`` in a fresh app context (and so a fresh database session)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _app().app_context():
            return fn(*args, **kwargs)

    return wrapper


def redis_connection(app=None) -> Redis:
    """A connection to ``REDIS_URL``. With none set (a ``flask`` command under the embedded
    default, whose Redis lives in ``python run.py``), Redis counts as unreachable: jobs are
    left to the worker's sweep, as when Redis is down, instead of failing the command."""
    app = app or current_app
    url = app.config["REDIS_URL"]
    if not url:
        raise RedisConnectionError("REDIS_URL is not set: no Redis server to queue jobs on")
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def get_queue(name="default", app=None, connection: Redis | None = None) -> Queue:
    app = app or current_app
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {QUEUES}")
    return Queue(name, connection=connection or redis_connection(app),
                 is_async=app.config["RQ_ASYNC"])


def schedule_in_slot(queue: str, func, prefix: str, interval: int, *args,
                     now: float | None = None):
    """Schedule ``func(*args)`` at the next multiple of ``interval`` seconds, with a job id
    naming that slot: every worker starting up and the running job itself schedule the same
    job, so there is one run per slot however many workers there are. Returns the job."""
    slot = int((time.time() if now is None else now) // interval) + 1
    at = dt.datetime.fromtimestamp(slot * interval, tz=dt.timezone.utc)
    args = tuple(a(slot) if callable(a) else a for a in args)
    return get_queue(queue).enqueue_at(at, func, *args, job_id=f"{prefix}{slot}")


def enqueue_after_commit(func, *args, queue="default", **options):
    """Queue ``func(*args)`` once the current transaction commits; forget it on rollback.

    ``func`` is a job's dotted name (``"app.jobs.matching.match_need"``) when the caller sits
    below the jobs (domain and core code never import them), or the function itself. Arguments
    must be ids and primitives. If Redis is unreachable at that moment the outbox
    row stays ``pending`` and the sweeper sends it later; the user's action is not undone.
    """
    db.session().info.setdefault(_PENDING, []).append((queue, func, args, options))


def enqueue_committed_jobs(session):
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    # One connection for the whole commit: a push round commits thousands of send jobs at once,
    # and a connection per job cost 3.6 ms each against 0.8 ms on a shared one.
    try:
        connection = redis_connection()
    except RedisError as exc:
        logger.warning("could not enqueue %d jobs (left for the sweeper): %s", len(pending), exc)
        return
    for queue, func, args, options in pending:
        try:
            get_queue(queue, connection=connection).enqueue(func, *args, **options)
        except RedisError as exc:
            logger.warning("could not enqueue %s%r (left for the sweeper): %s",
                           getattr(func, "__name__", func), args, exc)


def drop_rolled_back_jobs(session):
    session.info.pop(_PENDING, None)
