"""Search over published needs: Chinese words, full pinyin and pinyin initials, by prefix.

A need is found by the words of its title, keywords, template sections and enterprise name, and
by the pinyin and initials of the title, keywords and name. Only needs in a public state are indexed, so a search never reads a draft and can count its
hits from the index alone. Terms are written in the same flush as the need (session event),
so the index never lags the data; queries turn into prefix ranges on ``need_search_terms.term``.
"""
from functools import lru_cache

from sqlalchemy import and_, case, delete, event, exists, insert, select, text
from sqlalchemy.orm import aliased

from .extensions import Session
from .models import PUBLIC_NEED_STATES, Enterprise, Need, NeedSearchTerm
from .utils.pinyin import initials_of, pinyin_of
from .utils.changes import changed
from .utils.words import HAN, NUMBERISH, words_for_index, words_of_query

TOP = "\U0010ffff"
# The template sections searched by their words (pinyin is kept for names and titles).
CONTENT_COLUMNS = ("background", "problem", "targets", "basis")
MAX_TERM = 80
MAX_QUERY_TOKENS = 6
# A search ranks at most this many needs (the newest that match) and says "more than" beyond:
# a word found in nearly every need would otherwise make every search cost a full scan, and
# counting two such words costs a probe per hit (1,000 hits: 2 ms on SQLite, 1/40 of a LIKE).
MAX_HITS = 200
# Past this many hits a word is in about one need in ten (at province scale): the list walks the
# newest needs instead of sorting every hit (app/need_list.py).
DENSE_HITS = 2000


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


def _prefix(token, alias=NeedSearchTerm):
    return and_(alias.term >= token, alias.term < token + TOP)


def _driving_first(tokens):
    """The longest token first: it is usually the rarest, so it drives and the others probe."""
    return sorted(tokens, key=len, reverse=True)


def probes(tokens, need_id_column):
    """One EXISTS per token on the (need_id, term) key: does this need have the word?"""
    clauses = []
    for token in tokens:
        probe = aliased(NeedSearchTerm)
        clauses.append(exists().where(probe.need_id == need_id_column, _prefix(token, probe)))
    return clauses


def hits(tokens):
    """Ids of the needs matching every token (a subquery): the driving token's prefix range on
    the term index, each other token an EXISTS probe on the (need_id, term) key, so the cost
    follows the rarest token and stops early under a LIMIT."""
    first, *others = _driving_first(tokens)
    driver = aliased(NeedSearchTerm)
    return (select(driver.need_id).where(_prefix(first, driver), *probes(others, driver.need_id))
            .distinct())


@lru_cache(maxsize=MAX_QUERY_TOKENS)
def _count_statement(n_tokens):
    """The hottest query of the public site, written once per token count: building it per
    request through the ORM costs more than running it (measured by bench/need_search.py)."""
    probes = "".join(
        f" AND EXISTS (SELECT 1 FROM need_search_terms AS p{i} WHERE p{i}.need_id = d.need_id "
        f"AND p{i}.term >= :low{i} AND p{i}.term < :high{i})"
        for i in range(1, n_tokens))
    return text("SELECT count(*) FROM (SELECT DISTINCT d.need_id FROM need_search_terms AS d "
                f"WHERE d.term >= :low0 AND d.term < :high0{probes} LIMIT :cap) AS hits")


def count_matches(session, tokens, cap: int) -> int:
    """Published needs matching every token, counted from the index alone, up to ``cap``."""
    params = {"cap": cap}
    for i, token in enumerate(_driving_first(tokens)):
        params[f"low{i}"], params[f"high{i}"] = token, token + TOP
    return session.execute(_count_statement(len(tokens)), params).scalar()


def exactness(tokens):
    """How many tokens match a whole term: exact matches rank first."""
    return sum(
        case((exists().where(NeedSearchTerm.need_id == Need.id, NeedSearchTerm.term == t)
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


@event.listens_for(Session, "after_flush")
def _keep_index(session, _context):
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
