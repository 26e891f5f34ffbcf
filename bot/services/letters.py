"""Letter prompts: which letters a case takes, the template text, the facts that make a
letter arrive (the facility's rules, the language it requires, the envelope), and "I sent it".
"""

from __future__ import annotations

import enum
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


def can_post(case: Case) -> bool:
    """A card can go in the post now: letters reach the person and we have a safe address."""
    return LetterKind.CARD in kinds_for(case) and bool(case.prison_address)


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
    # Letters of every kind recorded to the person: the one number the card shows too.
    total: int
    # The line above a card's address: the person's name as the facility writes it, and
    # the date of birth that prisons in the region ask for on the envelope.
    recipient: str | None = None
    # In the reader's language where there is a version in it (the fallback chain).
    letter_rules: str | None = None
    topics: str | None = None
    # A card with no safe address yet: the supporter asked to be told when there is one.
    waiting: bool = False

    @property
    def postable(self) -> bool:
        """The letter can be sent, so it can be counted (an appeal always has an address)."""
        return bool(self.address)


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
    person_id = person.id if person is not None else None
    recorded = person_id is not None and await repo.has_recorded(
        session, person_id, case.id, kind.value
    )
    address = case.prison_address if card else case.authority_address
    waiting = (
        card
        and not address
        and person_id is not None
        and await repo.is_waiting(session, person_id, case.id)
    )
    return LetterPrompt(
        case=case,
        kind=kind,
        text=text,
        locale=locale,
        body=fill(chosen.body, text),
        variant=chosen.variant,
        variants=len(templates),
        address=address,
        recorded=recorded,
        total=await cases_repo.letters_total(session, case.id),
        recipient=recipient_line(case, texts, chain) if card else None,
        letter_rules=cases.pick_value(texts, chain, "letter_rules") if card else None,
        topics=cases.pick_value(texts, chain, "topics") if card else None,
        waiting=waiting,
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


class NotSent(enum.Enum):
    """Why "I sent it" was not counted."""

    GONE = "gone"  # hidden, released, or letters of this kind no longer make sense
    NO_ADDRESS = "no_address"  # a card, and there is no safe address to send it to


@dataclass(frozen=True)
class Recorded:
    new: bool  # False: this person had already recorded this letter
    total: int  # letters of every kind recorded to the person, as the card shows


async def record_sent(
    session: AsyncSession, person: Person, case_id: int, kind: LetterKind
) -> Recorded | NotSent:
    """Count a sent letter once per person, case and kind.

    A card is counted only where it could have been posted: a stale "I sent it" under a
    prompt whose address has since been withdrawn counts nothing.
    """
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None or person.id is None or kind not in kinds_for(case):
        return NotSent.GONE
    if kind is LetterKind.CARD and not can_post(case):
        return NotSent.NO_ADDRESS
    new = await repo.record(session, person.id, case.id, kind.value, cases.today())
    return Recorded(new=new, total=await cases_repo.letters_total(session, case.id))


async def wait_for_address(
    session: AsyncSession, person: Person, case_id: int, on: bool
) -> bool | None:
    """Ask (or stop asking) to be told when a card can be sent to the person; returns
    whether the supporter now waits, or None when the case takes no cards or already has
    an address (the prompt on screen is stale)."""
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None or person.id is None:
        return None
    if LetterKind.CARD not in kinds_for(case) or case.prison_address:
        return None
    if on:
        await repo.wait(session, person.id, case.id, cases.today())
    else:
        await repo.unwait(session, person.id, case.id)
    return on
