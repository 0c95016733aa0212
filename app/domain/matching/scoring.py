"""Two-way, explainable matching of published needs and approved researchers (SPEC §5).

    score = TAXONOMY_WEIGHT × taxonomy + TEXT_WEIGHT × text

*taxonomy* is 1 for the same second-level field, 0.5 for the same domain, 0 otherwise; *text* is
the cosine of TF-IDF vectors of the need's template and the researcher's keywords, expertise and
achievements, cut by the one segmenter with the taxonomy's technical terms (app/domain/words.py).
Every match keeps its reasons (field or domain in common, the shared words that weigh most).

The weighted words of each need and researcher (``match_terms``) are kept at write time, so
ranking never re-segments text: it builds sparse matrices from stored profiles and multiplies.
Jobs (app/jobs/matching.py), the CLI and the back office all call the functions here.
"""
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from scipy import sparse
from sqlalchemy import bindparam, select, update

from app.core.queue import enqueue_after_commit
from app.domain.words import words_of_text
from app.models import Need, NeedState, Researcher, ResearcherState, TechField
from app.models.researcher import researcher_fields
from app.utils.changes import changed

# Where each word comes from and how much it counts: a title or keyword says more than a
# sentence of background.
NEED_SECTIONS = (("title", 3), ("keywords", 3), ("problem", 2), ("targets", 1), ("background", 1))
RESEARCHER_SECTIONS = (("keywords", 3), ("expertise", 2), ("achievements", 1))
SAME_FIELD, SAME_DOMAIN = 1.0, 0.5
# Below this many profiles containing it, no word is too common to count (small corpora).
MIN_DF_CEILING = 50
MAX_REASON_WORDS = 5
# The jobs that rank the other side for a new need or researcher (RQ stores them by name).
MATCH_NEED_JOB = "app.jobs.matching.match_need"
MATCH_RESEARCHER_JOB = "app.jobs.matching.match_researcher"


def _setting(name, default):
    return current_app.config.get(name, default)


def top_k() -> int:
    return _setting("MATCH_TOP_K", 20)


def weights() -> tuple[float, float]:
    return _setting("MATCH_TAXONOMY_WEIGHT", 0.4), _setting("MATCH_TEXT_WEIGHT", 0.6)


def min_score() -> float:
    # Below this a match is noise: another field and barely a shared word.
    return _setting("MATCH_MIN_SCORE", 0.1)


# --- Profiles, kept at write time ---------------------------------------------------------------

def profile(values: dict, sections) -> dict[str, int]:
    counts = Counter()
    for attr, weight in sections:
        for word in words_of_text(values.get(attr) or ""):
            counts[word] += weight
    return dict(counts)


def _values(obj, sections):
    return {attr: getattr(obj, attr) for attr, _w in sections}


def keep_profiles(session, _context, _instances):
    for obj in list(session.new) + list(session.dirty):
        for model, sections in ((Need, NEED_SECTIONS), (Researcher, RESEARCHER_SECTIONS)):
            if isinstance(obj, model) and (
                    obj in session.new or changed(obj, *(a for a, _w in sections))):
                obj.match_terms = profile(_values(obj, sections), sections)
        if _owes_ranking(obj, session):
            obj.matched_at = None  # the job queued after commit will set it


def refresh_all_profiles(connection) -> int:
    """Recompute every stored profile (a migration, or after the dictionary changed)."""
    done = 0
    for model, sections in ((Need, NEED_SECTIONS), (Researcher, RESEARCHER_SECTIONS)):
        table = model.__table__
        columns = [table.c[a] for a, _w in sections]
        rows = connection.execute(select(table.c.id, *columns)).mappings().all()
        values = [{"key": row["id"], "terms": profile(row, sections)} for row in rows]
        if values:
            connection.execute(update(table).where(table.c.id == bindparam("key"))
                               .values(match_terms=bindparam("terms")), values)
        done += len(values)
    return done


def _owes_ranking(obj, session) -> bool:
    """A need just published, a researcher just approved, or an approved researcher whose
    profile changed: the other side must be ranked for it."""
    if isinstance(obj, Need):
        return obj.state is NeedState.published and (obj in session.new or changed(obj, "state"))
    if isinstance(obj, Researcher):
        return obj.state is ResearcherState.approved and (
            obj in session.new or changed(obj, "state", "fields", "keywords", "expertise",
                                          "achievements"))
    return False


def queue_rankings(session, _context):
    """Rank the other side for what owes a ranking, after the commit."""
    for obj in list(session.new) + list(session.dirty):
        if _owes_ranking(obj, session):
            job = MATCH_NEED_JOB if isinstance(obj, Need) else MATCH_RESEARCHER_JOB
            enqueue_after_commit(job, obj.id, queue="matching")


# --- The corpus: stored profiles as sparse matrices ----------------------------------------------

@dataclass
class Side:
    ids: np.ndarray
    profiles: list
    matrix: sparse.csr_matrix = None
    row_of: dict = field(default_factory=dict)


@dataclass
class Corpus:
    vocabulary: dict
    idf: np.ndarray
    needs: Side
    researchers: Side
    need_fields: np.ndarray  # field id per need row
    need_domains: np.ndarray
    researcher_fields: sparse.csc_matrix  # researchers × field ids, 1 where they work
    researcher_domains: sparse.csc_matrix
    field_domain: dict
    loaded_at: float = 0.0
    _derived: dict = field(default_factory=dict)

    def by_term(self, side: str) -> sparse.csc_matrix:
        """The side's matrix by column: scoring one profile reads only its words' postings."""
        if side not in self._derived:
            self._derived[side] = getattr(self, side).matrix.tocsc()
        return self._derived[side]

    def researcher_field_rows(self) -> sparse.csr_matrix:
        """Each researcher's fields by row (kept: the explainer reads them for every job)."""
        if "field_rows" not in self._derived:
            self._derived["field_rows"] = self.researcher_fields.tocsr()
        return self._derived["field_rows"]

    def idf_of(self) -> dict:
        """Each word's idf as a Python float: a reason reads a few for each of millions of
        pairs, and a NumPy scalar per read cost more than the rest of the reason."""
        if "idf_of" not in self._derived:
            self._derived["idf_of"] = dict(zip(self.vocabulary, self.idf.tolist()))
        return self._derived["idf_of"]

    def text_scores(self, side: str, terms: dict) -> np.ndarray:
        """Cosine of ``terms`` with every row of ``side`` (needs or researchers)."""
        vector = self.vector(terms)
        matrix = self.by_term(side)
        scores = np.zeros(matrix.shape[0], dtype=np.float32)
        for col, weight in zip(vector.indices, vector.data):
            start, end = matrix.indptr[col], matrix.indptr[col + 1]
            scores[matrix.indices[start:end]] += weight * matrix.data[start:end]
        return scores

    def field_taxonomy(self) -> np.ndarray:
        """fields × researchers: 1 where the researcher works in the field, 0.5 in its domain."""
        if "taxonomy" not in self._derived:
            slots = self.researcher_fields.shape[1]
            table = np.zeros((slots, len(self.researchers.ids)), dtype=np.float32)
            for field_id, domain_id in self.field_domain.items():
                if domain_id < self.researcher_domains.shape[1]:
                    domain = self.researcher_domains[:, domain_id].toarray().ravel()
                    table[field_id] = SAME_DOMAIN * domain
                same = self.researcher_fields[:, field_id].toarray().ravel() > 0
                table[field_id][same] = SAME_FIELD
            self._derived["taxonomy"] = table
        return self._derived["taxonomy"]

    def vector(self, terms: dict) -> sparse.csr_matrix:
        """One L2-normalised TF-IDF row; words the corpus never saw are ignored."""
        cols, vals = [], []
        for word, count in terms.items():
            col = self.vocabulary.get(word)
            if col is not None:
                cols.append(col)
                vals.append((1 + math.log(count)) * self.idf[col])
        row = sparse.csr_matrix((vals, ([0] * len(cols), cols)), shape=(1, len(self.vocabulary)))
        norm = math.sqrt(sum(v * v for v in vals))
        return row / norm if norm else row


def _matrix(profiles, vocabulary, idf):
    indptr, indices, data = [0], [], []
    for terms in profiles:
        for word, count in terms.items():
            column = vocabulary.get(word)
            if column is not None:
                indices.append(column)
                data.append(1 + math.log(count))
        indptr.append(len(indices))
    matrix = sparse.csr_matrix((np.array(data, dtype=np.float32), indices, indptr),
                               shape=(len(profiles), len(vocabulary)))
    matrix = matrix.multiply(idf.astype(np.float32)).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.diags(1 / norms).dot(matrix).tocsr().astype(np.float32)


def load_corpus(session) -> Corpus:
    field_domain = dict(session.execute(select(TechField.id, TechField.domain_id)).all())
    need_rows = session.execute(select(Need.id, Need.field_id, Need.match_terms)
                                .where(Need.state == NeedState.published)
                                .order_by(Need.id)).all()
    researcher_rows = session.execute(select(Researcher.id, Researcher.match_terms)
                                      .where(Researcher.state == ResearcherState.approved)
                                      .order_by(Researcher.id)).all()
    needs = Side(np.array([r[0] for r in need_rows], dtype=np.int64),
                 [r[2] or {} for r in need_rows])
    researchers = Side(np.array([r[0] for r in researcher_rows], dtype=np.int64),
                       [r[1] or {} for r in researcher_rows])
    documents = Counter()
    for terms in needs.profiles + researchers.profiles:
        documents.update(terms.keys())
    n = len(needs.profiles) + len(researchers.profiles)
    # A word in more than MATCH_MAX_DF of all profiles (研究, 企业, 提高…) says nothing about
    # who fits whom, but it would make every need share a word with every researcher: dropped.
    ceiling = max(_setting("MATCH_MAX_DF", 0.05) * n, MIN_DF_CEILING)
    vocabulary = {word: i for i, word in enumerate(
        sorted(w for w, df in documents.items() if df <= ceiling))}
    idf = np.array([math.log((1 + n) / (1 + documents[w])) + 1 for w in vocabulary])
    for side in (needs, researchers):
        side.matrix = _matrix(side.profiles, vocabulary, idf)
        side.row_of = {int(i): row for row, i in enumerate(side.ids)}
    slots = max(field_domain, default=0) + 1
    domain_slots = max(field_domain.values(), default=0) + 1
    pairs = session.execute(select(researcher_fields.c.researcher_id,
                                   researcher_fields.c.field_id)).all()
    rows = [researchers.row_of[r] for r, _f in pairs if r in researchers.row_of]
    fields = [f for r, f in pairs if r in researchers.row_of]
    shape = (len(researchers.ids), slots)
    researcher_field_matrix = sparse.csc_matrix((np.ones(len(rows)), (rows, fields)), shape=shape)
    domains = [field_domain[f] for f in fields]
    researcher_domain_matrix = sparse.csc_matrix(
        (np.ones(len(rows)), (rows, domains)), shape=(len(researchers.ids), domain_slots))
    researcher_domain_matrix.data[:] = 1  # several fields of one domain count once
    need_fields = np.array([r[1] for r in need_rows], dtype=np.int64)
    need_domains = np.array([field_domain.get(f, -1) for f in need_fields], dtype=np.int64)
    return Corpus(vocabulary, idf, needs, researchers, need_fields, need_domains,
                  researcher_field_matrix, researcher_domain_matrix, field_domain,
                  loaded_at=time.monotonic())


_cached = None


def cached_corpus(session) -> Corpus:
    """The corpus, rebuilt when older than ``MATCH_CORPUS_TTL`` seconds (a worker keeps it
    between jobs). A need or researcher newer than the cache is still matched: its own job
    ranks the other side for it, so a pair is found from one direction or the other."""
    global _cached
    ttl = _setting("MATCH_CORPUS_TTL", 300)
    if _cached is None or time.monotonic() - _cached.loaded_at >= ttl:
        corpus = load_corpus(session)
        # Built now, once per refresh, so that no single job pays for them.
        corpus.by_term("researchers"), corpus.by_term("needs")
        corpus.field_taxonomy(), corpus.researcher_field_rows()
        _cached = corpus
    return _cached


# --- Ranking --------------------------------------------------------------------------------------

def top(indices: np.ndarray, scores: np.ndarray, k: int):
    """The ``k`` best of ``indices`` by ``scores``, best first; equal scores go to the lower
    index, so a full re-match and a single job agree on who makes the cut."""
    if len(indices) > k:
        cut = -np.partition(-scores, k - 1)[k - 1]
        sure = np.flatnonzero(scores > cut)
        tied = np.flatnonzero(scores == cut)
        tied = tied[np.argsort(indices[tied], kind="stable")][:k - len(sure)]
        keep = np.concatenate([sure, tied])
        indices, scores = indices[keep], scores[keep]
    order = np.lexsort((indices, -scores))
    return indices[order], scores[order]


def _best(scores: np.ndarray, k: int, floor: float) -> np.ndarray:
    """Row indices of the ``k`` best scores at or above ``floor``, best first."""
    candidates = np.flatnonzero(scores >= floor)
    return top(candidates, scores[candidates], k)[0]


def researchers_for_need(corpus: Corpus, terms: dict, field_id: int, k=None):
    """``[(researcher_id, score)]`` for a need's profile and field, best first."""
    w_tax, w_text = weights()
    scores = w_text * corpus.text_scores("researchers", terms)
    table = corpus.field_taxonomy()
    if 0 <= field_id < table.shape[0]:
        scores += w_tax * table[field_id]
    best = _best(scores, k or top_k(), min_score())
    return [(int(corpus.researchers.ids[i]), float(scores[i])) for i in best]


def needs_for_researcher(corpus: Corpus, terms: dict, field_ids, k=None):
    """``[(need_id, score)]`` for a researcher's profile and fields, best first."""
    w_tax, w_text = weights()
    text = corpus.text_scores("needs", terms)
    domains = [corpus.field_domain.get(f) for f in field_ids]
    taxonomy = np.where(np.isin(corpus.need_fields, list(field_ids)), SAME_FIELD,
                        np.where(np.isin(corpus.need_domains, domains), SAME_DOMAIN, 0.0))
    scores = w_tax * taxonomy + w_text * text
    best = _best(scores, k or top_k(), min_score())
    return [(int(corpus.needs.ids[i]), float(scores[i])) for i in best]


def reasons(corpus: Corpus, need_terms: dict, need_field: int, researcher_terms: dict,
            researcher_field_ids) -> dict:
    """Why a pair matched, as data the pages render in the reader's language."""
    idf_of = corpus.idf_of()
    idf = {w: idf_of[w] for w in need_terms.keys() & researcher_terms.keys() if w in idf_of}
    words = sorted(idf, key=lambda w: (-idf[w] * need_terms[w] * researcher_terms[w], w))
    domain = corpus.field_domain.get(need_field)
    same = ("field" if need_field in researcher_field_ids else
            "domain" if domain in {corpus.field_domain.get(f) for f in researcher_field_ids}
            else None)
    return {"same": same, "field_id": need_field, "domain_id": domain,
            "keywords": words[:MAX_REASON_WORDS]}
