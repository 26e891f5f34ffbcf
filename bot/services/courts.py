"""Courts that hearings sit in, named in every language the bot speaks.

A hearing's court is kept as text. It is either one of the courts of bot/data/courts.yaml,
kept as "court:<key>" and shown in each reader's language, or the name an editor typed
for a court the list does not hold, shown as typed. The list saves editors typing and
readers a court named in another language in the middle of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

PREFIX = "court:"
FILE = Path(__file__).resolve().parent.parent / "data" / "courts.yaml"


@dataclass(frozen=True)
class Court:
    key: str
    country: str
    names: dict[str, str]

    @property
    def stored(self) -> str:
        """What a hearing keeps for this court."""
        return PREFIX + self.key


@functools.cache
def catalogue() -> dict[str, Court]:
    """Every court of the list, by key, in the file's order."""
    raw = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    return {
        key: Court(key=key, country=str(item["country"]), names=dict(item["names"]))
        for key, item in raw["courts"].items()
    }


def of_country(country: str) -> list[Court]:
    """The courts of one country, in the file's order (its highest court first)."""
    return [c for c in catalogue().values() if c.country == country]


def by_stored(value: str) -> Court | None:
    """The court a hearing's stored value names, or None for a typed name (or a key that
    has left the list: then the value is shown as it is)."""
    if not value.startswith(PREFIX):
        return None
    return catalogue().get(value.removeprefix(PREFIX))


def name(value: str, chain: Sequence[str]) -> str:
    """The court a hearing keeps, as a reader with this language chain should read it.

    Plain text: escape it before it goes into HTML."""
    court = by_stored(value)
    if court is None:
        return value
    for locale in (*chain, "en"):
        if locale in court.names:
            return court.names[locale]
    return value
