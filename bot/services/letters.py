"""Letter prompts: which letters a case takes, the template text, the facts that make a
letter arrive (the facility's rules, the language it requires, the envelope), and "I sent it".
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases
from db.models import Case, CaseText, LetterKind, Person
from db.repositories import cases as cases_repo
from db.repositories import letters as repo


def kinds_for(case: Case) -> list[LetterKind]:
    """Letters that make sense now: cards only where letters reach the person."""
    if case.status not in cases.IN_CUSTODY:
        return []
    kinds = [LetterKind.CARD] if case.accepts_letters else []
    kinds.append(LetterKind.APPEAL)
    return kinds


def original_locale(case: Case, kind: LetterKind) -> str | None:
    """The language a letter of this kind is best written in, if the case says so: an
    appeal in the authorities' working language, a card in the one the facility requires."""
    return case.authority_locale if kind is LetterKind.APPEAL else case.letter_locale


@dataclass(frozen=True)
class LetterPrompt:
    case: Case
    kind: LetterKind
    text: CaseText
    locale: str
    body: str
    variant: int
    variants: int
    address: str | None
    recorded: bool
    total: int
    # The line above a card's address: the person's name as the facility writes it, and
    # the date of birth that prisons in the region ask for on the envelope.
    recipient: str | None = None
    # In the reader's language where there is a version in it (the fallback chain).
    letter_rules: str | None = None
    topics: str | None = None


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(body: str, text: CaseText) -> str:
    """Put the case's name and salutation into a template (unknown placeholders vanish)."""
    return body.format_map(_Blank(name=text.name, salutation=text.salutation))


async def prompt(
    session: AsyncSession,
    *,
    case_id: int,
    kind: LetterKind,
    chain: Sequence[str],
    person: Person | None,
    variant: int | None = None,
    advance: bool = False,
    original: bool = False,
) -> LetterPrompt | None:
    """The letter for a visible case in the first language of `chain` with a template.

    Without a variant one is picked at random, so many supporters' letters differ;
    with `advance` the variant after the given one is shown ("another version").
    With `original` the template is in `original_locale` where the case names one; the
    facility's rules and topics stay in the reader's language all the same.
    """
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None or kind not in kinds_for(case):
        return None
    wanted = original_locale(case, kind) if original else None
    template_chain = [wanted, *chain] if wanted else list(chain)
    templates = []
    locale = template_chain[0]
    for loc in template_chain:
        templates = await repo.templates(session, kind.value, loc)
        if templates:
            locale = loc
            break
    if not templates:
        return None
    by_variant = {t.variant: t for t in templates}
    if advance and variant is not None:
        variant = next_variant(variant, list(by_variant))
    chosen = by_variant.get(variant) if variant is not None else None
    if chosen is None:
        chosen = random.choice(templates)
    texts = await cases.texts_for(session, case.id)
    text = cases.pick_text(texts, [locale, *chain])
    card = kind is LetterKind.CARD
    recorded = (
        person is not None
        and person.id is not None
        and await repo.has_recorded(session, person.id, case.id, kind.value)
    )
    return LetterPrompt(
        case=case,
        kind=kind,
        text=text,
        locale=locale,
        body=fill(chosen.body, text),
        variant=chosen.variant,
        variants=len(templates),
        address=case.prison_address if card else case.authority_address,
        recorded=recorded,
        total=await cases_repo.letters_total(session, case.id, kind.value),
        recipient=recipient_line(case, texts, chain) if card else None,
        letter_rules=cases.pick_value(texts, chain, "letter_rules") if card else None,
        topics=cases.pick_value(texts, chain, "topics") if card else None,
    )


def recipient_line(case: Case, texts: Mapping[str, CaseText], chain: Sequence[str]) -> str:
    """Who a card is for, as the envelope needs it: the name in the language the facility
    works in (so in the script of its address), then the date of birth if it is known.

    The date is written day.month.year, the way post and prisons in the region read it
    whatever the language.
    """
    envelope = [loc for loc in (case.letter_locale, case.authority_locale) if loc]
    name = cases.pick_text(texts, [*envelope, *chain]).name
    if case.born_on is None:
        return name
    return f"{name}, {case.born_on:%d.%m.%Y}"


def next_variant(current: int, variants: Sequence[int]) -> int:
    """The variant after `current`, cycling."""
    ordered = sorted(variants)
    if current not in ordered:
        return ordered[0]
    return ordered[(ordered.index(current) + 1) % len(ordered)]


async def record_sent(
    session: AsyncSession, person: Person, case_id: int, kind: LetterKind
) -> tuple[bool, int] | None:
    """Count a sent letter once per person, case and kind; returns (new, campaign total)."""
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None or person.id is None or kind not in kinds_for(case):
        return None
    new = await repo.record(session, person.id, case.id, kind.value, cases.today())
    return new, await cases_repo.letters_total(session, case.id, kind.value)
