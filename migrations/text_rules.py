"""The text rules the data migrations of November 2026 rebuild derived data with, copied here
from the app as they stood then, so that an old database still upgrades whatever happens to the
app's modules later. Migrations import nothing from ``app``.

- the segmenter: jieba with the taxonomy's technical terms as its dictionary (read from the
  database's ``tech_fields``, which ``flask seed`` fills from the same list the app ships);
- the need search index's terms (words, their pinyin and initials, template sections);
- the matching profiles (weighted content words of a need or researcher);
- the audit chain's link hash.

The app rebuilds what these made whenever the data changes; these copies only fill what existed
before each migration.
"""
import hashlib
import json
import logging
import re
from collections import Counter

import sqlalchemy as sa
from pypinyin import Style, lazy_pinyin

HAN = re.compile(r"[\u4e00-\u9fff]")
PUNCTUATION = re.compile(r"[\W_]+")
NUMBERISH = re.compile(r"[\d.,%‰]+\w?")
TERM_FREQUENCY = 20000
MAX_TERM = 80
NEED_SECTIONS = (("title", 3), ("keywords", 3), ("problem", 2), ("targets", 1), ("background", 1))
RESEARCHER_SECTIONS = (("keywords", 3), ("expertise", 2), ("achievements", 1))

_segmenters = {}


def segmenter(connection):
    """A private jieba Tokenizer with the database's technical terms (made once per set of
    terms: an empty database at its first migrations has none yet)."""
    fields = sa.table("tech_fields", sa.column("keywords"))
    terms = tuple(sorted({term.lower() for (keywords,) in connection.execute(
        sa.select(fields.c.keywords)) for term in (keywords or "").split()}))
    if terms not in _segmenters:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for term in terms:
            tokenizer.add_word(term, TERM_FREQUENCY)
        _segmenters[terms] = tokenizer
    return _segmenters[terms]


def words_for_index(cut, text):
    text = (text or "").lower()
    words = {w.strip() for w in cut.cut_for_search(text)}
    words |= {w for w in text.split() if not HAN.search(w)}
    return {w for w in words if w and not PUNCTUATION.fullmatch(w)}


def words_of_text(cut, text):
    text = (text or "").lower()
    words = text.split() if not HAN.search(text) else [w.strip() for w in cut.lcut(text)]
    return [w for w in words if w and not PUNCTUATION.fullmatch(w)
            and len(w) >= 2 and not NUMBERISH.fullmatch(w)]


def pinyin_of(text):
    return "".join(lazy_pinyin(text or "", style=Style.NORMAL)).lower().replace(" ", "")


def initials_of(text):
    return "".join(lazy_pinyin(text or "", style=Style.FIRST_LETTER)).lower().replace(" ", "")


def need_terms(cut, title, keywords, enterprise_name, content=""):
    """Every term a need is found by (``app/domain/needs/search.terms_for`` of 2026-11)."""
    terms = {w for w in words_for_index(cut, content) if len(w) >= 2
             and not NUMBERISH.fullmatch(w)}
    named = (words_for_index(cut, title) | words_for_index(cut, keywords)
             | words_for_index(cut, enterprise_name))
    for word in named:
        terms.add(word)
        if HAN.search(word):
            terms.update((pinyin_of(word), initials_of(word)))
    for whole in (title, enterprise_name):
        if whole:
            terms.update((pinyin_of(whole), initials_of(whole)))
    return {t[:MAX_TERM] for t in terms if t}


def index_public_needs(connection, with_content: bool) -> int:
    """Write the search terms of every published need (the index must be empty)."""
    cut = segmenter(connection)
    content = ", needs.background, needs.problem, needs.targets, needs.basis" if with_content else ""
    rows = connection.execute(sa.text(
        f"SELECT needs.id, needs.title, needs.keywords, enterprises.name{content} FROM needs "
        "JOIN enterprises ON enterprises.id = needs.enterprise_id "
        "WHERE needs.state IN ('published', 'docking')")).all()
    table = sa.table("need_search_terms", sa.column("need_id"), sa.column("term"))
    values = [{"need_id": row[0], "term": term} for row in rows
              for term in need_terms(cut, row[1], row[2], row[3], "\n".join(
                  s or "" for s in row[4:]))]
    if values:
        connection.execute(table.delete().where(
            table.c.need_id.in_([row[0] for row in rows])))
        connection.execute(table.insert(), values)
    return len(rows)


def profile(cut, values, sections):
    counts = Counter()
    for attr, weight in sections:
        for word in words_of_text(cut, values.get(attr) or ""):
            counts[word] += weight
    return dict(counts)


def refresh_profiles(connection) -> int:
    """Every need's and researcher's ``match_terms`` from its sections."""
    cut, done = segmenter(connection), 0
    for name, sections in (("needs", NEED_SECTIONS), ("researchers", RESEARCHER_SECTIONS)):
        columns = [a for a, _w in sections]
        table = sa.table(name, sa.column("id"), sa.column("match_terms", sa.JSON),
                         *[sa.column(c) for c in columns])
        rows = connection.execute(sa.select(table.c.id, *[table.c[c] for c in columns]))
        values = [{"key": row["id"], "terms": profile(cut, row, sections)}
                  for row in rows.mappings().all()]
        if values:
            connection.execute(table.update().where(table.c.id == sa.bindparam("key"))
                               .values(match_terms=sa.bindparam("terms")), values)
        done += len(values)
    return done


def audit_link_hash(prev_hash, row) -> str:
    """SHA-256 of the previous hash and the row's canonical JSON (every field but id, prev_hash
    and hash), as ``app/core/audit`` links its chain."""
    fields = {
        "seq": row.seq,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "actor_id": row.actor_id, "actor_name": row.actor_name, "action": row.action,
        "subject_type": row.subject_type, "subject_id": row.subject_id,
        "before": row.before, "after": row.after, "ip": row.ip,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()
