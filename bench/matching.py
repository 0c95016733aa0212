"""Two-way matching at province scale, as ratios against a same-run scikit-learn reference.

    python -m bench.matching [--needs 20000] [--researchers 100000] [--database sqlite|URL]
    python -m bench.matching --reuse --database URL [--no-reference]   # bench.generate's data

Prints the full two-way re-match (load the stored profiles, rank top-k both ways) against a
plain reference: scikit-learn's TfidfVectorizer over the same texts with the same segmenter,
then the same blocked sparse product and top-k (target ≤ 0.2); the p95 of one newly published
need ranked against every researcher and stored, as the worker's job does it (target ≤ 15 ms);
and the time to store a full re-match. Never run by the test suite at this size;
tests/test_bench_smoke.py runs it tiny so it cannot rot.
"""
import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time

import numpy as np


def build(n_needs, n_researchers, database_url, seed=11, out=sys.stdout):
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from app.domain.matching.scoring import NEED_SECTIONS, RESEARCHER_SECTIONS, profile
    from app.models import Enterprise, Institution, Need, NeedCategory, Region, Researcher
    from app.models import TechField
    from app.models.mixins import utcnow
    from app.models.researcher import researcher_fields
    from app.domain.reference.loader import seed_reference_data

    from .data import firm_name, need_text, researcher_text

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), MATCH_CORPUS_TTL=3600)
    rnd = random.Random(seed)
    timings = {}
    with app.app_context():
        upgrade()
        seed_reference_data()
        regions = db.session.scalars(select(Region)).all()
        fields = db.session.scalars(select(TechField)).all()
        categories = db.session.scalars(select(NeedCategory)).all()
        round_id = db.session.execute(db.text("SELECT id FROM program_rounds")).scalar()
        now = utcnow()
        stamps = dict(created_at=now, updated_at=now)
        db.session.execute(insert(Institution), [
            dict(name=f"湖北第{i}大学", type="university", region_id=rnd.choice(regions).id,
                 **stamps) for i in range(50)])
        institutions = db.session.scalars(select(Institution.id)).all()
        db.session.execute(insert(Enterprise), [
            dict(name=firm_name(rnd, i), credit_code=f"M{i:017d}", region_id=rnd.choice(regions).id,
                 state="verified", version=1, **stamps) for i in range(max(10, n_needs // 10))])
        enterprises = db.session.scalars(select(Enterprise.id)).all()
        vocabulary = sorted({w for f in fields for w in f.keywords.split()})
        by_field = [(f.id, f.keywords.split()) for f in fields if f.keywords]
        started = time.perf_counter()
        needs = []
        for i in range(n_needs):
            text = need_text(rnd, vocabulary)
            needs.append(dict(round_id=round_id, enterprise_id=rnd.choice(enterprises),
                              category_id=rnd.choice(categories).id,
                              field_id=rnd.choice(fields).id, amount=100000, state="published",
                              published_at=dt.datetime(2020, 10, 1), version=1,
                              match_terms=profile(text, NEED_SECTIONS), **text, **stamps))
        people, memberships = [], []
        for i in range(n_researchers):
            own = rnd.sample(by_field, rnd.randint(1, 2))
            text = researcher_text(rnd, own)
            people.append(dict(institution_id=rnd.choice(institutions), state="approved",
                               position="staff_researcher", phone=f"1{i:010d}",
                               email=f"r{i}@bench.local", willing_to_serve=True, version=1,
                               match_terms=profile(text, RESEARCHER_SECTIONS), **text, **stamps))
            memberships.append([fid for fid, _words in own])
        timings["profiles (write time)"] = time.perf_counter() - started
        for start in range(0, len(needs), 2000):
            db.session.execute(insert(Need), needs[start:start + 2000])
        for start in range(0, len(people), 5000):
            db.session.execute(insert(Researcher), people[start:start + 5000])
        ids = db.session.scalars(select(Researcher.id).order_by(Researcher.id)).all()
        pairs = [{"researcher_id": rid, "field_id": fid}
                 for rid, own in zip(ids, memberships) for fid in own]
        for start in range(0, len(pairs), 10000):
            db.session.execute(insert(researcher_fields), pairs[start:start + 10000])
        db.session.commit()
        with db.engine.connect() as conn:
            vacuum = "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(vacuum)
        texts = ([" ".join(n[a] or "" for a, _w in NEED_SECTIONS) for n in needs],
                 [" ".join(p[a] or "" for a, _w in RESEARCHER_SECTIONS) for p in people])
    return app, texts, timings


def reference(need_texts, researcher_texts, k, block=128):
    """Plain scikit-learn: TF-IDF over the raw texts (same segmenter), blocked sparse product,
    top-k per need and per researcher. No stored profiles, no pruning, no taxonomy."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from app.domain.words import words_of_text

    vectorizer = TfidfVectorizer(tokenizer=words_of_text, lowercase=False, token_pattern=None)
    matrix = vectorizer.fit_transform(need_texts + researcher_texts).astype(np.float32)
    needs, researchers = matrix[:len(need_texts)], matrix[len(need_texts):].T.tocsr()
    n_researchers = researchers.shape[1]
    best = np.full((k, n_researchers), -1.0, dtype=np.float32)
    kept = 0
    for start in range(0, needs.shape[0], block):
        scores = needs[start:start + block].dot(researchers).toarray()
        kept += np.argpartition(-scores, k - 1, axis=1)[:, :k].size
        top = np.take_along_axis(scores, np.argpartition(-scores, k - 1, axis=0)[:k], axis=0)
        merged = np.vstack([best, top])
        best = np.take_along_axis(merged, np.argpartition(-merged, k - 1, axis=0)[:k], axis=0)
    return kept + best.size


def _p95(samples):
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def _stored(database_url, with_texts):
    """The app on a database bench.generate filled (profiles included), and the texts."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.domain.matching.scoring import NEED_SECTIONS, RESEARCHER_SECTIONS
    from app.models import Need, Researcher

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url,
                     UPLOAD_FOLDER=tempfile.mkdtemp(), MATCH_CORPUS_TTL=3600)
    texts = ([], [])
    if with_texts:
        with app.app_context():
            for model, sections, into in ((Need, NEED_SECTIONS, texts[0]),
                                          (Researcher, RESEARCHER_SECTIONS, texts[1])):
                columns = [getattr(model, a) for a, _w in sections]
                for row in db.session.execute(select(*columns).order_by(model.id)):
                    into.append(" ".join(value or "" for value in row))
    return app, texts, {}


def run(n_needs, n_researchers, database_url, out=sys.stdout, store=True, one_need=200,
        reuse=False, with_reference=True):
    from app.domain.matching import scoring as matching, store as recommendations, rematch
    from app.extensions import db

    from .generate import peak_rss_mb

    if reuse:
        app, (need_texts, researcher_texts), timings = _stored(database_url, with_reference)
    else:
        app, (need_texts, researcher_texts), timings = build(n_needs, n_researchers,
                                                             database_url)
    with app.app_context():
        k = matching.top_k()
        started = time.perf_counter()
        corpus = matching.load_corpus(db.session)
        timings["load profiles"] = time.perf_counter() - started
        started = time.perf_counter()
        researcher_only = set()
        found = rematch.rank_everything(corpus, researcher_only=researcher_only)
        timings["rank both ways"] = time.perf_counter() - started
        ours = timings["load profiles"] + timings["rank both ways"]
        n_needs, n_researchers = len(corpus.needs.ids), len(corpus.researchers.ids)
        peak_ranking = peak_rss_mb()
        n_found = len(found)
        print(f"ranked {n_found:,} matches in {ours:.1f} s, peak memory {peak_ranking:,.0f} MB",
              file=out, flush=True)  # known even if a later step does not end
        if with_reference:
            started = time.perf_counter()
            reference(need_texts, researcher_texts, k)
            timings["reference (scikit-learn)"] = time.perf_counter() - started
        if store:
            started = time.perf_counter()
            with recommendations.bulk_write_cache(db.session):  # as the re-match job stores
                recommendations.store_everything(corpus, found, researcher_only=researcher_only)
                db.session.commit()
            timings["store full re-match"] = time.perf_counter() - started
            started = time.perf_counter()
            recommendations.tidy_after_store(db.session)  # as the re-match job does
            timings["statistics after the store"] = time.perf_counter() - started
        matching._cached = None
        matching.cached_corpus(db.session)  # the worker's corpus, as it keeps it between jobs
        rnd = random.Random(3)
        samples = []
        for need_id in rnd.sample([int(i) for i in corpus.needs.ids], min(one_need, n_needs)):
            started = time.perf_counter()
            recommendations.rank_for_need(need_id)
            db.session.commit()
            samples.append(time.perf_counter() - started)
    ratio = ours / timings["reference (scikit-learn)"] if with_reference else None
    print(f"matching at {n_needs:,} needs x {n_researchers:,} researchers "
          f"({database_url.split(':', 1)[0]}), top {k} per side, {n_found:,} matches", file=out)
    for name, seconds in timings.items():
        print(f"  {name:<28}{seconds:>9.2f} s", file=out)
    if ratio is not None:
        print(f"full re-match (load + rank) / reference: {ratio:.3f}   (target <= 0.2)", file=out)
    print(f"peak memory: {peak_ranking:,.0f} MB after ranking, {peak_rss_mb():,.0f} MB in all "
          "(the reference's included)", file=out)
    print(f"one new need, rank + store: p50 {statistics.median(samples) * 1000:.1f} ms, "
          f"p95 {_p95(samples) * 1000:.1f} ms   (target p95 <= 15 ms)", file=out)
    return {"ratio": ratio, "p95_ms": _p95(samples) * 1000, "matches": n_found,
            "timings": timings}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=20000)
    parser.add_argument("--researchers", type=int, default=100000)
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (a temporary file) or a database URL to a scratch database")
    parser.add_argument("--no-store", action="store_true", help="skip storing the re-match")
    parser.add_argument("--reuse", action="store_true",
                        help="the database holds bench.generate's data: rank it, build nothing")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the scikit-learn reference (hours at 10x national)")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    url = args.database
    if url == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    run(args.needs, args.researchers, url, store=not args.no_store, reuse=args.reuse,
        with_reference=not args.no_reference)


if __name__ == "__main__":
    main()
