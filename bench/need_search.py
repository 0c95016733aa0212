"""Need list and search at province scale, as ratios against same-run baselines.

    python -m bench.need_search [--needs 20000] [--database sqlite|URL]

Prints, for each query, the indexed search time divided by a `LIKE '%q%'` scan over title and
pinyin columns on the same data (target ≤ 0.01), and the SQL statements per list page for page
sizes 20/50/100 (target ≤ 3, independent of the size). Never run by the test suite at this
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

FIXED_QUERIES = ("whgd", "储能")  # an enterprise-name initials search, a short word
FIRMS = ("光电", "精密", "智能", "新材料", "生物", "能源", "装备", "环保", "信息", "化工")
CITIES = ("武汉", "宜昌", "襄阳", "荆州", "黄石", "十堰", "孝感", "荆门", "鄂州", "黄冈")
VERBS = ("中的", "与", "驱动的", "用于", "结合")
ENDINGS = ("关键技术攻关", "工艺优化", "国产化替代", "性能提升", "应用研究", "检测方法")
TOPICS = ("高精度传感器温漂补偿", "储能电池热管理", "工业机器人视觉定位", "新材料涂层耐磨性提升",
          "废水深度处理回用", "数控机床故障诊断", "光纤激光器功率稳定", "生物发酵工艺放大",
          "光伏组件效率提升", "智能仓储调度算法", "高分子材料老化", "医疗器械结构优化")


def build(n_needs, database_url, seed=7):
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from app.models import Enterprise, Need, NeedCategory, Region, TechField
    from app.models.mixins import utcnow
    from app.search import reindex_all
    from app.seed.loader import seed_reference_data
    from app.utils.pinyin import initials_of, pinyin_of

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp())
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
            name = f"{rnd.choice(CITIES)}{rnd.choice(FIRMS)}{i}科技有限公司"
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
            # Realistic spread: each title combines two of the taxonomy's ~480 technical terms.
            first, second = rnd.sample(vocabulary, 2)
            title = f"{first}{rnd.choice(VERBS)}{second}{rnd.choice(ENDINGS)}"
            needs.append(dict(
                round_id=round_id, enterprise_id=rnd.choice(ids), title=title,
                name_pinyin=pinyin_of(title), name_initials=initials_of(title),
                category_id=rnd.choice(categories).id, field_id=rnd.choice(fields).id,
                keywords=f"{first} {second}", amount=100000 + 10000 * (i % 50),
                state="published", published_at=now - dt.timedelta(minutes=i),
                created_at=now, updated_at=now, version=1, background="", problem="",
                targets="", basis="", cooperation_mode="", timeline=""))
        for start in range(0, len(needs), 5000):
            db.session.execute(insert(Need), needs[start:start + 5000])
        reindex_all(db.session)
        db.session.commit()
        # Planner statistics, as autovacuum / a DBA would have them on a live database.
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
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
    from sqlalchemy import or_

    from app.models import Need

    return [or_(*[column.like(f"%{token}%") for column in (
        Need.title, Need.name_pinyin, Need.name_initials, Need.keywords)]) for token in q.split()]


def search_only(q, indexed):
    """The search step alone: how many published needs match (no page to load)."""
    from sqlalchemy import func, select

    from app import search
    from app.extensions import db
    from app.models import Need
    from app.need_list import NeedFilters, _conditions, count_needs

    if indexed:
        return count_needs(NeedFilters(q=q), search.query_tokens(q))
    where = _conditions(NeedFilters(), []) + _likes(q)
    return db.session.scalar(select(func.count(Need.id)).where(*where))


def like_baseline(q):
    """The same page (count + 50 rows, same joins) found by `LIKE '%q%'` on the title, its
    pinyin and initials and the keywords instead of the search index."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Need
    from app.need_list import NeedFilters, _base, _conditions, _ordered

    likes = _likes(q)
    db.session.scalar(select(func.count(Need.id)).where(*_conditions(NeedFilters(), []), *likes))
    db.session.scalars(_ordered(_base(NeedFilters(), []).where(*likes), []).limit(50)).unique().all()


def run(n_needs, database_url, out=sys.stdout):
    from sqlalchemy import event

    from app.extensions import db
    from app.need_list import NeedFilters, page_of_needs

    app = build(n_needs, database_url)
    rows = []
    with app.app_context():
        queries = sample_queries()
    with app.test_request_context("/needs"):
        page_of_needs(NeedFilters(q="预热"), 1, 50)  # loads jieba once
        for q in queries:
            indexed = _time(lambda: page_of_needs(NeedFilters(q=q), 1, 50))
            baseline = _time(lambda: like_baseline(q))
            found = search_only(q, True)
            assert found == search_only(q, False) or q.isascii(), q  # same answers for words
            s_indexed = _time(lambda: search_only(q, True))
            s_baseline = _time(lambda: search_only(q, False))
            rows.append((q, found, indexed * 1000, baseline * 1000, indexed / baseline,
                         s_indexed * 1000, s_baseline * 1000, s_indexed / s_baseline))
        statements = {}
        for size in (20, 50, 100):
            seen = []
            listener = lambda *a, **k: seen.append(a[2])
            event.listen(db.engine, "before_cursor_execute", listener)
            page_of_needs(NeedFilters(), 1, size)
            event.remove(db.engine, "before_cursor_execute", listener)
            statements[size] = len(seen)
    print(f"need list at {n_needs:,} published needs ({db_kind(database_url)})", file=out)
    print(f"{'query':<20}{'hits':>6} | {'page: index':>11}{'LIKE':>8}{'ratio':>8} | "
          f"{'search: index':>13}{'LIKE':>8}{'ratio':>8}   (ms)", file=out)
    for q, found, p_i, p_l, p_r, s_i, s_l, s_r in rows:
        print(f"{q:<20}{found:>6} | {p_i:>11.2f}{p_l:>8.2f}{p_r:>8.4f} | "
              f"{s_i:>13.2f}{s_l:>8.2f}{s_r:>8.4f}", file=out)
    print("SQL statements per list page: " + ", ".join(
        f"size {k}: {v}" for k, v in statements.items()), file=out)
    return rows, statements


def db_kind(url):
    return url.split(":", 1)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=20000)
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (a temporary file) or a database URL to a scratch database")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    url = args.database
    if url == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    run(args.needs, url)


if __name__ == "__main__":
    main()
