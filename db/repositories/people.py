"""People: found by keyed index, deleted whole."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Follow, LetterAction, Person


async def by_index(session: AsyncSession, tg_index: bytes) -> Person | None:
    result = await session.execute(select(Person).where(col(Person.tg_index) == tg_index))
    return result.scalar_one_or_none()


async def add(session: AsyncSession, person: Person) -> Person:
    session.add(person)
    await session.flush()
    return person


async def set_fields(session: AsyncSession, person_id: int, **fields: Any) -> None:
    await session.execute(update(Person).where(col(Person.id) == person_id).values(**fields))


async def delete_everything(session: AsyncSession, person_id: int) -> None:
    """Every row that belongs to the person; explicit, so no engine's cascade is relied on."""
    await session.execute(delete(Follow).where(col(Follow.person_id) == person_id))
    await session.execute(delete(LetterAction).where(col(LetterAction.person_id) == person_id))
    await session.execute(delete(Person).where(col(Person.id) == person_id))


async def inactive_before(session: AsyncSession, day: dt.date) -> list[int]:
    rows = await session.execute(
        select(col(Person.id)).where(
            col(Person.active).is_(False), col(Person.inactive_since) < day
        )
    )
    return [i for i in rows.scalars() if i is not None]
