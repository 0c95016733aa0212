"""Search over published needs: Chinese words, full pinyin and pinyin initials, by prefix.

A need is found by the words of its title, keywords, template sections and enterprise name, and
by the pinyin and initials of the title, keywords and name. Only needs in a public state are indexed, so a search never reads a draft and can count its
hits from the index alone. Terms are written in the same flush as the need (session event),
so the index never lags the data; queries turn into prefix ranges on ``need_search_terms.term``.
"""
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.orm import aliased

from app.domain.words import HAN, NUMBERISH, words_for_index, words_of_query
from app.models import PUBLIC_NEED_STATES, Enterprise, Need, NeedSearchTerm
from app.utils.changes import changed
from app.utils.pinyin import initials_of, pinyin_of

TOP = "\U0010ffff"
# The template sections searched by their words (pinyin is kept for names and titles).
CONTENT_COLUMNS = ("background", "problem", "targets", "basis")
MAX_TERM = 80
MAX_QUERY_TOKENS = 6
# A search ranks at most this many needs (the newest that match) and says "more than" beyond:
# a word found in nearly every need would otherwise make every search cost a full scan, and
# counting two such words costs a probe per hit (1,000 hits: 2 ms on SQLite, 1/40 of a LIKE).
MAX_HITS = 200
# When every word of a search has index entries for at least this share of the public needs
# (and at least DENSE_HITS), walking the newest needs finds the hits sooner than the index: at
# one need in ten, 200 hits are found within 2,000 needs. A fixed count would not do: 2,000
# entries are one need in ten at province scale and one in a hundred at 10x national, where the
# walk then took 30 ms and the index 3.
DENSE_SHARE = 0.1
DENSE_HITS = 2000


def _terms(alias: str, sqlite: bool) -> str:
    """The term index under ``alias``. SQLite, once ANALYZE has run on a large index, prefers a
    skip-scan of the (need_id, term) key to the (term, need_id) index for a prefix range
    (55 ms instead of 0.2 at 10x national): say which index."""
    return f"need_search_terms AS {alias}" + (" INDEXED BY ix_need_search_term" if sqlite else "")


def _sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def content_words(text: str) -> set[str]:
    """Words of a need's template sections worth finding it by: no single characters, no bare
    numbers or measurements (they would triple the index and match everything)."""
    return {w for w in words_for_index(text) if len(w) >= 2 and not NUMBERISH.fullmatch(w)}


@lru_cache(maxsize=100_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """A word and, for Chinese, its pinyin and initials (memoised: words repeat a lot)."""
    if HAN.search(word):
        return (word, pinyin_of(word), initials_of(word))
    return (word,)


def terms_for(title: str, keywords: str, enterprise_name: str, content: str = "") -> set[str]:
    """Every term a need is found by: the words of its title, keywords and enterprise name with
    their pinyin and initials, the pinyin and initials of the whole title and enterprise name
    (so `whgd` finds 武汉光电…), and the words of its template sections."""
    terms = content_words(content)
    named = words_for_index(title) | words_for_index(keywords) | words_for_index(enterprise_name)
    for word in named:
        terms.update(_word_terms(word))
    for whole in (title, enterprise_name):
        if whole:
            terms.add(pinyin_of(whole))
            terms.add(initials_of(whole))
    return {t[:MAX_TERM] for t in terms if t}


def query_tokens(q: str) -> list[str]:
    """Tokens that must all match (by prefix): precise-mode words for Chinese, else words."""
    return words_of_query((q or "").strip()[:60])[:MAX_QUERY_TOKENS]


# A search's words are written into its SQL, not bound: PostgreSQL keeps one generic plan for a
# prepared statement once it has run five times, and the words of a search differ by orders of
# magnitude in frequency, so a plan made without them scanned for a rare word (0.3 ms became
# 2.6 ms). Planning every statement instead (plan_cache_mode=force_custom_plan) cost every other
# page a fifth of its throughput. Each word is quoted by the dialect (literal_execute), so a
# quote in a search is text, never SQL.
def _word(value):
    return literal(value, String, literal_execute=True)


def _words(statement, n_tokens):
    """``statement`` with its ``low``/``high`` word parameters rendered into the SQL."""
    names = [f"{edge}{i}" for i in range(n_tokens) for edge in ("low", "high")]
    return statement.bindparams(*(bindparam(n, type_=String, literal_execute=True)
                                  for n in names))


def _prefix(token, alias=NeedSearchTerm):
    return and_(alias.term >= _word(token), alias.term < _word(token + TOP))


@dataclass(frozen=True)
class Plan:
    """How to run a search: its words rarest first (the first drives, the others probe), and
    whether every word is common enough that walking the newest needs finds hits sooner."""

    tokens: tuple
    dense: bool


@lru_cache(maxsize=2 * MAX_QUERY_TOKENS)
def _entries_statement(n_tokens, sqlite):
    counts = ", ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {_terms(f't{i}', sqlite)} WHERE t{i}.term >= "
        f":low{i} AND t{i}.term < :high{i} LIMIT :cap) AS e{i})" for i in range(n_tokens))
    return _words(text(f"SELECT {counts}"), n_tokens)


_plans: dict = {}


def plan(session, tokens, public: int = 0) -> Plan:
    """How many index entries each word has, counted up to the dense threshold for ``public``
    needs (one statement). Kept a minute per process: a stale plan can only pick the slower way
    to the same exact answer, and popular searches repeat. Counts and pages are never cached."""
    ttl = current_app.config.get("SEARCH_PLAN_TTL", 60)
    key = tuple(tokens)
    cached = _plans.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    if len(_plans) > 10_000:
        _plans.clear()
    result = _plan(session, tokens, max(DENSE_HITS, int(DENSE_SHARE * public)))
    _plans[key] = (time.monotonic() + ttl, result)
    return result


def _plan(session, tokens, dense) -> Plan:
    params = {"cap": dense}
    for i, token in enumerate(tokens):
        params[f"low{i}"], params[f"high{i}"] = token, token + TOP
    entries = session.execute(_entries_statement(len(tokens), _sqlite(session)), params).one()
    ordered = tuple(token for _n, _i, token in sorted(
        (n, i, token) for i, (n, token) in enumerate(zip(entries, tokens))))
    return Plan(ordered, min(entries) >= dense)


def probes(tokens, need_id_column):
    """One EXISTS per token on the (need_id, term) key: does this need have the word?"""
    clauses = []
    for token in tokens:
        probe = aliased(NeedSearchTerm)
        clauses.append(exists().where(probe.need_id == need_id_column, _prefix(token, probe)))
    return clauses


def hits(session, tokens):
    """Ids of the needs matching every token (a subquery): the first token's prefix range on
    the term index, each other token an EXISTS probe on the (need_id, term) key, so with the
    rarest first (``plan``) the cost follows it and stops early under a LIMIT."""
    params = {}
    for i, token in enumerate(tokens):
        params[f"low{i}"], params[f"high{i}"] = token, token + TOP
    return (_hits_statement(len(tokens), _sqlite(session)).bindparams(**params)
            .columns(need_id=Integer))


@lru_cache(maxsize=2 * MAX_QUERY_TOKENS)
def _hits_statement(n_tokens, sqlite):
    return _words(text(_hits_sql(n_tokens, sqlite)), n_tokens)


def _hits_sql(n_tokens, sqlite):
    probes = "".join(" AND " + _probe(i, "d.need_id") for i in range(1, n_tokens))
    return (f"SELECT DISTINCT d.need_id FROM {_terms('d', sqlite)} "
            f"WHERE d.term >= :low0 AND d.term < :high0{probes}")


def _probe(i, need_id):
    return (f"EXISTS (SELECT 1 FROM need_search_terms AS p{i} WHERE p{i}.need_id = {need_id} "
            f"AND p{i}.term >= :low{i} AND p{i}.term < :high{i})")


@lru_cache(maxsize=4 * MAX_QUERY_TOKENS)
def _count_statement(n_tokens, dense, sqlite):
    """The hottest query of the public site, written once per shape: building it per request
    through the ORM costs more than running it (measured by bench/need_search.py). Few hits:
    from the rarest word's index range. Common words only: walk the needs, newest first, and
    stop at the cap (every public need is indexed, so no other condition is needed)."""
    if dense:
        probes = " AND ".join(_probe(i, "needs.id") for i in range(n_tokens))
        return _words(text(f"SELECT count(*) FROM (SELECT needs.id FROM needs WHERE {probes} "
                           "ORDER BY needs.id DESC LIMIT :cap) AS hits"), n_tokens)
    return _words(text(f"SELECT count(*) FROM ({_hits_sql(n_tokens, sqlite)} LIMIT :cap) AS hits"),
                  n_tokens)


def count_matches(session, search_plan: Plan, cap: int) -> int:
    """Published needs matching every word, counted from the index alone, up to ``cap``."""
    params = {"cap": cap}
    for i, token in enumerate(search_plan.tokens):
        params[f"low{i}"], params[f"high{i}"] = token, token + TOP
    statement = _count_statement(len(search_plan.tokens), search_plan.dense, _sqlite(session))
    return session.execute(statement, params).scalar()


def exactness(tokens):
    """How many tokens match a whole term: exact matches rank first."""
    return sum(
        case((exists().where(NeedSearchTerm.need_id == Need.id, NeedSearchTerm.term == _word(t))
              .correlate(Need), 1), else_=0)
        for t in tokens)


def reindex_needs(connection, need_ids):
    """Replace the terms of these needs (a need that is not public loses its terms)."""
    if not need_ids:
        return
    connection.execute(delete(NeedSearchTerm).where(NeedSearchTerm.need_id.in_(need_ids)))
    content = [getattr(Need, c) for c in CONTENT_COLUMNS]
    rows = connection.execute(
        select(Need.id, Need.title, Need.keywords, Enterprise.name, *content)
        .join(Enterprise, Enterprise.id == Need.enterprise_id)
        .where(Need.id.in_(need_ids), Need.state.in_(PUBLIC_NEED_STATES))).all()
    values = [{"need_id": nid, "term": term}
              for nid, title, keywords, name, *sections in rows
              for term in terms_for(title, keywords, name, "\n".join(sections))]
    if values:
        connection.execute(insert(NeedSearchTerm), values)


def reindex_all(connection) -> int:
    """Rebuild the whole index (after an import, or when what is indexed changes)."""
    ids = [i for (i,) in connection.execute(select(Need.id))]
    for start in range(0, len(ids), 1000):
        reindex_needs(connection, ids[start:start + 1000])
    return len(ids)


def keep_search_terms(session, _context):
    """Reindex needs whose words changed, in the same transaction (history is still visible
    in after_flush)."""
    need_ids = {obj.id for obj in session.new if isinstance(obj, Need)}
    enterprises = []
    for obj in session.dirty:
        if isinstance(obj, Need) and changed(obj, "title", "keywords", "enterprise_id", "state",
                                             *CONTENT_COLUMNS):
            need_ids.add(obj.id)
        elif isinstance(obj, Enterprise) and changed(obj, "name"):
            enterprises.append(obj.id)
    if enterprises:
        need_ids |= {nid for (nid,) in session.connection().execute(
            select(Need.id).where(Need.enterprise_id.in_(enterprises)))}
    if need_ids:
        reindex_needs(session.connection(), sorted(need_ids))
