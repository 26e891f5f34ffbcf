"""Letter templates, the once-per-person record of a letter, and anonymous counters."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import LetterAction, LetterCount, LetterTemplate


async def templates(session: AsyncSession, kind: str, locale: str) -> list[LetterTemplate]:
    rows = await session.execute(
        select(LetterTemplate)
        .where(col(LetterTemplate.kind) == kind, col(LetterTemplate.locale) == locale)
        .order_by(col(LetterTemplate.variant))
    )
    return list(rows.scalars())


async def template_keys(session: AsyncSession) -> set[tuple[str, int, str]]:
    rows = await session.execute(
        select(col(LetterTemplate.kind), col(LetterTemplate.variant), col(LetterTemplate.locale))
    )
    return {(k, v, loc) for k, v, loc in rows.all()}


async def has_recorded(session: AsyncSession, person_id: int, case_id: int, kind: str) -> bool:
    return await session.get(LetterAction, (person_id, case_id, kind)) is not None


async def record(
    session: AsyncSession, person_id: int, case_id: int, kind: str, today: dt.date
) -> bool:
    """Record a sent letter once and bump the anonymous daily counter; False if known."""
    if await has_recorded(session, person_id, case_id, kind):
        return False
    try:
        async with session.begin_nested():
            session.add(LetterAction(person_id=person_id, case_id=case_id, kind=kind))
    except IntegrityError:
        return False
    # Update first and insert only if there was no row: the same statements on both engines;
    # a concurrent insert loses the race on the primary key and updates instead.
    if not await _bump(session, case_id, kind, today):
        try:
            async with session.begin_nested():
                session.add(LetterCount(case_id=case_id, kind=kind, day=today, count=1))
        except IntegrityError:
            await _bump(session, case_id, kind, today)
    return True


async def _bump(session: AsyncSession, case_id: int, kind: str, day: dt.date) -> int:
    result = await session.execute(
        update(LetterCount)
        .where(
            col(LetterCount.case_id) == case_id,
            col(LetterCount.kind) == kind,
            col(LetterCount.day) == day,
        )
        .values(count=col(LetterCount.count) + 1)
    )
    return int(cast(CursorResult[Any], result).rowcount)
