"""Word stems for the letter checker, one way per language, so that a listed word catches
its inflected forms ("пытали" under "пытать", "qochib" under "qochish") and not every
word that merely begins with it ("судно" under "суд").

Russian and English use the Snowball stemmers (the `snowballstemmer` package). Kazakh,
Kyrgyz, Turkmen and Uzbek (both alphabets) are agglutinative, and Tajik adds verbal
prefixes: for them a small suffix grammar per language (bot/data/suffixes/) takes
endings off, longest first, over a few rounds, while a stem of some letters is left.
The same function stems a listed term and the words of a draft, so what matters is that
the forms of one word meet at one stem; an ending taken too eagerly from both sides
does no harm, and a collision between two real words is what the lists' exceptions are
for.

Pure and cached; words come already normalised (letter_check.normalise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import snowballstemmer  # type: ignore[import-untyped]
import yaml
from pydantic import BaseModel, ConfigDict, Field

GRAMMAR_DIR = Path(__file__).resolve().parent.parent / "data" / "suffixes"
SNOWBALL = {"ru": "russian", "en": "english"}


class GrammarIn(BaseModel):
    """One language's grammar file (bot/data/suffixes/<locale>.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    locale: str
    min_stem: int = Field(default=3, ge=2, le=6)
    rounds: int = Field(default=4, ge=1, le=8)
    prefixes: list[str] = Field(default_factory=list)
    suffixes: list[str]


@dataclass(frozen=True)
class Grammar:
    """Endings (and prefixes) one language takes off, longest first."""

    min_stem: int
    rounds: int
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]

    def stem(self, word: str) -> str:
        for prefix in self.prefixes:
            if word.startswith(prefix) and len(word) - len(prefix) >= self.min_stem + 1:
                word = word[len(prefix) :]
                break
        for _ in range(self.rounds):
            for suffix in self.suffixes:
                if word.endswith(suffix) and len(word) - len(suffix) >= self.min_stem:
                    word = word[: -len(suffix)]
                    break
            else:
                break
        return word


def load_grammars(path: Path = GRAMMAR_DIR) -> dict[str, Grammar]:
    """The suffix grammars, validated; each list sorted longest first."""
    out: dict[str, Grammar] = {}
    for file in sorted(path.glob("*.yaml")):
        g = GrammarIn.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
        if g.locale != file.stem or g.locale in SNOWBALL:
            raise ValueError(f"{file.name}: not the grammar of a language without Snowball")
        out[g.locale] = Grammar(
            min_stem=g.min_stem,
            rounds=g.rounds,
            prefixes=tuple(sorted(set(g.prefixes), key=len, reverse=True)),
            suffixes=tuple(sorted(set(g.suffixes), key=len, reverse=True)),
        )
    return out


@cache
def _grammars() -> dict[str, Grammar]:
    return load_grammars()


@cache
def _snowball(language: str) -> Callable[[str], str]:
    stemmer = snowballstemmer.stemmer(language)

    def stem(word: str) -> str:
        return str(stemmer.stemWord(word))

    return stem


@lru_cache(maxsize=65536)
def stem(word: str, locale: str) -> str:
    """The stem of one normalised word in the language of `locale` (the word itself
    where the language has no stemmer)."""
    if locale in SNOWBALL:
        return _snowball(SNOWBALL[locale])(word)
    grammar = _grammars().get(locale)
    return grammar.stem(word) if grammar is not None else word
