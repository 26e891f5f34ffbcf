"""Following and unfollowing cases."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases
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
