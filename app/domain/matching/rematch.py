"""A full two-way re-match at province scale: every need's best researchers and every
researcher's best needs, the same answers as the single jobs (app/domain/matching/scoring.py) but in bulk.

A pair can only make a top-k if the two share a word (a non-zero text score, from one sparse
product per block) or a field or domain (a taxonomy score). So each need is scored only against
the researchers it shares words with plus the first members of its field and domain — never
against all 100,000 as a dense row — and likewise each researcher against needs.
"""
import numpy as np

from app.domain.matching.scoring import (
    SAME_DOMAIN,
    SAME_FIELD,
    Corpus,
    min_score,
    top,
    top_k,
    weights,
)

# A block's sparse product holds up to (rows in the block) x (rows of the other side) scores:
# at 10x national a block of 256 needs shares words with most of a million researchers, and the
# products with their copies took the process past 24 GiB. Blocks are sized to this many cells
# (about 240 MB of scores) instead of a fixed number of rows.
MAX_PRODUCT_CELLS = 20_000_000


def _block_rows(wanted: int, other_side: int) -> int:
    return max(1, min(wanted, MAX_PRODUCT_CELLS // max(other_side, 1)))


def _members(labels: np.ndarray) -> dict:
    """Rows of each label value, in row order (for ties: lower rows first)."""
    order = np.argsort(labels, kind="stable")
    values, starts = np.unique(labels[order], return_index=True)
    return dict(zip(values.tolist(), np.split(order, starts[1:])))


def _candidates(shared: np.ndarray, groups, k: int, mark: np.ndarray) -> np.ndarray:
    """The rows sharing a word, plus the first ``k`` rows of each taxonomy group, each once.
    Enough: a group row past the k-th scores at most what the first k score (its taxonomy
    score, or more when it shares a word too) and loses the tie by its higher row, so it cannot
    make the cut unless it shares a word, and then it is in ``shared``. ``mark`` is a scratch
    array of False, one per row, left as it was found (a set would cost more than the work)."""
    parts = [shared]
    mark[shared] = True
    for group in groups:
        if group is not None:
            fresh = group[:k][~mark[group[:k]]]
            mark[fresh] = True
            parts.append(fresh)
    candidates = np.concatenate(parts) if len(parts) > 1 else shared
    mark[candidates] = False
    return candidates


def _needs_side(corpus, groups, found, k, floor, block, progress, rows=None):
    """Each need's best ``k`` researchers into ``found``, for the need rows in ``rows`` (a
    range; all by default)."""
    w_tax, w_text = weights()
    by_field, by_domain = groups
    by_researcher = corpus.researchers.matrix.T.tocsr()
    text = np.zeros(len(corpus.researchers.ids), dtype=np.float32)
    mark = np.zeros(len(corpus.researchers.ids), dtype=bool)
    rows = range(len(corpus.needs.ids)) if rows is None else rows
    n_needs = rows.stop
    block = _block_rows(block, len(corpus.researchers.ids))
    for start in range(rows.start, n_needs, block):
        product = corpus.needs.matrix[start:min(start + block, n_needs)].dot(
            by_researcher).tocsr()
        for offset in range(product.shape[0]):
            row = start + offset
            lo, hi = product.indptr[offset], product.indptr[offset + 1]
            shared = product.indices[lo:hi]
            field_id = int(corpus.need_fields[row])
            domain_id = int(corpus.need_domains[row])
            candidates = _candidates(shared, (by_field.get(field_id), by_domain.get(domain_id)),
                                     k, mark)
            text[shared] = product.data[lo:hi]
            scores = w_text * text[candidates]
            scores += w_tax * corpus.taxonomy_scores(field_id, candidates)
            text[shared] = 0
            keep = scores >= floor
            columns, values = top(candidates[keep], scores[keep], k)
            need_id = int(corpus.needs.ids[row])
            for column, value in zip(columns.tolist(), values.tolist()):
                found[(need_id, int(corpus.researchers.ids[column]))] = value
        if progress:
            progress(min(start + block, n_needs) - rows.start, n_needs - rows.start)


def researchers_side(corpus, k, floor, block, rows=None):
    """Each researcher's best ``k`` needs, for the researcher rows in ``rows`` (a range; all by
    default): three arrays (need rows, researcher rows, scores), researcher by researcher in
    row order, each one's best first."""
    w_tax, w_text = weights()
    need_by_field = _members(corpus.need_fields)
    need_by_domain = _members(corpus.need_domains)
    field_rows = corpus.researcher_field_rows()
    by_need = corpus.needs.matrix.T.tocsr()
    text = np.zeros(len(corpus.needs.ids), dtype=np.float32)
    mark = np.zeros(len(corpus.needs.ids), dtype=bool)
    rows = range(len(corpus.researchers.ids)) if rows is None else rows
    block = _block_rows(block * 8, len(corpus.needs.ids))
    need_rows, researcher_rows, found_scores = [], [], []
    for start in range(rows.start, rows.stop, block):
        product = corpus.researchers.matrix[start:min(start + block, rows.stop)].dot(
            by_need).tocsr()
        for offset in range(product.shape[0]):
            row = start + offset
            lo, hi = product.indptr[offset], product.indptr[offset + 1]
            shared = product.indices[lo:hi]
            fields = field_rows.indices[field_rows.indptr[row]:field_rows.indptr[row + 1]].tolist()
            domains = [corpus.field_domain.get(f) for f in fields]
            groups = [need_by_field.get(f) for f in fields] + [
                need_by_domain.get(d) for d in domains]
            candidates = _candidates(shared, groups, k, mark)
            text[shared] = product.data[lo:hi]
            need_fields = corpus.need_fields[candidates]
            need_domains = corpus.need_domains[candidates]
            in_field = need_fields == fields[0] if fields else np.zeros(len(candidates), bool)
            in_domain = need_domains == domains[0] if domains else in_field
            for field_id, domain_id in zip(fields[1:], domains[1:]):  # a second field, rarely more
                in_field |= need_fields == field_id
                in_domain |= need_domains == domain_id
            taxonomy = np.where(in_field, SAME_FIELD, np.where(in_domain, SAME_DOMAIN, 0.0))
            scores = w_tax * taxonomy + w_text * text[candidates]
            text[shared] = 0
            keep = scores >= floor
            best, values = top(candidates[keep], scores[keep], k)
            need_rows.append(best)
            researcher_rows.append(np.full(len(best), row, dtype=np.int64))
            found_scores.append(values.astype(np.float64))
    if not need_rows:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    return (np.concatenate(need_rows).astype(np.int64), np.concatenate(researcher_rows),
            np.concatenate(found_scores))


def merge_researchers_side(found, need_ids, researcher_ids, scores, researcher_only):
    """Add a researchers' side (ids and scores, in its order) to a needs' side ``found``:
    a pair only a researcher's ranking found goes to ``researcher_only``; a pair found both
    ways keeps the higher score (the two sums may differ in their last bits)."""
    for key, value in zip(zip(need_ids.tolist(), researcher_ids.tolist()), scores.tolist()):
        if key not in found:
            researcher_only.add(key)
        found[key] = max(found.get(key, value), value)


def needs_side(corpus, k=None, block: int = 256, rows=None, progress=None) -> dict:
    """``{(need_id, researcher_id): score}``: the best ``k`` researchers of each need in
    ``rows`` (need rows, a range; all by default)."""
    k = k or top_k()
    found = {}
    if len(corpus.needs.ids) and len(corpus.researchers.ids):
        _needs_side(corpus, corpus.researcher_groups(), found, k, min_score(), block, progress,
                    rows)
    return found


def rank_everything(corpus: Corpus, k=None, block: int = 256, progress=None,
                    researcher_only: set | None = None) -> dict:
    """``{(need_id, researcher_id): score}``: every need's best ``k`` researchers and every
    researcher's best ``k`` needs. Pairs only a researcher's ranking found are added to
    ``researcher_only`` (their direction, for storing). In one process: a re-match run does
    the same by blocks (app/domain/matching/runs.py)."""
    k = k or top_k()
    found = {}
    researcher_only = set() if researcher_only is None else researcher_only
    if len(corpus.needs.ids) and len(corpus.researchers.ids):
        floor = min_score()
        _needs_side(corpus, corpus.researcher_groups(), found, k, floor, block, progress)
        need_rows, researcher_rows, scores = researchers_side(corpus, k, floor, block)
        merge_researchers_side(found, corpus.needs.ids[need_rows],
                               corpus.researchers.ids[researcher_rows], scores, researcher_only)
    return found
