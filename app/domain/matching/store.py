"""Recommendations: ranked matches stored with their reasons, "not interested", and the digests
that push them to both sides with per-person limits.

A stored match survives re-ranking when someone has seen it (pushed) or dismissed it, so a
dismissed need is never pushed again and a pushed one does not vanish from a person's list.
"""
import datetime as dt
import itertools
from contextlib import contextmanager

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    union_all,
    update,
)

from app.core import list_counts
from app.domain.matching import scoring as matching
from app.extensions import db
from app.models import (
    Match,
    Need,
    NeedState,
    Proposal,
    Researcher,
    ResearcherState,
    TechDomain,
    TechField,
)
from app.models.enums import MatchDirection
from app.models.mixins import utcnow
from app.models.researcher import researcher_fields
from app.workflows.errors import WorkflowError


def _fields_of(researcher_ids):
    fields = {}
    for rid, fid in db.session.execute(select(researcher_fields.c.researcher_id,
                                              researcher_fields.c.field_id)
                                       .where(researcher_fields.c.researcher_id.in_(researcher_ids))):
        fields.setdefault(rid, set()).add(fid)
    return fields


# What a ranking reads of the matches it may replace: plain columns, not objects (loading ~100
# matches with their reasons as objects was a third of a new need's ranking).
_EXISTING = (Match.id, Match.need_id, Match.researcher_id, Match.direction, Match.dismissed,
             Match.pushed_at, Match.enterprise_pushed_at)


def _existing(scope, direction, other_side, found_ids):
    """The rows a ranking may change: its own direction's, and the other direction's for the
    pairs it found again. A popular need sits in thousands of researchers' rankings, whose
    rows lie all over the table: read one by one to check their direction, they were most of
    its own ranking's time."""
    return db.session.execute(_existing_statement(scope, direction, other_side,
                                                  found_ids)).all()


def _existing_statement(scope, direction, other_side, found_ids):
    """Two parts, so that each is found by an index of its own and only the rows they name are
    read: the ranking's own rows by (need or researcher, direction), the pairs found again by
    the pair's unique index. As one WHERE with an OR, SQLite factors the common scope out
    (seen in its plan) and reads every row in it."""
    return union_all(
        select(*_EXISTING).where(scope, Match.direction == direction),
        select(*_EXISTING).where(scope, Match.direction != direction,
                                 other_side.in_(found_ids)))


def _store(found: dict, existing, direction) -> int:
    """Upsert ``found`` {(need_id, researcher_id): (score, reasons)} over the ``existing`` rows
    (``_EXISTING`` columns) of the same scope; drop rows of this ranking's direction that nobody
    has seen and that fell out of it (a pair the other side's ranking found is that ranking's
    to drop). Three bulk statements at most; flushes nothing else."""
    updates, stale = [], []
    for mid, need_id, researcher_id, row_direction, dismissed, pushed, told in existing:
        key = (need_id, researcher_id)
        if key in found:
            score, why = found.pop(key)
            updates.append({"id": mid, "score": score, "reasons": why})
        elif row_direction is direction and not dismissed and pushed is None and told is None:
            stale.append(mid)
    if updates:
        db.session.execute(update(Match), updates)
    if stale:
        db.session.execute(delete(Match).where(Match.id.in_(stale))
                           .execution_options(synchronize_session=False))
    if found:
        db.session.execute(insert(Match), [
            {"need_id": need_id, "researcher_id": researcher_id, "score": score,
             "reasons": why, "direction": direction}
            for (need_id, researcher_id), (score, why) in found.items()])
    return len(found)


class Explainer:
    """Reasons of pairs, from the corpus's profiles in memory; a need or researcher newer than
    the corpus is read from the database once."""

    def __init__(self, corpus):
        self.corpus = corpus
        self.field_rows = corpus.researcher_field_rows()
        self.extra_needs, self.extra_researchers = {}, {}
        self._last_need = self._last_researcher = (None, None)

    def need(self, nid):
        row = self.corpus.needs.row_of.get(nid)
        if row is not None:
            return self.corpus.needs.counts_of(row), int(self.corpus.need_fields[row])
        if nid not in self.extra_needs:
            need = db.session.get(Need, nid)
            self.extra_needs[nid] = (self.corpus.columns_of(need.match_terms), need.field_id)
        return self.extra_needs[nid]

    def researcher(self, rid):
        row = self.corpus.researchers.row_of.get(rid)
        if row is not None:
            rows = self.field_rows
            fields = set(rows.indices[rows.indptr[row]:rows.indptr[row + 1]].tolist())
            return self.corpus.researchers.counts_of(row), fields
        if rid not in self.extra_researchers:
            researcher = db.session.get(Researcher, rid)
            self.extra_researchers[rid] = (self.corpus.columns_of(researcher.match_terms),
                                           _fields_of([rid]).get(rid, set()))
        return self.extra_researchers[rid]

    def __call__(self, nid, rid):
        # A re-match's pairs come by need (each need's best researchers), then by researcher:
        # the side that repeats is looked up once for its run of pairs.
        if nid != self._last_need[0]:
            self._last_need = (nid, self.need(nid))
        if rid != self._last_researcher[0]:
            self._last_researcher = (rid, self.researcher(rid))
        need_counts, need_field = self._last_need[1]
        researcher_counts, fields = self._last_researcher[1]
        return matching.reasons(self.corpus, need_counts, need_field, researcher_counts, fields)


def _explained(corpus, pairs):
    """``{(need_id, researcher_id): (score, reasons)}`` for (need_id, researcher_id, score)."""
    explain = Explainer(corpus)
    return {(n, r): (round(s, 4), explain(n, r)) for n, r, s in pairs}


# SQLite's page cache while a full re-match is stored and committed, in KiB. The store
# rewrites the matches table and its three indexes in one transaction; with the default 2 MB
# cache, pages were spilled and read back all along (at 10x national it wrote 100 MB a minute and
# had not ended after 14 minutes). SQLite takes the pages only as they are used.
STORE_CACHE_KIB = 4 * 1024 * 1024


@contextmanager
def bulk_write_cache(session):
    """Around ``store_everything`` and its commit: on SQLite, a page cache the size of the
    rewritten indexes, given back afterwards (a pooled connection would otherwise keep it)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    before = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    raw.execute(f"PRAGMA cache_size=-{STORE_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={before}")


class _MatchWriter:
    """Rows of the matches table handed to the driver in one go: an ``executemany``, or on
    PostgreSQL a COPY (of new rows into the table, of changes into a scratch table that one
    ``UPDATE ... FROM`` applies). SQLAlchemy's bulk insert spent more on each row (ORM
    bookkeeping, and the type processing of values that are the same on every row of a chunk:
    times, direction, flags) than SQLite spent storing it, two thirds of a province store's
    113 s. Here a value goes through its column's type once per distinct value; only the
    reasons (a dict) once per row."""

    # PostgreSQL: where a chunk of changed rows is copied before one statement applies them.
    SCRATCH = "match_changes"

    def __init__(self, statement, columns, copies=False, merges=False, prepared=False):
        self.statement, self.columns = statement, columns
        self.copies, self.merges = copies or merges, merges
        self.prepared = prepared  # reasons come already through their column's type

    @classmethod
    def inserts(cls, prepared=False):
        columns = ("need_id", "researcher_id", "score", "reasons", "direction", "dismissed",
                   "created_at", "updated_at")
        return cls(Match.__table__.insert().inline(), columns, copies=True,  # no RETURNING
                   prepared=prepared)

    @classmethod
    def updates(cls, prepared=False):
        table = Match.__table__
        return cls(table.update().where(table.c.id == bindparam("match_id")).values(
            score=bindparam("score"), reasons=bindparam("reasons"),
            updated_at=bindparam("updated_at")), ("score", "reasons", "updated_at", "match_id"),
            merges=True, prepared=prepared)

    def _copy(self, cursor, columns, values):
        table = Match.__tablename__
        if self.merges:
            # The scratch table has the matches' own column types and lives until the commit.
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {self.SCRATCH} ON COMMIT DROP AS "
                           f"SELECT score, reasons, updated_at, id AS match_id FROM {table} "
                           "WITH NO DATA")
            table = self.SCRATCH
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        if self.merges:
            cursor.execute(f"UPDATE {Match.__tablename__} SET score = c.score, "
                           "reasons = c.reasons, updated_at = c.updated_at "
                           f"FROM {self.SCRATCH} c WHERE {Match.__tablename__}.id = c.match_id")
            cursor.execute(f"TRUNCATE {self.SCRATCH}")

    def __call__(self, rows):
        if not rows:
            return
        connection = db.session.connection()
        dialect = connection.dialect
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.columns))
        order = ([self.columns.index(key) for key in compiled.positiontup]
                 if compiled.positional else list(range(len(self.columns))))
        processed = []
        for i in order:
            name = self.columns[i]
            column = Match.__table__.c["id" if name == "match_id" else name]
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if name == "reasons" and self.prepared:
                process = None
            processed.append((i, process, {} if name != "reasons" else None))
        values = []
        for row in rows:
            ordered = []
            for i, process, memo in processed:
                value = row[i]
                if process is not None:
                    if memo is None:
                        value = process(value)
                    elif value in memo:
                        value = memo[value]
                    else:
                        value = memo[value] = process(value)
                ordered.append(value)
            values.append(tuple(ordered))
        if self.copies and dialect.name == "postgresql":
            # One COPY: an executemany is a statement per row there (a province store took
            # 367 s so, 330 s through SQLAlchemy's multi-row VALUES, 192 s by COPY).
            with connection.connection.dbapi_connection.cursor() as cursor:
                self._copy(cursor, [self.columns[i] for i in order], values)
            return
        if not compiled.positional:
            names = [self.columns[i] for i in order]
            values = [dict(zip(names, row)) for row in values]
        connection.exec_driver_sql(str(compiled), values)


def store_everything(corpus, found: dict, progress=None, chunk: int = 5000,
                     researcher_only=frozenset()) -> int:
    """Store a full re-match ({(need_id, researcher_id): score}) in bulk: update the pairs
    already stored, add the new ones with their reasons, drop the unseen ones that fell out.
    Returns how many matches were added."""
    added = store_need_range(corpus, found, progress=progress, chunk=chunk,
                             researcher_only=researcher_only)
    stamp_matched(Researcher, corpus.researchers.ids, chunk=chunk)
    return added


def prepare(corpus, found: dict) -> dict:
    """``found``'s scores, in place, as (stored score, reasons through their column's type):
    the work of a store that needs no lock, done before a re-match block takes SQLite's."""
    explain = Explainer(corpus)
    dialect = db.session.get_bind().dialect
    process = Match.__table__.c.reasons.type.dialect_impl(dialect).bind_processor(dialect)
    for (nid, rid), score in found.items():
        why = explain(nid, rid)
        found[(nid, rid)] = (round(score, 4), process(why) if process else why)
    return found


def store_need_range(corpus, found: dict, first_id=None, last_id=None, progress=None,
                     chunk: int = 5000, researcher_only=frozenset(), prepared=False) -> int:
    """``store_everything`` for the stored matches whose need id lies in ``first_id`` ..
    ``last_id`` (either end open when None), ``found`` holding every pair of those needs: a
    re-match's block of needs (``prepared``: its values made by ``prepare``). Stamps those
    of the corpus's needs. Run again over its own rows it adds nothing and changes nothing
    but their ``updated_at``: the same pairs are found and updated in place."""
    explain = Explainer(corpus)

    def values(nid, rid, score):
        return score if prepared else (round(score, 4), explain(nid, rid))

    # Streamed and written in chunks: at 10x national a re-match holds 20 million pairs, and
    # their rows with reasons, made all at once, would not fit in memory.
    statement = select(Match.id, Match.need_id, Match.researcher_id, Match.dismissed,
                       Match.pushed_at, Match.enterprise_pushed_at)
    if first_id is not None:
        statement = statement.where(Match.need_id >= first_id)
    if last_id is not None:
        statement = statement.where(Match.need_id <= last_id)
    existing = db.session.execute(statement.execution_options(yield_per=chunk))
    stale, kept = [], []
    for mid, nid, rid, dismissed, pushed, enterprise_pushed in existing:
        score = found.pop((nid, rid), None)
        if score is not None:
            kept.append((mid, nid, rid, score))
        elif not dismissed and pushed is None and enterprise_pushed is None:
            stale.append(mid)
    for start in range(0, len(stale), chunk):
        db.session.execute(Match.__table__.delete().where(
            Match.id.in_(stale[start:start + chunk])))
    update_matches = _MatchWriter.updates(prepared)
    insert_matches = _MatchWriter.inserts(prepared)
    for start in range(0, len(kept), chunk):
        now = utcnow()
        update_matches([(*values(nid, rid, score), now, mid)
                        for mid, nid, rid, score in kept[start:start + chunk]])
    added, pairs = len(found), iter(found.items())
    directions = {True: MatchDirection.researcher_to_need,
                  False: MatchDirection.need_to_researcher}
    for start in range(0, added, chunk):
        now = utcnow()
        insert_matches([(nid, rid, *values(nid, rid, score),
                         directions[(nid, rid) in researcher_only], False, now, now)
                        for (nid, rid), score in itertools.islice(pairs, chunk)])
        if progress:
            progress(min(start + chunk, added), added)
    ids = corpus.needs.ids
    if first_id is not None:
        ids = ids[ids >= first_id]
    if last_id is not None:
        ids = ids[ids <= last_id]
    stamp_matched(Need, ids, chunk=chunk)
    return added


def stamp_matched(model, ids, chunk: int = 5000) -> None:
    """Set ``matched_at`` of these needs or researchers (their ranking is stored)."""
    now = utcnow()
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), chunk):
        db.session.execute(update(model).where(model.id.in_(ids[start:start + chunk]))
                           .values(matched_at=now).execution_options(
                               synchronize_session=False))


def tidy_after_store(session) -> None:
    """After a full re-match is committed: fresh planner statistics of the tables it rewrote
    (the matches, and every need's and researcher's ``matched_at``), and on PostgreSQL their
    rows' visibility set by a VACUUM. Until autovacuum came by, the first ranking of each
    popular need read its hundreds of rows from freshly written pages (one new need's p95
    21.6-29.6 ms instead of 5-8), and counting a back-office list of researchers read every row
    of the table instead of its index (the list at 4.0x stock FAB instead of 8.5x). Commits."""
    tables = [model.__tablename__ for model in (Match, Need, Researcher)]
    session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # VACUUM cannot run inside a transaction block: its own connection, in autocommit.
        with bind.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
            for table in tables:
                vacuum.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
    else:
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))
        session.commit()


def owed_rankings(older_than: dt.timedelta):
    """Published needs and approved researchers still owed a ranking after ``older_than``: their
    job was lost (Redis down at commit) or failed."""
    cutoff = utcnow() - older_than
    needs = db.session.scalars(select(Need.id).where(
        Need.state == NeedState.published, Need.matched_at.is_(None),
        Need.updated_at <= cutoff)).all()
    researchers = db.session.scalars(select(Researcher.id).where(
        Researcher.state == ResearcherState.approved, Researcher.matched_at.is_(None),
        Researcher.updated_at <= cutoff)).all()
    return needs, researchers


def rank_for_need(need_id: int, corpus=None) -> int:
    """Rank the approved researchers for a published need and store the best. Returns how
    many new matches were stored. Reads and stamps the need by its columns: its objects' hooks
    (pinyin, search index, cache tokens) have nothing to do with a ranking."""
    need = db.session.execute(select(Need.state, Need.match_terms, Need.field_id)
                              .where(Need.id == need_id)).one_or_none()
    if need is None or need.state is not NeedState.published:
        return 0
    corpus = corpus or matching.cached_corpus(db.session)
    ranked = matching.researchers_for_need(corpus, need.match_terms or {}, need.field_id)
    found = _explained(corpus, [(need_id, rid, score) for rid, score in ranked])
    existing = _existing(Match.need_id == need_id, MatchDirection.need_to_researcher,
                         Match.researcher_id, [rid for _nid, rid in found])
    db.session.execute(update(Need).where(Need.id == need_id).values(matched_at=utcnow())
                       .execution_options(synchronize_session=False))
    return _store(found, existing, MatchDirection.need_to_researcher)


def rank_for_researcher(researcher_id: int, corpus=None) -> int:
    researcher = db.session.execute(select(Researcher.state, Researcher.match_terms)
                                    .where(Researcher.id == researcher_id)).one_or_none()
    if researcher is None or researcher.state is not ResearcherState.approved:
        return 0
    corpus = corpus or matching.cached_corpus(db.session)
    field_ids = _fields_of([researcher_id]).get(researcher_id, set())
    ranked = matching.needs_for_researcher(corpus, researcher.match_terms or {}, field_ids)
    found = _explained(corpus, [(nid, researcher_id, score) for nid, score in ranked])
    existing = _existing(Match.researcher_id == researcher_id, MatchDirection.researcher_to_need,
                         Match.need_id, [nid for nid, _rid in found])
    db.session.execute(update(Researcher).where(Researcher.id == researcher_id)
                       .values(matched_at=utcnow()).execution_options(synchronize_session=False))
    return _store(found, existing, MatchDirection.researcher_to_need)


def _taxonomy_label(model, pk) -> str:
    """A field's or domain's label, kept for the request: a list of matches names the same few
    fields on every row, and the session does not hold on to objects nobody references."""
    memo = g.setdefault("_taxonomy_labels", {}) if has_request_context() else {}
    if model not in memo:  # the whole table at once (a few hundred rows), not row by row
        memo[model] = {row.id: row.label for row in db.session.scalars(select(model))}
    return memo[model].get(pk, "")


def describe(reasons: dict) -> list[str]:
    """A match's reasons as short phrases in the reader's language."""
    parts = []
    if reasons.get("same") == "field" and reasons.get("field_id"):
        parts.append(_("same technical field: %(name)s",
                       name=_taxonomy_label(TechField, reasons["field_id"])))
    elif reasons.get("same") == "domain" and reasons.get("domain_id"):
        parts.append(_("same technical domain: %(name)s",
                       name=_taxonomy_label(TechDomain, reasons["domain_id"])))
    if reasons.get("keywords"):
        parts.append(_("shared keywords: %(words)s", words="、".join(reasons["keywords"])))
    return parts or [_("related by the text of the need")]


def dismiss(match: Match, user, reason: str):
    """The researcher is not interested: never pushed again, hidden from their list."""
    if user is None or user.researcher_id != match.researcher_id:
        raise WorkflowError(_("Only the researcher of a recommendation can dismiss it."))
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please say why the need does not interest you."))
    match.dismissed, match.dismiss_reason = True, reason[:500]
    db.session.flush()


def response(since=None) -> dict:
    """How researchers answered the needs pushed to them: pushed, dismissed, and answered
    with a proposal (any proposal of that researcher to that need, whatever its state). Kept
    while matches and proposals are unwritten (``list_counts.kept_by_key``): it reads every
    pushed match (2,000,000 at province scale)."""
    return list_counts.kept_by_key(db.session, ("match response", since),
                                   frozenset({"matches", "proposals"}), lambda: _response(since))


def _response(since) -> dict:
    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    pushed_since = [Match.pushed_at.is_not(None)]
    if since is not None:
        pushed_since.append(Match.pushed_at >= since)
    pushed, dismissed = db.session.execute(
        select(func.count(Match.id), count(Match.dismissed.is_(True))).where(*pushed_since)).one()
    # answered: a join from the proposals to their pairs' matches (the pair's unique index),
    # not an EXISTS per pushed match
    proposals = db.session.scalar(
        select(func.count(func.distinct(Match.id))).select_from(Proposal)
        .join(Match, and_(Match.need_id == Proposal.need_id,
                          Match.researcher_id == Proposal.researcher_id)).where(*pushed_since))
    return {"pushed": pushed, "dismissed": int(dismissed), "proposals": int(proposals),
            "rate": (int(proposals) / pushed) if pushed else 0.0}
