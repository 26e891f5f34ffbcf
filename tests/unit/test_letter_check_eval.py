"""The letter checker measured on the team's evaluation corpus (tests/data/letter_check_eval):
per language, the share of risky sentences it flags (recall) and of innocent ones it lets
through, each at least 0.95, with the shipped lists. And the bot's own words for the people
it campaigns for, taken from the catalogues, are flagged as a risk in every language, so
the lists cannot lag behind the catalogues."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from bot.services import letter_check
from config.settings import SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "tests" / "data" / "letter_check_eval"
LOCALES = ROOT / "locales"
THRESHOLD = 0.95

# Catalogue entries in which the bot names the people it campaigns for, or the campaign.
OWN_WORDS = {
    "prisoner of conscience": "Welcome to <b>Umid</b> — “hope”. Here you can follow the cases "
    "of prisoners of conscience in Central Asia, write them letters and hear about hearings "
    "and releases.",
    "political prisoner": "In Central Asia phones are searched at borders, at police stops and "
    "after arrests, and a chat about a political prisoner can be used against you or against "
    "the prisoner's family. These settings make this chat say as little as possible to "
    "whoever holds your phone.",
    "campaign": "<b>A message to the campaign team</b>",
}


@dataclass(frozen=True)
class Score:
    recall: float
    innocent_pass: float
    missed: list[str]
    wrongly_flagged: list[str]


@cache
def terms() -> tuple[letter_check.Term, ...]:
    return tuple(letter_check.load_seed())


def flagged(text: str, locale: str, country: str | None = None) -> bool:
    findings = letter_check.check(text, locale, terms(), country=country)
    return any(h.reason in (letter_check.CENSOR, letter_check.RISK) for h in findings.hits)


def score(locale: str) -> Score:
    """How the shipped lists do on one language's corpus."""
    data = yaml.safe_load((CORPUS / f"{locale}.yaml").read_text(encoding="utf-8"))
    assert data["locale"] == locale
    risky, innocent = data["risky"], data["innocent"]
    missed = [e["text"] for e in risky if not flagged(e["text"], locale, e.get("country"))]
    wrong = [e["text"] for e in innocent if flagged(e["text"], locale, e.get("country"))]
    return Score(
        recall=1 - len(missed) / len(risky),
        innocent_pass=1 - len(wrong) / len(innocent),
        missed=missed,
        wrongly_flagged=wrong,
    )


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_corpus_is_large_enough(locale: str):
    data = yaml.safe_load((CORPUS / f"{locale}.yaml").read_text(encoding="utf-8"))
    assert len(data["risky"]) >= 30 and len(data["innocent"]) >= 30


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_recall_and_innocent_pass(locale: str):
    result = score(locale)
    assert result.recall >= THRESHOLD, f"{locale} recall {result.recall:.2f}: {result.missed}"
    assert result.innocent_pass >= THRESHOLD, (
        f"{locale} innocent pass {result.innocent_pass:.2f}: {result.wrongly_flagged}"
    )


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("words", sorted(OWN_WORDS))
def test_the_bots_own_words_are_a_risk(locale: str, words: str):
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    message = catalogue.get(OWN_WORDS[words])
    assert message is not None and message.string, f"{words!r} is not in the catalogue"
    findings = letter_check.check(str(message.string), locale, terms())
    assert any(h.reason == letter_check.RISK for h in findings.hits), (
        f"{locale}: {words!r} not flagged as a risk in {message.string!r}"
    )
