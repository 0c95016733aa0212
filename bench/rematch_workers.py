"""A full re-match split into blocks, run by 1 and then 2 real ``flask worker`` processes.

    python -m bench.rematch_workers --database sqlite:////path/to/a/COPY.db --redis URL
        [--workers 1 2] [--blocks 8] [--one-need 200]

On a database bench.generate filled (and that you may change: the run rewrites its matches).
For each worker count: a run is started (``runs.start_rematch``, as the back office does),
that many ``flask worker matching`` processes (each forking a work-horse per block, as in
production) run its blocks, and the run's wall time (start to closed), each worker's peak
memory (the worker and its work-horses), the blocks' times (corpus load, ranking, the store
and its wait for SQLite's write lock, from the workers' logs) are printed; then the ratio of
the two wall times (target <= 0.6), and one newly published need ranked and stored, p95
(target <= 15 ms). Redis: a database of its own, flushed before each run.
"""
import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time

from .workers import start_workers, stop_workers


def _app(database_url, redis_url):
    from app import create_app

    return create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                      REDIS_URL=redis_url, RQ_ASYNC=True, UPLOAD_FOLDER=tempfile.mkdtemp(),
                      MATCH_CORPUS_TTL=3600)


def one_run(app, n_workers, blocks, env, logdir, out=sys.stdout):
    from redis import Redis
    from sqlalchemy import update

    from app.domain.matching import runs
    from app.extensions import db
    from app.models import MatchRun
    from app.models.mixins import utcnow

    Redis.from_url(env["REDIS_URL"]).flushdb()
    with app.app_context():
        db.session.execute(update(MatchRun).where(MatchRun.finished_at.is_(None)).values(
            finished_at=utcnow(), error="left by an interrupted benchmark"))
        db.session.commit()
        started = time.perf_counter()
        run_id = runs.start_rematch(None, blocks=blocks).id
        db.session.commit()  # the researchers' blocks are queued now
    workers = start_workers(n_workers, env, logdir, f"run{run_id}")
    with app.app_context():
        while True:
            state = runs.progress_of(run_id)
            if state["finished"]:
                break
            time.sleep(0.5)
    wall = time.perf_counter() - started
    peaks, blocks_seen, stores, waits, loads = [], 0, [], [], []
    for peak, text in stop_workers(workers):
        peaks.append(peak)
        for corpus_s, all_s in re.findall(r"corpus ([\d.]+) s, all ([\d.]+) s", text):
            blocks_seen += 1
            loads.append(float(corpus_s))
        for wait_s, store_s in re.findall(
                r"waited ([\d.]+) s for the write lock, stored \d+ pairs \(\d+ new\) in ([\d.]+) s",
                text):
            waits.append(float(wait_s))
            stores.append(float(store_s))
    print(f"{n_workers} worker(s), run {run_id}: {wall:.1f} s wall, {state['matches']:,} new "
          f"matches, error: {state['error']}", file=out)
    print(f"  peak memory per worker (worker + its work-horses): "
          f"{', '.join(f'{p:,.0f} MB' for p in peaks)}", file=out)
    print(f"  {blocks_seen} blocks; corpus load {sum(loads):.1f} s in all "
          f"({statistics.mean(loads):.1f} s a block); needs' stores {sum(stores):.1f} s in all "
          f"(waits for the write lock {sum(waits):.1f} s)", file=out, flush=True)
    return {"wall": wall, "peaks": peaks, "store": sum(stores), "error": state["error"]}


def one_new_need(app, samples=200):
    from sqlalchemy import select

    from app.domain.matching import scoring, store
    from app.extensions import db
    from app.models import Need, NeedState

    with app.app_context():
        scoring._cached = None
        scoring.cached_corpus(db.session)  # the worker's corpus, kept between jobs
        ids = db.session.scalars(select(Need.id).where(Need.state == NeedState.published)).all()
        times = []
        for need_id in random.Random(3).sample(ids, min(samples, len(ids))):
            started = time.perf_counter()
            store.rank_for_need(need_id)
            db.session.commit()
            times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1000, times[max(0, int(len(times) * 0.95) - 1)] * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a COPY of a generated database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12",
                        help="a Redis database of the benchmark's own (flushed)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--blocks", type=int, default=None, help="default REMATCH_BLOCKS")
    parser.add_argument("--one-need", type=int, default=200)
    args = parser.parse_args(argv)
    secret = os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    env = dict(os.environ, DATABASE_URL=args.database, REDIS_URL=args.redis, SECRET_KEY=secret,
               DIGEST_INTERVAL=str(7 * 86400), MATCH_SWEEP_INTERVAL=str(7 * 86400),
               FAB_UPDATE_PERMS="False")
    app = _app(args.database, args.redis)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()  # the copy comes up to the code's schema (the blocks' table)
    logdir = tempfile.mkdtemp(prefix="rematch-workers-")
    print(f"worker logs in {logdir}", flush=True)
    results = {n: one_run(app, n, args.blocks, env, logdir) for n in args.workers}
    if 1 in results and 2 in results:
        print(f"two workers / one: {results[2]['wall'] / results[1]['wall']:.2f}   "
              "(target <= 0.6)")
    if args.one_need:
        p50, p95 = one_new_need(app, args.one_need)
        print(f"one new need, rank + store: p50 {p50:.1f} ms, p95 {p95:.1f} ms   "
              "(target p95 <= 15 ms)")
    return results


if __name__ == "__main__":
    main()
