"""The letter checker on the team's evaluation corpus, per language: how many risky
sentences it flags (recall) and how many innocent ones it lets through, with the shipped
lists. The suite asserts at least 0.95 for both (tests/unit/test_letter_check_eval.py);
this prints the table for the README.

    python -m benchmarks.letter_check
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.services import letter_check
from config.settings import SUPPORTED_LOCALES

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "letter_check_eval"


def flagged(terms: list[letter_check.Term], text: str, locale: str, country: str | None) -> bool:
    hits = letter_check.check(text, locale, terms, country=country).hits
    return any(h.reason in (letter_check.CENSOR, letter_check.RISK) for h in hits)


def main() -> None:
    terms = letter_check.load_seed()
    print("| language | risky | flagged | recall | innocent | passed | innocent pass |")
    print("|---|---|---|---|---|---|---|")
    for locale in SUPPORTED_LOCALES:
        data = yaml.safe_load((CORPUS / f"{locale}.yaml").read_text(encoding="utf-8"))
        risky = [flagged(terms, e["text"], locale, e.get("country")) for e in data["risky"]]
        clean = [not flagged(terms, e["text"], locale, e.get("country")) for e in data["innocent"]]
        print(
            f"| {locale} | {len(risky)} | {sum(risky)} | {sum(risky) / len(risky):.2f} "
            f"| {len(clean)} | {sum(clean)} | {sum(clean) / len(clean):.2f} |"
        )


if __name__ == "__main__":
    main()
