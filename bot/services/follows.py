"""Following and unfollowing cases."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import DEFAULT_TIMEZONES
from bot.services import cases, preferences
from db.models import Person
from db.repositories import follows as repo


class FollowResult(Enum):
    FOLLOWED = "followed"
    ALREADY = "already"
    UNFOLLOWED = "unfollowed"
    NOT_FOLLOWING = "not_following"
    NO_CASE = "no_case"


async def follow(session: AsyncSession, person: Person, case_id: int) -> FollowResult:
    """Follow a visible case; pressing twice is harmless."""
    if person.id is None or await cases.visible_case(session, case_id) is None:
        return FollowResult.NO_CASE
    added = await repo.add(session, person.id, case_id)
    return FollowResult.FOLLOWED if added else FollowResult.ALREADY


async def adopt_zone(session: AsyncSession, person: Person, case_id: int) -> str | None:
    """On a person's first follow, take the zone of the case's courts if theirs is still
    the one their language gave them and it is outside the region (Russian readers began
    on Moscow time, English ones on UTC): a reader in Tashkent would see hearings three
    hours off. Returns the new zone, to tell them (they can change it in /settings)."""
    if person.id is None or person.timezone != DEFAULT_TIMEZONES.get(person.locale, "UTC"):
        return None
    if person.timezone in cases.COURT_TIMEZONES.values():
        return None
    if len(await repo.cases_of(session, person.id)) != 1:
        return None
    case = await cases.visible_case(session, case_id)
    zone = cases.COURT_TIMEZONES.get(case.country) if case is not None else None
    if zone is None or not await preferences.set_timezone(session, person, zone):
        return None
    return zone


async def unfollow(session: AsyncSession, person: Person | None, case_id: int) -> FollowResult:
    """Stop following; a hidden case can still be unfollowed."""
    if person is None or person.id is None:
        return FollowResult.NOT_FOLLOWING
    removed = await repo.remove(session, person.id, case_id)
    return FollowResult.UNFOLLOWED if removed else FollowResult.NOT_FOLLOWING


async def followed(
    session: AsyncSession, person: Person | None, chain: Sequence[str]
) -> list[cases.CaseSummary]:
    """The cases a person follows, in their language."""
    if person is None or person.id is None:
        return []
    return await cases.summaries(session, await repo.cases_of(session, person.id), chain)
