"""Editors create and change cases in Telegram: one field at a time, each change audited.

Every value is checked by `case_rules`, the rules the YAML import applies, so a case
made here exports and imports again unchanged. The status is not changed here: /update
does that, so that followers are told.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases, staff, transfers
from bot.services.case_rules import (
    BASE_LOCALES,
    CASE_FIELDS,
    PHOTO_ID_LIMIT,
    SLUG_MAX,
    TEXT_FIELDS,
    Problem,
    RuleError,
    check,
)
from bot.services.search import search_key, transliterate
from config.settings import SUPPORTED_LOCALES
from db.models import Case, CaseStatus, CaseText, Visibility
from db.repositories import cases as repo
from db.types import utcnow

# A new case waits, hidden, until an editor publishes it; /update gives its real status.
NEW_CASE_STATUS = CaseStatus.DETAINED
NEW_CASE_VISIBILITY = Visibility.HIDDEN
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Oʻlmas is olmas, not o-lmas: apostrophes belong inside a word.
_APOSTROPHES = re.compile(r"['ʻʼ’‘`]")


@dataclass(frozen=True)
class CaseDraft:
    """What the /newcase dialogue gathered, as typed; `create` checks all of it again."""

    slug: str
    country: str
    locale: str
    name: str
    authority: str
    salutation: str
    authority_address: str
    authority_locale: str
    summary: str | None = None
    charges: str | None = None
    prison_address: str | None = None
    detained_on: str | None = None
    accepts_letters: bool = True


@dataclass(frozen=True)
class StaffMatch:
    """A case as the staff finder lists it, whatever its visibility."""

    id: int
    slug: str
    name: str
    visibility: str


@dataclass(frozen=True)
class EditorCase:
    """A case with every language version it has, in the bot's language order."""

    case: Case
    texts: dict[str, CaseText]


def suggest_slug(name: str) -> str | None:
    """A slug made from a name (Алишер Тестов → alisher-testov), or None if none fits."""
    slug = _NOT_SLUG.sub("-", _APOSTROPHES.sub("", transliterate(name))).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    try:
        return str(check("slug", slug))
    except RuleError:
        return None


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    """Whether a case (of any visibility) already has this slug."""
    return await repo.by_slug(session, slug) is not None


async def editor_case(session: AsyncSession, case_id: int) -> EditorCase | None:
    """A case for staff: hidden and archived ones too."""
    case = await repo.by_id(session, case_id)
    if case is None or case.id is None:
        return None
    texts = await cases.texts_for(session, case.id)
    ordered = {loc: texts[loc] for loc in SUPPORTED_LOCALES if loc in texts}
    return EditorCase(case=case, texts=ordered)


async def find_any(session: AsyncSession, reference: str, chain: Sequence[str]) -> list[StaffMatch]:
    """Cases of any visibility that a slug or a name (in any script) points to."""
    ref = cases.normalise_query(reference).lower()
    found: list[Case] = []
    if cases.is_slug(ref):
        exact = await repo.by_slug(session, ref)
        if exact is not None:
            found = [exact]
    if not found:
        patterns = cases.search_patterns(reference)
        if patterns:
            found = await repo.search(session, patterns, cases.SEARCH_LIMIT, public_only=False)
    texts = await repo.texts(session, [c.id for c in found if c.id is not None])
    return [
        StaffMatch(
            id=c.id,
            slug=c.slug,
            name=cases.pick_text(texts[c.id], chain).name,
            visibility=c.visibility,
        )
        for c in found
        if c.id is not None and texts.get(c.id)
    ]


async def _refresh_search_key(session: AsyncSession, case: Case) -> None:
    assert case.id is not None
    texts = await cases.texts_for(session, case.id)
    case.search_key = search_key([t.name for t in texts.values()], case.slug)


async def _changed(session: AsyncSession, case: Case, actor: str, action: str) -> None:
    case.updated_at = utcnow()
    await session.flush()
    await staff.audit(session, actor, action, f"case:{case.slug}")


async def create(session: AsyncSession, draft: CaseDraft, actor: str) -> Case:
    """A new case with its first language version, hidden until an editor publishes it.

    Raises RuleError for any value the import would refuse, for a first version in a
    language readers cannot fall back to, and for a slug another case has.
    """
    values: dict[str, Any] = {
        name: check(name, getattr(draft, name))
        for name in (
            "slug",
            "country",
            "locale",
            "name",
            "summary",
            "charges",
            "authority",
            "salutation",
            "authority_address",
            "authority_locale",
            "prison_address",
            "detained_on",
            "accepts_letters",
        )
    }
    if values["locale"] not in BASE_LOCALES:
        raise RuleError("locale", Problem.INVALID)
    if await slug_taken(session, values["slug"]):
        raise RuleError("slug", Problem.TAKEN)
    case = Case(
        slug=values["slug"],
        country=values["country"],
        status=NEW_CASE_STATUS,
        visibility=NEW_CASE_VISIBILITY,
        detained_on=values["detained_on"],
        accepts_letters=values["accepts_letters"],
        authority_locale=values["authority_locale"],
        authority_address=values["authority_address"],
        prison_address=values["prison_address"],
        search_key=search_key([values["name"]], values["slug"]),
    )
    session.add(case)
    await session.flush()
    assert case.id is not None
    session.add(
        CaseText(
            case_id=case.id,
            locale=values["locale"],
            name=values["name"],
            summary=values["summary"],
            charges=values["charges"],
            authority=values["authority"],
            salutation=values["salutation"],
        )
    )
    await session.flush()
    await staff.audit(session, actor, "case.create", f"case:{case.slug}")
    return case


async def set_field(session: AsyncSession, case: Case, field: str, value: Any, actor: str) -> bool:
    """Change one field of the case itself (not its country, slug or status).

    `value` is as typed (a date as YYYY-MM-DD); None empties an optional field.
    True if something changed; RuleError if the value is not allowed.
    """
    if field not in CASE_FIELDS:
        raise RuleError(field, Problem.INVALID)
    clean = check(field, value)
    old = getattr(case, field)
    if old == clean:
        return False
    setattr(case, field, clean)
    await _changed(session, case, actor, "case.edit")
    if field == "prison_address":
        await transfers.announce(session, case, old)
    return True


async def set_text(
    session: AsyncSession, case: Case, locale: str, field: str, value: str | None, actor: str
) -> bool:
    """Change one field of one language version; a new name is found by search at once.

    True if something changed; RuleError if the value is not allowed or the case has
    no version in that language.
    """
    if field not in TEXT_FIELDS:
        raise RuleError(field, Problem.INVALID)
    assert case.id is not None
    text = (await cases.texts_for(session, case.id)).get(locale)
    if text is None:
        raise RuleError("locale", Problem.INVALID)
    clean = check(field, value)
    if getattr(text, field) == clean:
        return False
    setattr(text, field, clean)
    if field == "name":
        await _refresh_search_key(session, case)
    await _changed(session, case, actor, "case.edit")
    return True


async def add_language(
    session: AsyncSession,
    case: Case,
    locale: str,
    values: Mapping[str, str | None],
    actor: str,
) -> CaseText:
    """A new language version of a case; its name is found by search at once.

    RuleError if the language is unknown or already there, or a value is not allowed.
    """
    assert case.id is not None
    locale = str(check("locale", locale))
    if locale in await cases.texts_for(session, case.id):
        raise RuleError("locale", Problem.EXISTS)
    clean = {name: check(name, values.get(name)) for name in TEXT_FIELDS}
    text = CaseText(case_id=case.id, locale=locale, **clean)
    session.add(text)
    await session.flush()
    await _refresh_search_key(session, case)
    await _changed(session, case, actor, "case.edit")
    return text


async def set_photo(session: AsyncSession, case: Case, file_id: str | None, actor: str) -> bool:
    """Attach a photo (a Telegram file id uploaded to this bot) or, with None, remove it."""
    if file_id is not None and not file_id.strip():
        raise RuleError("photo", Problem.REQUIRED)
    if file_id is not None and len(file_id) > PHOTO_ID_LIMIT:
        raise RuleError("photo", Problem.TOO_LONG, PHOTO_ID_LIMIT)
    if case.photo == file_id:
        return False
    case.photo = file_id
    await _changed(session, case, actor, "case.photo")
    return True


async def set_visibility(session: AsyncSession, case: Case, visibility: str, actor: str) -> bool:
    """Publish, hide or archive a case; only public cases are shown to supporters."""
    if visibility not in {v.value for v in Visibility}:
        raise RuleError("visibility", Problem.INVALID)
    if case.visibility == visibility:
        return False
    case.visibility = Visibility(visibility)
    await _changed(session, case, actor, "case.visibility")
    return True
