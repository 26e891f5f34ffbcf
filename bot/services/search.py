"""Script-independent name matching: Ерзан, Erzhan and Yerjan should all find one person.

Names are folded to a Latin consonant skeleton: Cyrillic is transliterated, diacritics
and apostrophes dropped, spelling variants merged (kh/x/h, zh/j/dzh, q/k), vowels and
glides removed. The skeleton is stored with the case and matched with LIKE, which works
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata

_CYR = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Kazakh, Kyrgyz, Tajik and Uzbek letters
    "ә": "a",
    "ғ": "gh",
    "қ": "q",
    "ң": "ng",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
    "ӣ": "i",
    "ӯ": "u",
    "ҳ": "h",
    "ҷ": "j",
    "ў": "o",
}

_LATIN_EXTRA = {"ş": "sh", "ç": "ch", "ž": "zh", "ň": "n", "ı": "i", "ß": "ss"}

# Order matters: longer spellings first.
_FOLDS = (
    ("shch", "sh"),
    ("dzh", "j"),
    ("dj", "j"),
    ("zh", "j"),
    # Kazakh spells with з what Latin transcriptions spell zh (Ерзан / Erzhan).
    ("z", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("ng", "n"),
    ("ts", "s"),
    ("x", "h"),
    ("q", "k"),
    ("c", "k"),
    ("w", "v"),
)
_DROP = re.compile(r"[aeiouy'ʻʼ’`‘\s\-.]")
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_REPEATS = re.compile(r"(.)\1+")


def transliterate(text: str) -> str:
    """Lower-case Latin rendering of any of our scripts, without diacritics."""
    out: list[str] = []
    for ch in text.lower():
        if ch in _CYR:
            out.append(_CYR[ch])
        elif ch in _LATIN_EXTRA:
            out.append(_LATIN_EXTRA[ch])
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFKD", "".join(out))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold(word: str) -> str:
    # "ch" must survive the c→k fold, so protect it first.
    word = word.replace("ch", "\x00")
    for src, dst in _FOLDS:
        word = word.replace(src, dst)
    word = word.replace("\x00", "ch")
    word = _DROP.sub("", word)
    word = _NON_ALNUM.sub("", word)
    return _REPEATS.sub(r"\1", word)


def skeleton(text: str) -> str:
    """Space-separated skeletons of the words of `text` (empty words dropped)."""
    words = (_fold(w) for w in re.split(r"[\s,;/]+", transliterate(text)))
    return " ".join(w for w in words if w)


def plain(text: str) -> str:
    """Transliterated, lower-cased words: the literal form of a name for exact matches."""
    return " ".join(_NON_ALNUM.sub("", w) for w in transliterate(text).split())


def search_key(names: list[str], slug: str) -> str:
    """What is stored on a case: skeletons and plain forms of every name, and the slug."""
    parts = {slug.replace("-", " ")}
    for name in names:
        parts.add(plain(name))
        parts.add(skeleton(name))
    return "|" + "|".join(sorted(p for p in parts if p)) + "|"
