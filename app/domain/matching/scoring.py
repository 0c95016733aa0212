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
from array import array
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
    # Each profile's word counts over the vocabulary's columns (int32, columns sorted): a
    # million profiles kept as Python dicts took about 4 GB of a 10x national worker; words
    # outside the vocabulary count neither in a score nor in a reason.
    counts: sparse.csr_matrix = None
    matrix: sparse.csr_matrix = None
    row_of: dict = field(default_factory=dict)
    words: list = field(default_factory=list)  # the vocabulary's words, by column

    def counts_of(self, row: int) -> dict:
        """The profile of ``row`` as ``{column: count}``."""
        start, end = self.counts.indptr[row], self.counts.indptr[row + 1]
        return dict(zip(self.counts.indices[start:end].tolist(),
                        self.counts.data[start:end].tolist()))

    def terms(self, row: int) -> dict:
        """The profile of ``row`` as ``{word: count}`` (vocabulary words only)."""
        start, end = self.counts.indptr[row], self.counts.indptr[row + 1]
        return {self.words[c]: int(n) for c, n in zip(self.counts.indices[start:end].tolist(),
                                                      self.counts.data[start:end].tolist())}


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

    def idf_of(self) -> list:
        """Each column's idf as a Python float: a reason reads a few for each of millions of
        pairs, and a NumPy scalar per read cost more than the rest of the reason."""
        if "idf_of" not in self._derived:
            self._derived["idf_of"] = self.idf.tolist()
        return self._derived["idf_of"]

    def columns_of(self, terms: dict) -> dict:
        """``{column: count}`` of a profile's vocabulary words (a need or researcher the
        corpus does not hold)."""
        vocabulary = self.vocabulary
        return {vocabulary[w]: n for w, n in (terms or {}).items() if w in vocabulary}

    def text_scores(self, side: str, terms: dict) -> np.ndarray:
        """Cosine of ``terms`` with every row of ``side`` (needs or researchers)."""
        vector = self.vector(terms)
        matrix = self.by_term(side)
        scores = np.zeros(matrix.shape[0], dtype=np.float32)
        for col, weight in zip(vector.indices, vector.data):
            start, end = matrix.indptr[col], matrix.indptr[col + 1]
            scores[matrix.indices[start:end]] += weight * matrix.data[start:end]
        return scores

    def researcher_groups(self) -> tuple[dict, dict]:
        """Researcher rows (sorted) by field id and by domain id: a need's taxonomy
        candidates, and its taxonomy scores."""
        if "groups" not in self._derived:
            fields = self.researcher_fields.tocoo()
            domains = self.researcher_domains.tocoo()
            self._derived["groups"] = (
                {int(f): np.sort(fields.row[fields.col == f]) for f in np.unique(fields.col)},
                {int(d): np.sort(domains.row[domains.col == d]) for d in np.unique(domains.col)})
        return self._derived["groups"]

    def taxonomy_scores(self, field_id: int, rows: np.ndarray | None = None) -> np.ndarray:
        """1 for the researchers (of ``rows``, all by default) who work in the field, 0.5 in
        its domain, else 0 (float32). From the sorted groups: a dense fields x researchers
        table took 1.9 GB at 10x national."""
        by_field, by_domain = self.researcher_groups()
        if rows is None:
            scores = np.zeros(len(self.researchers.ids), dtype=np.float32)
            domain = by_domain.get(self.field_domain.get(field_id))
            if domain is not None:
                scores[domain] = SAME_DOMAIN
            if by_field.get(field_id) is not None:
                scores[by_field[field_id]] = SAME_FIELD
            return scores
        scores = np.zeros(len(rows), dtype=np.float32)
        scores[_in_sorted(rows, by_domain.get(self.field_domain.get(field_id)))] = SAME_DOMAIN
        scores[_in_sorted(rows, by_field.get(field_id))] = SAME_FIELD
        return scores

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


def _in_sorted(values: np.ndarray, group) -> np.ndarray:
    """Which of ``values`` are in ``group`` (sorted): a binary search each, not a set."""
    if group is None or not len(group):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(group, values), len(group) - 1)
    return group[at] == values


def _matrix(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows, (1 + log count) x idf, from the counts."""
    data = np.array([1 + math.log(c) for c in counts.data.tolist()], dtype=np.float32)
    matrix = sparse.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)
    matrix = matrix.multiply(idf.astype(np.float32)).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.diags(1 / norms).dot(matrix).tocsr().astype(np.float32)


class _Profiles:
    """Profiles read one row at a time into flat arrays of provisional word ids and counts, so
    that no dict per profile outlives its row."""

    def __init__(self, words: dict):
        self.words = words  # word -> provisional id, shared by both sides
        self.ids, self.extra = array("q"), array("q")
        self.indptr, self.indices, self.data = array("q", [0]), array("i"), array("i")

    def add(self, id_, terms, extra=0):
        words = self.words
        for word, count in (terms or {}).items():
            self.indices.append(words.setdefault(word, len(words)))
            self.data.append(count)
        self.indptr.append(len(self.indices))
        self.ids.append(id_)
        self.extra.append(extra)

    def side(self, column_of: np.ndarray, n_columns: int, vocabulary_words: list) -> Side:
        """The side over the vocabulary: ``column_of[provisional id]`` is a word's column,
        or -1 for a word left out."""
        indices = column_of[np.frombuffer(self.indices, dtype=np.int32)]
        data = np.frombuffer(self.data, dtype=np.int32)
        indptr = np.frombuffer(self.indptr, dtype=np.int64)
        keep = indices >= 0
        kept_before = np.concatenate(([0], np.cumsum(keep)))
        counts = sparse.csr_matrix((data[keep], indices[keep], kept_before[indptr]),
                                   shape=(len(self.ids), n_columns))
        counts.sort_indices()
        ids = np.frombuffer(self.ids, dtype=np.int64).copy()
        return Side(ids, counts=counts, words=vocabulary_words,
                    row_of={i: row for row, i in enumerate(ids.tolist())})


def _streamed(session, statement):
    return session.execute(statement.execution_options(yield_per=10_000))


def load_corpus(session) -> Corpus:
    field_domain = dict(session.execute(select(TechField.id, TechField.domain_id)).all())
    words = {}
    needs, researchers = _Profiles(words), _Profiles(words)
    for need_id, field_id, terms in _streamed(session, select(
            Need.id, Need.field_id, Need.match_terms).where(
            Need.state == NeedState.published).order_by(Need.id)):
        needs.add(need_id, terms, field_id if field_id is not None else -1)
    for researcher_id, terms in _streamed(session, select(
            Researcher.id, Researcher.match_terms).where(
            Researcher.state == ResearcherState.approved).order_by(Researcher.id)):
        researchers.add(researcher_id, terms)
    # Documents containing each word: a profile holds a word once (its keys).
    documents = np.bincount(np.concatenate((np.frombuffer(needs.indices, dtype=np.int32),
                                            np.frombuffer(researchers.indices, dtype=np.int32))),
                            minlength=len(words))
    n = len(needs.ids) + len(researchers.ids)
    # A word in more than MATCH_MAX_DF of all profiles (研究, 企业, 提高…) says nothing about
    # who fits whom, but it would make every need share a word with every researcher: dropped.
    ceiling = max(_setting("MATCH_MAX_DF", 0.05) * n, MIN_DF_CEILING)
    vocabulary_words = sorted(w for w, i in words.items() if documents[i] <= ceiling)
    vocabulary = {word: column for column, word in enumerate(vocabulary_words)}
    column_of = np.full(len(words), -1, dtype=np.int32)
    for word, column in vocabulary.items():
        column_of[words[word]] = column
    idf = np.array([math.log((1 + n) / (1 + int(documents[words[w]]))) + 1
                    for w in vocabulary_words])
    need_fields = np.frombuffer(needs.extra, dtype=np.int64).copy()
    needs = needs.side(column_of, len(vocabulary), vocabulary_words)
    researchers = researchers.side(column_of, len(vocabulary), vocabulary_words)
    del words, column_of
    for side in (needs, researchers):
        side.matrix = _matrix(side.counts, idf)
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
    need_domains = np.array([field_domain.get(f, -1) for f in need_fields.tolist()],
                            dtype=np.int64)
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
        corpus.researcher_groups(), corpus.researcher_field_rows()
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
    scores += w_tax * corpus.taxonomy_scores(field_id)
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


def reasons(corpus: Corpus, need_counts: dict, need_field: int, researcher_counts: dict,
            researcher_field_ids) -> dict:
    """Why a pair matched, as data the pages render in the reader's language. The profiles
    are ``{column: count}`` (``Side.counts_of``, ``Corpus.columns_of``); columns are in the
    words' order, so ties between shared words go to the first word, as they always did."""
    idf_of = corpus.idf_of()
    weight = {c: idf_of[c] * need_counts[c] * researcher_counts[c]
              for c in need_counts.keys() & researcher_counts.keys()}
    words = corpus.needs.words
    keywords = [words[c] for c in sorted(weight, key=lambda c: (-weight[c], c))]
    domain = corpus.field_domain.get(need_field)
    same = ("field" if need_field in researcher_field_ids else
            "domain" if domain in {corpus.field_domain.get(f) for f in researcher_field_ids}
            else None)
    return {"same": same, "field_id": need_field, "domain_id": domain,
            "keywords": keywords[:MAX_REASON_WORDS]}
