"""Public need list and need detail under load against gunicorn, as ratios to a bare endpoint.

    python -m bench.need_pages [--scale province] [--database sqlite|URL] [--reuse]
                               [--seconds 10] [--connections 8] [--workers 4]

Generates the data (``bench/generate.py``; ``--reuse`` takes a database generated before), serves
the production app with gunicorn on 127.0.0.1 and drives it with wrk (Debian's ``wrk``; a
Python load generator when it is missing). Every page is compared with ``/bench/bare`` of the
same app in the same run (target: list and detail ≥ 0.25 of its throughput). The list's
requests rotate over pages and filters (category, field, domain, region, amount), the detail's
over 500 published needs, so no single row or plan is measured. Also prints SQL statements per
page, counted in-process, for page sizes 20, 50 and 100 (target ≤ 3, the same for each size).
"""
import argparse
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TARGET_RATIO = 0.25


def _paths(app, rnd, n_details=500):
    """The request mix: list pages (size 50) with and without filters, and need details."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Need, NeedCategory, Region, TechDomain, TechField

    with app.app_context():
        categories = db.session.scalars(select(NeedCategory.id)).all()
        fields = db.session.scalars(select(TechField.id)).all()
        domains = db.session.scalars(select(TechDomain.id)).all()
        regions = db.session.scalars(select(Region.id)).all()
        needs = db.session.scalars(select(Need.id).where(Need.state == "published")).all()
    lists = [f"/needs?per_page=50&page={page}" for page in (1, 2, 3, 7)]
    lists += [f"/needs?per_page=50&category={rnd.choice(categories)}" for _ in range(4)]
    lists += [f"/needs?per_page=50&field={rnd.choice(fields)}" for _ in range(4)]
    lists += [f"/needs?per_page=50&domain={rnd.choice(domains)}&page=2" for _ in range(3)]
    lists += [f"/needs?per_page=50&region={rnd.choice(regions)}" for _ in range(3)]
    lists += ["/needs?per_page=50&min=150000&max=500000",
              f"/needs?per_page=50&category={categories[0]}&region={regions[0]}&min=100000"]
    details = [f"/needs/{i}" for i in rnd.sample(needs, min(n_details, len(needs)))]
    return lists, details


def _count_statements(client, engine, path):
    from sqlalchemy import event

    seen = []

    def count(_conn, _cursor, statement, *_args):
        if statement != "BEGIN":  # SQLite's explicit BEGIN (app/extensions.py) is no query
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    response = client.get(path)
    event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen)


def sql_per_page(app, lists, details):
    """Statements of one request, counted in-process: the list at sizes 20/50/100 (plain and
    filtered) and a need's page, for an anonymous visitor (the first request after a change,
    then a kept page) and for a signed-in researcher (made for them around the kept parts;
    after the first, the counts per field are cached)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    anonymous, signed_in = app.test_client(), app.test_client()
    signed_in.post("/login/", data={"username": BENCH_USER, "password": BENCH_PASSWORD})
    anonymous.get("/needs?category=0")  # the reference labels, kept for minutes
    counts = {}
    paths = [(f"list, size {size}", f"/needs?per_page={size}") for size in (20, 50, 100)] + [
        (f"list, size {size}, filtered", lists[-1].replace("per_page=50", f"per_page={size}"))
        for size in (20, 50, 100)] + [("detail", details[0])]
    for label, path in paths:
        first = _count_statements(anonymous, engine, path)
        kept = _count_statements(anonymous, engine, path)
        _count_statements(signed_in, engine, path + ("&" if "?" in path else "?") + "x=1")
        made = _count_statements(signed_in, engine, path)
        counts[label] = (first, kept, made)
    return counts


BENCH_USER, BENCH_PASSWORD = "bench_researcher", "Bench-Researcher-2020"


def _bench_researcher(app):
    """A signed-in researcher's pages are made for them each time: the uncached path."""
    from sqlalchemy import select

    from app.core.security import sync_roles
    from app.extensions import db
    from app.models import AppUser, Researcher

    with app.app_context():
        sync_roles(app.appbuilder)
        sm = app.appbuilder.sm
        if db.session.scalar(select(AppUser).where(AppUser.username == BENCH_USER)) is None:
            user = sm.add_user(BENCH_USER, "研究员", "基准", "bench@researcher.local",
                               sm.find_role("Researcher"), password=BENCH_PASSWORD)
            user.researcher_id = db.session.scalar(select(Researcher.id).where(
                Researcher.state == "approved").limit(1))
            db.session.commit()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Server:
    """gunicorn serving ``bench.serve:create_bench_app()`` with the production config."""

    def __init__(self, database_url, redis_url, workers):
        self.port = _free_port()
        scratch = tempfile.mkdtemp(prefix="bench-serve-")
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                   SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
                   SESSION_COOKIE_SECURE="0", INSTANCE_DIR=scratch,
                   UPLOAD_FOLDER=os.path.join(scratch, "uploads"))
        self.log = open(os.path.join(scratch, "gunicorn.log"), "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "bench.serve:create_bench_app()"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def __enter__(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            try:
                if _get(self.port, "/bench/bare") == 200:
                    # Every worker imports the app lazily on its first requests: warm them all.
                    for _ in range(20):
                        _get(self.port, "/bench/bare")
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        # The master's and workers' own peaks (VmHWM), read before they exit.
        self.peak_mb = max(_peak_of(pid) for pid in _family(self.process.pid))
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def _family(pid):
    """A process and its children (Linux /proc)."""
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            children += [int(child) for child in listed.read().split()]
    return [pid] + children


def _peak_of(pid) -> float:
    """A process's peak resident memory in MB (Linux VmHWM); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _wrk(port, paths, seconds, connections, cookie=None):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    with script:
        script.write("paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
                     "counter = 0\n"
                     "request = function()\n"
                     "  counter = counter + 1\n"
                     "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
                     "end\n")
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    try:
        result = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *headers, "-s",
             script.name, f"http://127.0.0.1:{port}"], capture_output=True, text=True,
            check=True)
    finally:
        os.unlink(script.name)
    text = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", text)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return dict(rate=rate, failed=int(bad.group(1)) if bad else 0,
                timeouts=int(errors.group(1)) if errors else 0,
                p50=float(p50.group(1)) * scale[p50.group(2)],
                p99=float(p99.group(1)) * scale[p99.group(2)])


def _python_load(port, paths, seconds, connections, cookie=None):
    """The fallback load generator: ``connections`` threads, each one request at a time."""
    latencies, failed = [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(offset):
        mine, bad, i = [], 0, offset
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = _get(port, paths[i % len(paths)], {"Cookie": cookie} if cookie else None)
            mine.append((time.perf_counter() - started) * 1000)
            bad += status != 200
            i += connections
        with lock:
            latencies.extend(mine)
            failed[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return dict(rate=len(latencies) / elapsed, failed=failed[0], timeouts=0,
                p50=statistics.median(latencies),
                p99=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))])


def load(port, paths, seconds, connections, cookie=None):
    """Requests per second and latency of ``paths`` in rotation (wrk if installed)."""
    if shutil.which("wrk"):
        return _wrk(port, paths, seconds, connections, cookie)
    return _python_load(port, paths, seconds, connections, cookie)


def _sign_in(port, username=BENCH_USER, password=BENCH_PASSWORD):
    """The session cookie of a user (the bench researcher), signed in through the login form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login/")
        response = conn.getresponse()
        form = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrf_token": token})
        conn.request("POST", "/login/", body, {"Cookie": cookie, "Content-Type":
                                                "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        signed = response.getheader("Set-Cookie", "").split(";", 1)[0]
        assert response.status == 302 and signed, f"{username} could not sign in"
        return signed
    finally:
        conn.close()


def generated_app(scale, database_url, redis_url, reuse=False, out=sys.stdout):
    """The data of ``scale`` (unless ``reuse``) and the app over it, as a page benchmark
    prepares them before serving them with gunicorn."""
    from app import create_app

    from .generate import generate

    if not reuse:
        generate(scale, database_url, profiles=False, out=sys.stderr if out is sys.stdout
                 else out)
    return create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                      UPLOAD_FOLDER=tempfile.mkdtemp(), REDIS_URL=redis_url)


def run(scale, database_url, redis_url, seconds=10, connections=8, workers=4, reuse=False,
        out=sys.stdout):
    app = generated_app(scale, database_url, redis_url, reuse, out)
    _bench_researcher(app)
    lists, details = _paths(app, random.Random(11))
    statements = sql_per_page(app, lists, details)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    results, mixes = {}, (("bare endpoint", ["/bench/bare"], False),
                          ("list, anonymous", lists, False), ("detail, anonymous", details, False),
                          ("list, signed in", lists, True), ("detail, signed in", details, True))
    with Server(database_url, redis_url, workers) as server:
        cookie = _sign_in(server.port)
        for label, paths, signed in mixes:
            session = cookie if signed else None
            load(server.port, paths, min(2, seconds), connections, session)  # warm the workers
            results[label] = load(server.port, paths, seconds, connections, session)
    bare = results["bare endpoint"]["rate"]
    tool = "wrk" if shutil.which("wrk") else "python threads"
    print(f"\npublic pages under load: gunicorn -w {workers}, {tool}, {connections} connections, "
          f"{seconds} s each, {database_url.split(':', 1)[0]}", file=out)
    print(f"{'page':<22}{'paths':>6}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'failed':>7}"
          f"{'ratio':>7}", file=out)
    for label, paths, _signed in mixes:
        result = results[label]
        print(f"{label:<22}{len(paths):>6}{result['rate']:>9.0f}{result['p50']:>8.1f}"
              f"{result['p99']:>8.1f}{result['failed'] + result['timeouts']:>7}"
              f"{result['rate'] / bare:>7.2f}", file=out)
    print(f"target: list and detail >= {TARGET_RATIO} of the bare endpoint. Anonymous visitors "
          "get kept pages (app/public/page_cache.py); a signed-in user's page is made for them "
          "around kept parts (app/public/need_page.py, app/core/access/visitor.py).", file=out)
    print("SQL statements per request (anonymous, a page not kept yet / anonymous, a kept page"
          " / signed in, with the user's row):", file=out)
    for label, (first, kept, made) in statements.items():
        print(f"  {label:<28}{first:>3} /{kept:>2} /{made:>2}", file=out)
    from .generate import peak_rss_mb

    print(f"peak memory: this process {peak_rss_mb():,.0f} MB, the largest gunicorn process "
          f"{server.peak_mb:,.0f} MB", file=out)
    return dict(results=results, statements=statements,
                ratios={label: r["rate"] / bare for label, r in results.items()})


def page_bench_main(run, doc: str, db_name: str, argv=None):
    """The command line of a page benchmark under load (this one, ``bench.desk``): scale,
    database, reuse, Redis, and the load's seconds, connections and workers."""
    from .generate import SCALES

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (a temporary file) or the URL of an empty scratch database")
    parser.add_argument("--reuse", action="store_true",
                        help="the database already holds generated data: do not generate")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    url = args.database
    if url == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), db_name)
    run(args.scale, url, args.redis, args.seconds, args.connections, args.workers, args.reuse)


def main(argv=None):
    page_bench_main(run, __doc__, "pages.db", argv)


if __name__ == "__main__":
    main()
