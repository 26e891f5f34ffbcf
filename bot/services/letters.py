"""Letter prompts: which letters a case takes, the template text, and "I sent it"."""

from __future__ import annotations

import random
from collections.abc import Sequence
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
) -> LetterPrompt | None:
    """The letter for a visible case in the first language of `chain` with a template.

    Without a variant one is picked at random, so many supporters' letters differ;
    with `advance` the variant after the given one is shown ("another version").
    """
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None or kind not in kinds_for(case):
        return None
    templates = []
    locale = chain[0]
    for loc in chain:
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
        address=case.authority_address if kind is LetterKind.APPEAL else case.prison_address,
        recorded=recorded,
        total=await cases_repo.letters_total(session, case.id, kind.value),
    )


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
