"""The one module that owns pypinyin's options (tone style, heteronyms, surnames)."""
from pypinyin import Style, lazy_pinyin

# pypinyin's defaults are wrong for these surnames when they start a personal name.
SURNAMES = {
    "尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "曾": ["zeng"], "单": ["shan"], "解": ["xie"],
    "仇": ["qiu"], "查": ["zha"], "朴": ["piao"], "区": ["ou"], "覃": ["qin"], "盖": ["ge"],
    "乐": ["yue"],
}


def _syllables(text: str, person: bool, style: Style) -> list[str]:
    head = []
    if person:
        for surname in sorted(SURNAMES, key=len, reverse=True):
            if text.startswith(surname):
                head = [s if style is Style.NORMAL else s[0] for s in SURNAMES[surname]]
                text = text[len(surname):]
                break
    return head + lazy_pinyin(text, style=style, errors="default")


def pinyin_of(text: str, person: bool = False) -> str:
    """Full pinyin without tones or spaces, lower case: 武汉大学 -> wuhandaxue."""
    return "".join(_syllables(text or "", person, Style.NORMAL)).lower().replace(" ", "")


def initials_of(text: str, person: bool = False) -> str:
    """First letters, non-Han characters kept: 武汉大学 -> whdx, ABC科技 -> abckj."""
    return "".join(_syllables(text or "", person, Style.FIRST_LETTER)).lower().replace(" ", "")


def sort_key(text: str):
    """Pinyin collation key: 阿里巴巴 < 北京 < 重庆 < 浙江 (codepoint order is useless)."""
    return ([p.lower() for p in lazy_pinyin(text or "", style=Style.TONE3)], text or "")
