"""Need list and search at province scale, as ratios against same-run baselines.

    python -m bench.need_search [--needs 20000] [--database sqlite|URL]
    python -m bench.need_search --reuse --database URL   # on bench.generate's data

Prints, for each query, the hits of the index and of a `LIKE '%q%'` scan over the same columns
(title, keywords, template sections, enterprise name, with pinyin and initials), the indexed
search time divided by the scan's on the same data (target ≤ 0.01; median of 5 runs, the
search's plan cached as in production, and apart the first run, which makes the plan), and the
SQL statements per page for page sizes 20/50/100 (target ≤ 3, independent of the size). Never run by the test suite at this
size; tests/test_bench_smoke.py runs it tiny so it cannot rot.
"""
import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time

FIXED_QUERIES = ("whgd", "储能", "中试验证")  # firm initials, a short word, a word in every need


def build(n_needs, database_url, seed=7):
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from app.models import Enterprise, Need, NeedCategory, Region, TechField
    from app.models.mixins import utcnow
    from app.domain.needs.search import reindex_all
    from app.domain.reference.loader import seed_reference_data
    from app.utils.pinyin import initials_of, pinyin_of

    from .data import firm_name, need_text

    # The production plan cache (SEARCH_PLAN_TTL); the first search of a query is timed apart.
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), SEARCH_PLAN_TTL=60)
    rnd = random.Random(seed)
    with app.app_context():
        upgrade()
        seed_reference_data()
        regions = db.session.scalars(select(Region)).all()
        fields = db.session.scalars(select(TechField)).all()
        categories = db.session.scalars(select(NeedCategory)).all()
        round_id = db.session.execute(select(db.text("id")).select_from(
            db.text("program_rounds"))).scalar()
        n_enterprises = max(10, n_needs // 10)
        enterprises = []
        for i in range(n_enterprises):
            name = firm_name(rnd, i)
            enterprises.append(dict(
                name=name, name_pinyin=pinyin_of(name), name_initials=initials_of(name),
                credit_code=f"B{i:017d}", region_id=rnd.choice(regions).id, state="verified",
                created_at=utcnow(), updated_at=utcnow(), version=1))
        db.session.execute(insert(Enterprise), enterprises)
        ids = [i for (i,) in db.session.execute(select(Enterprise.id))]
        now = dt.datetime(2020, 10, 1)
        needs = []
        vocabulary = sorted({w for f in fields for w in f.keywords.split()})
        for i in range(n_needs):
            text = need_text(rnd, vocabulary)
            needs.append(dict(
                round_id=round_id, enterprise_id=rnd.choice(ids),
                name_pinyin=pinyin_of(text["title"]), name_initials=initials_of(text["title"]),
                category_id=rnd.choice(categories).id, field_id=rnd.choice(fields).id,
                amount=100000 + 10000 * (i % 50), state="published",
                published_at=now - dt.timedelta(minutes=i), created_at=now, updated_at=now,
                version=1, **text))
        for start in range(0, len(needs), 5000):
            db.session.execute(insert(Need), needs[start:start + 5000])
        reindex_all(db.session.connection())
        db.session.commit()
        # Planner statistics and PostgreSQL's visibility map (index-only scans), as autovacuum
        # keeps them on a live database; a freshly bulk-loaded one has neither.
        with db.engine.connect() as conn:
            vacuum = "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(vacuum)
    return app


def sample_queries():
    """Words people would type: taxonomy terms in Chinese, full pinyin, initials, two words."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import TechField
    from app.utils.pinyin import initials_of, pinyin_of

    words = sorted({w for (k,) in db.session.execute(select(TechField.keywords))
                    for w in k.split()})
    first, second, third = words[17], words[151], words[303]
    return FIXED_QUERIES + (first, pinyin_of(second), initials_of(third), f"{first} {second}")


def _time(fn, repeat=5):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _likes(q):
    """`LIKE '%word%'` over what the index covers: the title with its pinyin and initials, the
    keywords, the template sections and the enterprise's name with its pinyin and initials."""
    from sqlalchemy import or_, select

    from app.models import Enterprise, Need
    from app.domain.needs.search import CONTENT_COLUMNS

    columns = [Need.title, Need.name_pinyin, Need.name_initials, Need.keywords] + [
        getattr(Need, c) for c in CONTENT_COLUMNS]
    firm = (Enterprise.name, Enterprise.name_pinyin, Enterprise.name_initials)
    # ILIKE: the search ignores case (PostgreSQL's LIKE does not; SQLite's does for ASCII).
    return [or_(*[column.ilike(f"%{token}%") for column in columns],
                Need.enterprise_id.in_(select(Enterprise.id).where(
                    or_(*[column.ilike(f"%{token}%") for column in firm]))))
            for token in q.lower().split()]


def search_only(q, indexed):
    """The search step alone: how many published needs match (no page to load)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Need
    from app.domain.needs.need_list import NeedFilters, _conditions, count_needs, search_plan

    if indexed:  # the plan and the count: what a search costs before its page
        filters = NeedFilters(q=q)
        return count_needs(filters, search_plan(filters))
    where = _conditions(NeedFilters(), []) + _likes(q)
    return db.session.scalar(select(func.count(Need.id)).where(*where))


def like_baseline(q):
    """The same page (count + 50 rows, same joins) found by `LIKE '%q%'` instead of the index."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import contains_eager

    from app.extensions import db
    from app.models import Enterprise, Need, TechDomain, TechField
    from app.domain.needs.need_list import NeedFilters, _base, _conditions

    likes = _likes(q)
    db.session.scalar(select(func.count(Need.id)).where(*_conditions(NeedFilters(), []), *likes))
    page = (_base(NeedFilters(), []).where(*likes)
            .options(contains_eager(Need.field).contains_eager(TechField.domain),
                     contains_eager(Need.category),
                     contains_eager(Need.enterprise).contains_eager(Enterprise.region))
            .order_by(TechDomain.code, TechField.code, Need.published_at.desc(), Need.id))
    db.session.scalars(page.limit(50)).unique().all()


def run(n_needs, database_url, out=sys.stdout, reuse=False):
    from sqlalchemy import event

    from app.extensions import db
    from app.domain.needs.need_list import NeedFilters, page_of_needs

    if reuse:
        from app import create_app

        app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                         UPLOAD_FOLDER=tempfile.mkdtemp(), SEARCH_PLAN_TTL=60)
        with app.app_context():
            from app.models import Need

            n_needs = db.session.scalar(db.select(db.func.count(Need.id)))
    else:
        app = build(n_needs, database_url)
    rows = []
    with app.app_context():
        queries = sample_queries()
    with app.test_request_context("/needs"):
        page_of_needs(NeedFilters(q="预热"), 1, 50)  # loads jieba once
        for q in queries:
            indexed = _time(lambda: page_of_needs(NeedFilters(q=q), 1, 50))
            baseline = _time(lambda: like_baseline(q))
            from app.domain.needs import search

            search._plans.clear()
            started = time.perf_counter()
            found = search_only(q, True)  # the first search of the words: their plan is made
            first = time.perf_counter() - started
            scanned = search_only(q, False)
            s_indexed = _time(lambda: search_only(q, True))
            s_baseline = _time(lambda: search_only(q, False))
            rows.append((q, found, scanned, first * 1000, indexed * 1000, baseline * 1000, indexed / baseline,
                         s_indexed * 1000, s_baseline * 1000, s_indexed / s_baseline))
    statements, search_statements = {}, {}
    with app.test_request_context("/needs"):
        page_of_needs(NeedFilters(), 1, 20)  # the plain list's counts, cached until a change
        # The search's plan, kept for SEARCH_PLAN_TTL: the timings above may outlast it, and
        # the first search of a query plans it with one statement more.
        page_of_needs(NeedFilters(q=FIXED_QUERIES[2]), 1, 20)
    for size in (20, 50, 100):
        for q, counts in (("", statements), (FIXED_QUERIES[2], search_statements)):
            with app.test_request_context("/needs"):  # one request each, as in production
                seen = []
                listener = lambda *a, **k: seen.append(a[2])
                event.listen(db.engine, "before_cursor_execute", listener)
                page_of_needs(NeedFilters(q=q), 1, size)
                event.remove(db.engine, "before_cursor_execute", listener)
                counts[size] = len([s for s in seen if s != "BEGIN"])
    print(f"need list at {n_needs:,} published needs ({db_kind(database_url)})", file=out)
    print(f"{'query':<20}{'hits':>6}{'LIKE':>6} | {'page: index':>11}{'LIKE':>8}{'ratio':>8} | "
          f"{'search: index':>13}{'LIKE':>8}{'ratio':>8} | {'first':>6}{'ratio':>8}   (ms)",
          file=out)
    for q, found, scanned, first, p_i, p_l, p_r, s_i, s_l, s_r in rows:
        print(f"{q:<20}{found:>6}{scanned:>6} | {p_i:>11.2f}{p_l:>8.2f}{p_r:>8.4f} | "
              f"{s_i:>13.2f}{s_l:>8.2f}{s_r:>8.4f} | {first:>6.2f}{first / s_l:>8.4f}", file=out)
    print("SQL statements per list page: " + ", ".join(
        f"size {k}: {v}" for k, v in statements.items()), file=out)
    print(f"SQL statements per search page ({FIXED_QUERIES[2]}, its plan kept): " + ", ".join(
        f"size {k}: {v}" for k, v in search_statements.items()), file=out)
    from .generate import peak_rss_mb

    print(f"peak memory: {peak_rss_mb():,.0f} MB", file=out)
    return rows, statements


def db_kind(url):
    return url.split(":", 1)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=20000)
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (a temporary file) or a database URL to a scratch database")
    parser.add_argument("--reuse", action="store_true",
                        help="the database holds bench.generate's data: search it as it is")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    url = args.database
    if url == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    run(args.needs, url, reuse=args.reuse)


if __name__ == "__main__":
    main()
