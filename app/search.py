"""Search over published needs: Chinese words, full pinyin and pinyin initials, by prefix.

Only needs in a public state are indexed, so a search never reads a draft and can count its
hits from the index alone. Terms are written in the same flush as the need (session event),
so the index never lags the data; queries turn into prefix ranges on ``need_search_terms.term``.
"""
import logging
import re
from functools import lru_cache

from sqlalchemy import and_, case, delete, event, exists, insert, inspect, select, text

from .extensions import Session
from .models import PUBLIC_NEED_STATES, Enterprise, Need, NeedSearchTerm
from .utils.pinyin import initials_of, pinyin_of

logger = logging.getLogger(__name__)
HAN = re.compile(r"[\u4e00-\u9fff]")
TOP = "\U0010ffff"
MAX_TERM = 80
MAX_QUERY_TOKENS = 6


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _words(text: str) -> set[str]:
    text = (text or "").lower()
    words = {w.strip() for w in _jieba().cut_for_search(text)}
    words |= set(text.split())
    return {w for w in words if w and not re.fullmatch(r"[\W_]+", w)}


@lru_cache(maxsize=100_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """A word and, for Chinese, its pinyin and initials (memoised: words repeat a lot)."""
    if HAN.search(word):
        return (word, pinyin_of(word), initials_of(word))
    return (word,)


def terms_for(title: str, keywords: str, enterprise_name: str) -> set[str]:
    """Every term a need is found by: its words, their pinyin and initials, and the pinyin and
    initials of the whole title and enterprise name (so `whgd` finds 武汉光电…)."""
    terms = set()
    for word in _words(title) | _words(keywords) | _words(enterprise_name):
        terms.update(_word_terms(word))
    for whole in (title, enterprise_name):
        if whole:
            terms.add(pinyin_of(whole))
            terms.add(initials_of(whole))
    return {t[:MAX_TERM] for t in terms if t}


def query_tokens(q: str) -> list[str]:
    """Tokens that must all match (by prefix): precise-mode words for Chinese, else words."""
    q = (q or "").strip().lower()[:60]
    if not q:
        return []
    if HAN.search(q):
        tokens = [t.strip() for t in _jieba().lcut(q)]
    else:
        tokens = q.split()
    tokens = [t for t in tokens if t and not re.fullmatch(r"[\W_]+", t)]
    return tokens[:MAX_QUERY_TOKENS]


def _prefix(token):
    return and_(NeedSearchTerm.term >= token, NeedSearchTerm.term < token + TOP)


def match_clause(tokens):
    """Need ids matching every token (a WHERE clause on Need)."""
    return and_(*[Need.id.in_(select(NeedSearchTerm.need_id).where(_prefix(t)))
                  for t in tokens])


@lru_cache(maxsize=MAX_QUERY_TOKENS)
def _count_statement(n_tokens):
    """The hottest query of the public site, written once per token count: building it per
    request through the ORM costs more than running it (measured by bench/need_search.py)."""
    parts = [f"SELECT DISTINCT need_id FROM need_search_terms WHERE term >= :low{i} "
             f"AND term < :high{i}"
             for i in range(n_tokens)]
    return text(f"SELECT count(*) FROM ({' INTERSECT '.join(parts)}) AS hits")


def count_matches(session, tokens) -> int:
    """Published needs matching every token, counted from the index alone."""
    params = {}
    for i, token in enumerate(tokens):
        params[f"low{i}"], params[f"high{i}"] = token, token + TOP
    return session.execute(_count_statement(len(tokens)), params).scalar()


def exactness(tokens):
    """How many tokens match a whole term: exact matches rank first."""
    return sum(
        case((exists().where(NeedSearchTerm.need_id == Need.id, NeedSearchTerm.term == t)
              .correlate(Need), 1), else_=0)
        for t in tokens)


def _reindex(connection, need_ids):
    if not need_ids:
        return
    connection.execute(delete(NeedSearchTerm).where(NeedSearchTerm.need_id.in_(need_ids)))
    rows = connection.execute(
        select(Need.id, Need.title, Need.keywords, Enterprise.name)
        .join(Enterprise, Enterprise.id == Need.enterprise_id)
        .where(Need.id.in_(need_ids), Need.state.in_(PUBLIC_NEED_STATES))).all()
    values = [{"need_id": nid, "term": term}
              for nid, title, keywords, name in rows for term in terms_for(title, keywords, name)]
    if values:
        connection.execute(insert(NeedSearchTerm), values)


def reindex_all(session) -> int:
    """Rebuild the whole index (after an import, or for needs written before it existed)."""
    ids = [i for (i,) in session.execute(select(Need.id))]
    for start in range(0, len(ids), 1000):
        _reindex(session.connection(), ids[start:start + 1000])
    return len(ids)


def _changed(obj, *attributes) -> bool:
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attributes)


@event.listens_for(Session, "after_flush")
def _keep_index(session, _context):
    """Reindex needs whose words changed, in the same transaction (history is still visible
    in after_flush)."""
    changed = {obj.id for obj in session.new if isinstance(obj, Need)}
    enterprises = []
    for obj in session.dirty:
        if isinstance(obj, Need) and _changed(obj, "title", "keywords", "enterprise_id", "state"):
            changed.add(obj.id)
        elif isinstance(obj, Enterprise) and _changed(obj, "name"):
            enterprises.append(obj.id)
    if enterprises:
        changed |= {nid for (nid,) in session.connection().execute(
            select(Need.id).where(Need.enterprise_id.in_(enterprises)))}
    if changed:
        _reindex(session.connection(), sorted(changed))
