"""The one Chinese segmenter: jieba with the technical terms of the taxonomy as its dictionary.

Search and matching must cut text the same way, or a need indexed as 储能/电池 is never found
by a query cut as 储能电池. The dictionary is the taxonomy's keyword lists as shipped with the
code (app/domain/reference/data.py), not the database's, so that a need is segmented the same on
every process and a migration can rebuild what depends on it when the list changes.
"""
import logging
import re
import threading

from app.domain.reference.data import TECH_DOMAINS

HAN = re.compile(r"[\u4e00-\u9fff]")
PUNCTUATION = re.compile(r"[\W_]+")
NUMBERISH = re.compile(r"[\d.,%‰]+\w?")  # 21%, 3.5, 98小: measurements, not words
# Weight of a technical term against jieba's general dictionary: high enough that 储能电池
# stays one word, as jieba's own docs suggest for user dictionaries.
TERM_FREQUENCY = 20000

_lock = threading.Lock()
_segmenter = None


def technical_terms() -> list[str]:
    return sorted({word.lower() for domain in TECH_DOMAINS for field in domain["fields"]
                   for word in field["keywords"]})


def segmenter():
    """A private jieba Tokenizer (the global one stays untouched), built once per process:
    workers preload it with the app (see ``warm_up``)."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for term in technical_terms():
                    tokenizer.add_word(term, TERM_FREQUENCY)
                _segmenter = tokenizer
    return _segmenter


def warm_up():
    segmenter()


def words_for_index(text: str) -> set[str]:
    """Every word and sub-word a text can be found by (jieba's search mode), lower case, plus
    whitespace-separated Latin tokens whole ("pm2.5" is one word to a reader)."""
    text = (text or "").lower()
    words = {w.strip() for w in segmenter().cut_for_search(text)}
    words |= {w for w in text.split() if not HAN.search(w)}
    return {w for w in words if w and not PUNCTUATION.fullmatch(w)}


def words_of_query(text: str) -> list[str]:
    """The words a person typed, in order: precise mode, so 储能电池 stays one word."""
    text = (text or "").lower()
    if not HAN.search(text):
        words = text.split()
    else:
        words = [w.strip() for w in segmenter().lcut(text)]
    return [w for w in words if w and not PUNCTUATION.fullmatch(w)]


def words_of_text(text: str) -> list[str]:
    """The content words of a text, repeated as often as they occur (for weighting): precise
    mode, no single characters, no bare numbers or measurements."""
    return [w for w in words_of_query(text) if len(w) >= 2 and not NUMBERISH.fullmatch(w)]
