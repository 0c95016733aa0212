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


def _researcher_groups(corpus: Corpus):
    fields = corpus.researcher_fields.tocoo()
    domains = corpus.researcher_domains.tocoo()
    by_field = {int(f): np.sort(fields.row[fields.col == f]) for f in np.unique(fields.col)}
    by_domain = {int(d): np.sort(domains.row[domains.col == d]) for d in np.unique(domains.col)}
    rows = corpus.researcher_field_rows()
    own_fields = [rows.indices[rows.indptr[i]:rows.indptr[i + 1]] for i in range(rows.shape[0])]
    return by_field, by_domain, own_fields


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


def _needs_side(corpus, groups, found, k, floor, block, progress):
    w_tax, w_text = weights()
    by_field, by_domain, _own = groups
    table = corpus.field_taxonomy()
    by_researcher = corpus.researchers.matrix.T.tocsr()
    text = np.zeros(len(corpus.researchers.ids), dtype=np.float32)
    mark = np.zeros(len(corpus.researchers.ids), dtype=bool)
    n_needs = len(corpus.needs.ids)
    block = _block_rows(block, len(corpus.researchers.ids))
    for start in range(0, n_needs, block):
        product = corpus.needs.matrix[start:start + block].dot(by_researcher).tocsr()
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
            if 0 <= field_id < table.shape[0]:
                scores += w_tax * table[field_id, candidates]
            text[shared] = 0
            keep = scores >= floor
            columns, values = top(candidates[keep], scores[keep], k)
            need_id = int(corpus.needs.ids[row])
            for column, value in zip(columns.tolist(), values.tolist()):
                found[(need_id, int(corpus.researchers.ids[column]))] = value
        if progress:
            progress(min(start + block, n_needs), n_needs)


def _researchers_side(corpus, groups, found, k, floor, block, researcher_only):
    w_tax, w_text = weights()
    need_by_field = _members(corpus.need_fields)
    need_by_domain = _members(corpus.need_domains)
    _f, _d, own_fields = groups
    by_need = corpus.needs.matrix.T.tocsr()
    text = np.zeros(len(corpus.needs.ids), dtype=np.float32)
    mark = np.zeros(len(corpus.needs.ids), dtype=bool)
    block = _block_rows(block * 8, len(corpus.needs.ids))
    for start in range(0, len(corpus.researchers.ids), block):
        product = corpus.researchers.matrix[start:start + block].dot(by_need).tocsr()
        for offset in range(product.shape[0]):
            row = start + offset
            lo, hi = product.indptr[offset], product.indptr[offset + 1]
            shared = product.indices[lo:hi]
            fields = own_fields[row].tolist()
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
            rows, values = top(candidates[keep], scores[keep], k)
            researcher_id = int(corpus.researchers.ids[row])
            for need_row, value in zip(rows.tolist(), values.tolist()):
                key = (int(corpus.needs.ids[need_row]), researcher_id)
                if key not in found:
                    researcher_only.add(key)
                found[key] = max(found.get(key, value), value)


def rank_everything(corpus: Corpus, k=None, block: int = 256, progress=None,
                    researcher_only: set | None = None) -> dict:
    """``{(need_id, researcher_id): score}``: every need's best ``k`` researchers and every
    researcher's best ``k`` needs. Pairs only a researcher's ranking found are added to
    ``researcher_only`` (their direction, for storing)."""
    k = k or top_k()
    found = {}
    researcher_only = set() if researcher_only is None else researcher_only
    if len(corpus.needs.ids) and len(corpus.researchers.ids):
        floor, groups = min_score(), _researcher_groups(corpus)
        _needs_side(corpus, groups, found, k, floor, block, progress)
        _researchers_side(corpus, groups, found, k, floor, block, researcher_only)
    return found
