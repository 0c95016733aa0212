"""The one module that owns pypinyin's options (tone style, heteronyms, surnames)."""
from pypinyin import Style, lazy_pinyin

# pypinyin's defaults are wrong for these surnames when they start a personal name.
SURNAMES = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "查": "zha", "朴": "piao",
    "区": "ou", "覃": "qin", "盖": "ge", "尉迟": "yuchi", "万俟": "moqi", "乐": "yue",
}


def _syllables(text: str, person: bool = False) -> list[str]:
    if person:
        for surname in sorted(SURNAMES, key=len, reverse=True):
            if text.startswith(surname):
                rest = text[len(surname):]
                return [SURNAMES[surname]] + lazy_pinyin(rest, errors="default")
    return lazy_pinyin(text, errors="default")


def pinyin_of(text: str, person: bool = False) -> str:
    """Full pinyin without tones or spaces, lower case: 武汉大学 -> wuhandaxue."""
    return "".join(_syllables(text or "", person)).lower().replace(" ", "")


def initials_of(text: str, person: bool = False) -> str:
    """First letters: 武汉大学 -> whdx (non-Han characters are kept)."""
    syllables = _syllables(text or "", person)
    return "".join(s[:1] if s.isascii() and s.isalpha() and len(s) > 1 and s.islower() else s
                   for s in syllables).lower().replace(" ", "")


def sort_key(text: str):
    """Pinyin collation key: 阿里巴巴 < 北京 < 重庆 < 浙江 (codepoint order is useless)."""
    return ([p.lower() for p in lazy_pinyin(text or "", style=Style.TONE3)], text or "")
