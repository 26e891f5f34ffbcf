"""Uzbek in both alphabets says the same thing: every entry of the uz_Cyrl catalogue,
transliterated to Latin by the official rules, is the uz entry, apart from a short list
of reviewed exceptions. Translated apart, the two had drifted (ахборот/xabar,
карточка/karta, адресат/oluvchi)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"

# msgid: why the two alphabets may differ there. Keep it short, and give the reason.
EXCEPTIONS: dict[str, str] = {}

_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "gʻ", "д": "d", "ё": "yo", "ж": "j",
    "з": "z", "и": "i", "й": "y", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "oʻ", "ф": "f",
    "х": "x", "ҳ": "h", "ч": "ch", "ш": "sh", "ъ": "ʼ", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip
_VOWELS = set("аеёиоуўэюя")


def to_latin(text: str) -> str:
    """Uzbek Cyrillic to Latin (the 1995 alphabet, as amended): е is "ye" at the start of
    a word and after a vowel or ъ/ь, ц is "ts" between vowels and "s" elsewhere; a
    capital digraph is "Sh", or "SH" inside a word in capitals."""
    out: list[str] = []
    for i, ch in enumerate(text):
        low = ch.lower()
        before = text[i - 1].lower() if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if low == "е":
            latin = "ye" if not before.isalpha() or before in _VOWELS or before in "ъь" else "e"
        elif low == "ц":
            latin = "ts" if before in _VOWELS and after.lower() in _VOWELS else "s"
        elif low in _LATIN:
            latin = _LATIN[low]
        else:
            out.append(ch)
            continue
        if ch != low and latin:
            capitals = after.isalpha() and after.isupper()
            if len(latin) > 1 and latin[1] not in "ʻʼ" and capitals:
                latin = latin.upper()
            else:
                latin = latin[0].upper() + latin[1:]
        out.append(latin)
    return "".join(out)


def entries(locale: str) -> dict[str, tuple[str, ...]]:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    out: dict[str, tuple[str, ...]] = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        out[key] = tuple(string) if isinstance(string, list | tuple) else (str(string),)
    return out


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Ўзбекистон", "Oʻzbekiston"),
        ("янгилик", "yangilik"),
        ("ЕТТИ", "YETTI"),
        ("Шаҳар", "Shahar"),
        ("маъруза", "maʼruza"),
        ("сиёсий", "siyosiy"),
        ("ҳисобот", "hisobot"),
        ("ғоя", "gʻoya"),
        ("мактабдаги ёш ўқитувчи", "maktabdagi yosh oʻqituvchi"),
    ],
)
def test_the_transliteration(cyrillic: str, latin: str):
    assert to_latin(cyrillic) == latin


def test_uz_cyrl_says_what_uz_says():
    latin, cyrillic = entries("uz"), entries("uz_Cyrl")
    assert latin.keys() == cyrillic.keys()
    differ = [
        f"{key[:60]!r}: {latin[key]} ≠ {tuple(map(to_latin, cyrillic[key]))}"
        for key in latin
        if key not in EXCEPTIONS and tuple(map(to_latin, cyrillic[key])) != latin[key]
    ]
    assert not differ, "\n".join(differ)
    assert set(EXCEPTIONS) <= latin.keys(), "an exception names an entry that is gone"
