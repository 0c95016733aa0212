"""Synthetic data at province scale and beyond, loaded through bulk inserts with progress bars.

    python -m bench.generate --scale province --database sqlite:////tmp/province.db
    python -m bench.generate --scale national10x --database postgresql://postgres@127.0.0.1/bench

Scales (enterprises / published needs / researchers / proposals):
    tiny         50 / 20 / 100 / 200 (the smoke test)
    province     50,000 / 20,000 / 100,000 / 200,000
    national10x  500,000 / 200,000 / 1,000,000 / 2,000,000

Names, need texts and researcher profiles come from ``bench/data.py`` (realistic Chinese, built
on the taxonomy's technical terms). Rows are generated and inserted in batches, so memory stays
flat whatever the scale; the pinyin columns, the matching profiles and the need search index
are filled as the application fills them at write time (``--no-profiles`` skips the profiles,
which cost most of the time, when only the lists and search are measured). Prints each step's
time, its rows per second and the peak memory of the process.
"""
import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time

from tqdm import tqdm

SCALES = {
    "tiny": dict(enterprises=50, needs=20, researchers=100, proposals=200),
    "province": dict(enterprises=50_000, needs=20_000, researchers=100_000, proposals=200_000),
    "national10x": dict(enterprises=500_000, needs=200_000, researchers=1_000_000,
                        proposals=2_000_000),
}
BATCH = 5000
PROPOSAL_STATES = ("submitted",) * 6 + ("shortlisted", "declined", "withdrawn", "selected")


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _batches(rows, total, label, out):
    """Yield lists of up to BATCH rows from the generator ``rows`` with a progress bar."""
    batch = []
    with tqdm(total=total, desc=label, unit="rows", file=out, mininterval=1.0) as bar:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                yield batch
                bar.update(len(batch))
                batch = []
        if batch:
            yield batch
            bar.update(len(batch))


class Loader:
    """Inserts generated rows table by table and keeps the ids the next tables refer to."""

    def __init__(self, counts, seed, profiles, out):
        self.counts, self.profiles, self.out = counts, profiles, out
        self.rnd = random.Random(seed)
        self.timings = []

    def step(self, label, model_or_table, rows, total):
        from sqlalchemy import insert

        from app.extensions import db

        started = time.perf_counter()
        for batch in _batches(rows, total, label, self.out):
            db.session.execute(insert(model_or_table), batch)
            db.session.commit()
        self.timings.append((label, total, time.perf_counter() - started))

    # -- the tables, in dependency order ------------------------------------------------------
    def reference(self):
        from sqlalchemy import select

        from app.extensions import db
        from app.models import NeedCategory, ProgramRound, Region, TechField

        self.regions = db.session.scalars(select(Region.id)).all()
        self.fields = db.session.scalars(select(TechField)).all()
        self.categories = db.session.scalars(select(NeedCategory.id)).all()
        self.round_id = db.session.scalars(select(ProgramRound.id)).first()
        self.vocabulary = sorted({w for f in self.fields for w in (f.keywords or "").split()})
        self.by_field = [(f.id, f.keywords.split()) for f in self.fields if f.keywords]
        now = dt.datetime(2020, 9, 1)
        self.stamps = dict(created_at=now, updated_at=now)

    def institutions(self):
        from app.models import Institution
        from app.utils.pinyin import initials_of, pinyin_of

        from .data import CITIES, UNITS

        count = max(20, self.counts["researchers"] // 200)

        def rows():
            for i in range(count):
                name = f"{CITIES[i % len(CITIES)]}{UNITS[i % len(UNITS)]}{i}"
                yield dict(name=name, name_pinyin=pinyin_of(name), name_initials=initials_of(name),
                           type="university", region_id=self.rnd.choice(self.regions),
                           **self.stamps)
        self.step("institutions", Institution, rows(), count)
        self.institution_ids = self._ids(Institution)

    def enterprises(self):
        from app.models import Enterprise
        from app.utils.pinyin import initials_of, pinyin_of

        from .data import firm_name

        count, rnd = self.counts["enterprises"], self.rnd

        def rows():
            for i in range(count):
                name = firm_name(rnd, i)
                yield dict(name=name, name_pinyin=pinyin_of(name), name_initials=initials_of(name),
                           credit_code=f"91420100G{i:09d}", sme_number=f"2020420{i:010d}",
                           region_id=rnd.choice(self.regions),
                           field_id=rnd.choice(self.fields).id, phone=f"13{i:09d}",
                           email=f"e{i}@bench.local", contact_name="联系人", state="verified",
                           whitelist_status="found", version=1, **self.stamps)
        self.step("enterprises", Enterprise, rows(), count)
        self.enterprise_ids = self._ids(Enterprise)

    def needs(self):
        from app.domain.matching.scoring import NEED_SECTIONS, profile
        from app.models import Need
        from app.utils.pinyin import initials_of, pinyin_of

        from .data import need_text

        count, rnd = self.counts["needs"], self.rnd
        published = dt.datetime(2020, 10, 1)

        def rows():
            for i in range(count):
                text = need_text(rnd, self.vocabulary)
                yield dict(round_id=self.round_id, enterprise_id=rnd.choice(self.enterprise_ids),
                           category_id=rnd.choice(self.categories),
                           field_id=rnd.choice(self.fields).id,
                           amount=rnd.choice((100000, 150000, 200000, 500000)),
                           state="published", published_at=published + dt.timedelta(minutes=i),
                           submitted_at=published, version=1,
                           name_pinyin=pinyin_of(text["title"]),
                           name_initials=initials_of(text["title"]),
                           match_terms=profile(text, NEED_SECTIONS) if self.profiles else {},
                           **text, **self.stamps)
        self.step("needs", Need, rows(), count)
        self.need_ids = self._ids(Need)

    def researchers(self):
        from app.domain.matching.scoring import RESEARCHER_SECTIONS, profile
        from app.models import Researcher
        from app.models.researcher import researcher_fields
        from app.utils.pinyin import initials_of, pinyin_of

        from .data import researcher_text

        count, rnd = self.counts["researchers"], self.rnd
        memberships = []

        def rows():
            for i in range(count):
                own = rnd.sample(self.by_field, rnd.randint(1, 2))
                text = researcher_text(rnd, own)
                memberships.append([fid for fid, _words in own])
                yield dict(institution_id=rnd.choice(self.institution_ids), state="approved",
                           position="staff_researcher", phone=f"15{i:09d}",
                           email=f"r{i}@bench.local", willing_to_serve=True, version=1,
                           name_pinyin=pinyin_of(text["name"], person=True),
                           name_initials=initials_of(text["name"], person=True),
                           match_terms=(profile(text, RESEARCHER_SECTIONS) if self.profiles
                                        else {}), **text, **self.stamps)
        self.step("researchers", Researcher, rows(), count)
        self.researcher_ids = self._ids(Researcher)
        pairs = ({"researcher_id": rid, "field_id": fid}
                 for rid, own in zip(self.researcher_ids, memberships) for fid in own)
        self.step("researcher fields", researcher_fields, pairs,
                  sum(len(own) for own in memberships))

    def proposals(self):
        from app.models import Proposal

        count, rnd = self.counts["proposals"], self.rnd
        per_need = max(1, count // max(1, len(self.need_ids)))
        submitted = dt.datetime(2020, 11, 1)

        def rows():
            made = 0
            for need_id in self.need_ids:
                # Distinct researchers per need: one active proposal per researcher and need.
                for researcher_id in rnd.sample(self.researcher_ids,
                                                min(per_need, len(self.researcher_ids))):
                    if made == count:
                        return
                    made += 1
                    yield dict(need_id=need_id, researcher_id=researcher_id,
                               approach="采用在线检测与工艺参数闭环优化相结合的技术路线。",
                               expected_results="良品率提高到98%以上。",
                               timeline="第1-3个月调研；第4-9个月样机；第10-12个月中试。",
                               budget=rnd.choice((80000, 100000, 150000)), team="教授1人，博士生2人",
                               state=rnd.choice(PROPOSAL_STATES), submitted_at=submitted,
                               version=1, **self.stamps)
        self.step("proposals", Proposal, rows(), min(count, per_need * len(self.need_ids)))

    def search_index(self):
        from app.extensions import db
        from app.domain.needs.search import reindex_needs

        started = time.perf_counter()
        ids = self.need_ids
        with tqdm(total=len(ids), desc="search index", unit="needs", file=self.out,
                  mininterval=1.0) as bar:
            for start in range(0, len(ids), 1000):
                with db.engine.begin() as connection:
                    reindex_needs(connection, ids[start:start + 1000])
                bar.update(len(ids[start:start + 1000]))
        self.timings.append(("search index", len(ids), time.perf_counter() - started))

    def _ids(self, model):
        from sqlalchemy import select

        from app.extensions import db

        return db.session.scalars(select(model.id).order_by(model.id)).all()


def generate(scale, database_url, seed=5, profiles=True, out=sys.stderr, index=True):
    """Create the schema on ``database_url`` (empty) and load ``scale``; returns the timings."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.domain.reference.loader import seed_reference_data

    counts = SCALES[scale] if isinstance(scale, str) else scale
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp())
    loader = Loader(counts, seed, profiles, out)
    with app.app_context():
        upgrade()
        seed_reference_data()
        db.session.commit()
        loader.reference()
        steps = [loader.institutions, loader.enterprises, loader.needs, loader.researchers,
                 loader.proposals] + ([loader.search_index] if index else [])
        for step in steps:
            step()
        with db.engine.connect() as conn:
            analyze = "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(analyze)
    return loader.timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="province")
    parser.add_argument("--database", default=None,
                        help="an EMPTY database URL (default: a new SQLite file in /tmp)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-profiles", action="store_true",
                        help="skip the matching profiles (only lists and search are measured)")
    args = parser.parse_args(argv)
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/{args.scale}.db"
    print(f"generating {args.scale} into {url}", file=sys.stderr)
    timings = generate(args.scale, url, args.seed, not args.no_profiles)
    print(f"\n{'step':<20}{'rows':>12}{'seconds':>10}{'rows/s':>10}")
    for label, rows, seconds in timings:
        print(f"{label:<20}{rows:>12,}{seconds:>10.1f}{rows / max(seconds, 1e-9):>10,.0f}")
    print(f"peak memory of the generator: {peak_rss_mb():,.0f} MB  database: {url}")


if __name__ == "__main__":
    main()
