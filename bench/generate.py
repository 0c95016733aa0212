"""Synthetic data at province scale and beyond, loaded through bulk inserts with progress bars.

    python -m bench.generate --scale province --database sqlite:////tmp/province.db
    python -m bench.generate --scale national10x --database postgresql://postgres@127.0.0.1/bench

Scales (enterprises / published needs / researchers / proposals / funded projects):
    tiny         50 / 20 / 100 / 200 / 4 (the smoke test)
    province     50,000 / 20,000 / 100,000 / 200,000 / 300
    national10x  500,000 / 200,000 / 1,000,000 / 2,000,000 / 3,000

The funded projects come with what follows 立项: their contracts, a 公示 list with a few
objections, payments, milestones, service logs, mid-term checks, satisfaction ratings, change
requests, supervision cases and credit records, in the shares a round would have them.

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
    "tiny": dict(enterprises=50, needs=20, researchers=100, proposals=200, projects=4),
    "province": dict(enterprises=50_000, needs=20_000, researchers=100_000, proposals=200_000,
                     projects=300),
    "national10x": dict(enterprises=500_000, needs=200_000, researchers=1_000_000,
                        proposals=2_000_000, projects=3000),
}
BATCH = 5000
PROPOSAL_STATES = ("submitted",) * 6 + ("shortlisted", "declined", "withdrawn", "selected")


def insert_rows(model):
    from sqlalchemy import insert

    return insert(model)


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

    def after_approval(self):
        """Contracts and projects of one enterprise each, and everything after 立项."""
        from sqlalchemy import select, update

        from app.extensions import db
        from app.models import (
            ChangeRequest,
            Contract,
            CreditRecord,
            MidtermCheck,
            Milestone,
            Need,
            Objection,
            Payment,
            Project,
            Publicity,
            Researcher,
            SatisfactionRating,
            ServiceLog,
            SupervisionCase,
        )

        rnd, count = self.rnd, min(self.counts.get("projects", 0), len(self.need_ids))
        if not count:
            return
        started = time.perf_counter()
        needs = db.session.execute(select(Need.id, Need.enterprise_id).where(
            Need.id.in_(self.need_ids))).all()
        chosen, seen = [], set()
        for need_id, enterprise_id in rnd.sample(needs, len(needs)):
            if enterprise_id not in seen:  # one project per enterprise and round
                seen.add(enterprise_id)
                chosen.append((need_id, enterprise_id))
            if len(chosen) == count:
                break
        researchers = rnd.sample(self.researcher_ids, len(chosen))
        institution_of = dict(db.session.execute(select(Researcher.id, Researcher.institution_id)
                                                 .where(Researcher.id.in_(researchers))).all())
        signed = dt.date(2020, 11, 15)
        db.session.execute(insert_rows(Contract), [dict(
            round_id=self.round_id, need_id=need_id, enterprise_id=enterprise_id,
            researcher_id=rid, institution_id=institution_of[rid], amount=150000,
            signed_on=signed, contract_file="c_sep_合同.pdf", invoice_file="i_sep_发票.pdf",
            transfer_file="t_sep_流水.pdf", state="approved", version=1, **self.stamps)
            for (need_id, enterprise_id), rid in zip(chosen, researchers)])
        db.session.execute(update(Need).where(Need.id.in_([n for n, _e in chosen]))
                           .values(state="contracted"))
        contracts = db.session.execute(select(Contract.id, Contract.need_id, Contract.enterprise_id,
                                              Contract.researcher_id)
                                       .where(Contract.round_id == self.round_id)
                                       .order_by(Contract.id)).all()
        publicity = Publicity(round_id=self.round_id, title="拟立项项目公示（第1批）",
                              starts_on=dt.date(2020, 12, 1), ends_on=dt.date(2020, 12, 7),
                              working_days=5, closed_at=dt.datetime(2020, 12, 8))
        db.session.add(publicity)
        db.session.flush()
        states = ("funded",) * 40 + ("reported",) * 15 + ("accepted",) * 15 + \
            ("evaluated",) * 20 + ("proposed",) * 5 + ("withdrawn", "withdrawn", "suspended",
                                                      "suspended", "revoked", "terminated")
        db.session.execute(insert_rows(Project), [dict(
            number=f"HB2020-{i + 1:04d}", round_id=self.round_id, contract_id=cid,
            enterprise_id=eid, researcher_id=rid, funding=100000, state=rnd.choice(states),
            publicity_id=publicity.id, funded_at=dt.datetime(2020, 12, 8), version=1,
            **self.stamps) for i, (cid, _need, eid, rid) in enumerate(contracts)])
        projects = db.session.execute(select(Project.id, Project.enterprise_id,
                                             Project.researcher_id, Project.state)
                                      .where(Project.round_id == self.round_id)).all()
        parties = [dict(project_id=p.id, enterprise_id=p.enterprise_id,
                        researcher_id=p.researcher_id) for p in projects]
        rows = {Milestone: [], ServiceLog: [], MidtermCheck: [], SatisfactionRating: [],
                Payment: [], ChangeRequest: [], Objection: [], SupervisionCase: []}
        day = dt.date(2021, 1, 10)
        for project, party in zip(projects, parties):
            state = project.state.value if hasattr(project.state, "value") else project.state
            for k in range(2):
                rows[Milestone].append(dict(**party, title=f"里程碑{k + 1}",
                                            due_on=day + dt.timedelta(days=60 * (k + 1)),
                                            state=rnd.choice(("planned", "reached")),
                                            version=1, **self.stamps))
            for k in range(3):
                rows[ServiceLog].append(dict(
                    **party, starts_on=day + dt.timedelta(days=20 * k),
                    ends_on=day + dt.timedelta(days=20 * k + 1), hours=12,
                    work_done="现场调试与培训。", state=rnd.choice(("submitted", "confirmed")),
                    version=1, **self.stamps))
            if rnd.random() < 0.5:
                rows[MidtermCheck].append(dict(**party, checked_on=day + dt.timedelta(days=90),
                                               result="on_track", opinion="进展正常。",
                                               **self.stamps))
            if state in ("accepted", "evaluated"):
                for side in ("enterprise", "researcher"):
                    rows[SatisfactionRating].append(dict(**party, by_side=side,
                                                         score=rnd.randint(3, 5),
                                                         **self.stamps))
            if state not in ("proposed", "withdrawn", "revoked"):
                rows[Payment].append(dict(
                    project_id=project.id, round_id=self.round_id,
                    enterprise_id=project.enterprise_id, batch="2020年第一批", amount=60000,
                    planned_on=day, paid_on=day, payer="湖北省科学技术厅",
                    voucher="v_sep_拨付凭证.pdf", state="paid", version=1, **self.stamps))
            if rnd.random() < 0.05:
                rows[ChangeRequest].append(dict(**party, kind="change", reason="交付内容调整。",
                                                state="submitted", version=1, **self.stamps))
            if rnd.random() < 0.03 or state in ("withdrawn",):
                rows[Objection].append(dict(
                    publicity_id=publicity.id, project_id=project.id, name="异议人",
                    phone="13900000000", content="双方存在关联关系，请核查。",
                    state="upheld" if state == "withdrawn" else "dismissed",
                    decision_reason="经核查。", version=1, **self.stamps))
            if state in ("suspended", "revoked"):
                rows[SupervisionCase].append(dict(
                    project_id=project.id, enterprise_id=project.enterprise_id,
                    source="cross_check", summary="发票与合同金额不符。",
                    state="violation" if state == "revoked" else "investigating",
                    findings="虚开属实。" if state == "revoked" else None, version=1,
                    **self.stamps))
        for model, batch in rows.items():
            for start in range(0, len(batch), BATCH):
                db.session.execute(insert_rows(model), batch[start:start + BATCH])
        violations = db.session.execute(select(SupervisionCase.id, SupervisionCase.enterprise_id)
                                        .where(SupervisionCase.state == "violation")).all()
        if violations:
            db.session.execute(insert_rows(CreditRecord), [dict(
                enterprise_id=eid, case_id=cid, reason="虚开发票骗取补助",
                starts_on=dt.date(2021, 6, 1), ends_on=dt.date(2024, 5, 31), **self.stamps)
                for cid, eid in violations])
        db.session.commit()
        made = len(projects) + sum(len(batch) for batch in rows.values())
        self.timings.append(("after 立项", made, time.perf_counter() - started))

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
                 loader.proposals, loader.after_approval] + (
            [loader.search_index] if index else [])
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
