"""People: found by keyed index, deleted whole."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import (
    ActionTaken,
    AddressWait,
    Broadcast,
    Delivery,
    FamilyMember,
    Follow,
    LetterAction,
    Person,
    Report,
    SentMessage,
    StaffMember,
    StaffRole,
)
from db.pg_driver import plain_read
from db.repositories.upsert import insert_ignore


async def by_index(session: AsyncSession, tg_index: bytes) -> Person | None:
    result = await session.execute(select(Person).where(col(Person.tg_index) == tg_index))
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


# Built once: building the statement cost as much as running it (every update asks).
_WHO = plain_read(
    select(
        Person,
        col(StaffMember.role),
        exists().where(col(FamilyMember.person_id) == col(Person.id)).label("family"),
    )
    .outerjoin(StaffMember, col(StaffMember.person_id) == col(Person.id))
    .where(col(Person.tg_index) == bindparam("tg_index"))
)


async def who_by_index(
    session: AsyncSession, tg_index: bytes
) -> tuple[Person, StaffRole | None, bool] | None:
    """The person with this index, their staff role and whether they are family of any
    case, in one statement."""
    result = await session.execute(_WHO, {"tg_index": tg_index})
    row = result.one_or_none()
    return (row[0], row[1], bool(row[2])) if row is not None else None


async def add_if_absent(session: AsyncSession, **values: Any) -> bool:
    """Insert a person unless one with this tg_index exists; defaults come from the model."""
    person = Person(**values)
    row = person.model_dump(exclude={"id"})
    return await insert_ignore(session, Person, row, ["tg_index"])


async def reactivate(session: AsyncSession, person: Person) -> None:
    """Someone who had blocked the bot writes again: alerts reach them again."""
    assert person.id is not None
    await set_fields(session, person.id, active=True, inactive_since=None)
    person.active, person.inactive_since = True, None


async def set_fields(session: AsyncSession, person_id: int, **fields: Any) -> None:
    await session.execute(update(Person).where(col(Person.id) == person_id).values(**fields))


async def delete_everything(session: AsyncSession, person_id: int) -> None:
    """Every row that belongs to the person; explicit, so no engine's cascade is relied on."""
    await session.execute(delete(Delivery).where(col(Delivery.person_id) == person_id))
    await session.execute(delete(Follow).where(col(Follow.person_id) == person_id))
    await session.execute(delete(LetterAction).where(col(LetterAction.person_id) == person_id))
    await session.execute(delete(AddressWait).where(col(AddressWait.person_id) == person_id))
    await session.execute(delete(ActionTaken).where(col(ActionTaken.person_id) == person_id))
    await session.execute(delete(FamilyMember).where(col(FamilyMember.person_id) == person_id))
    await session.execute(delete(Report).where(col(Report.person_id) == person_id))
    await session.execute(delete(StaffMember).where(col(StaffMember.person_id) == person_id))
    # A broadcast outlives its author; only the link to the person goes.
    await session.execute(
        update(Broadcast).where(col(Broadcast.author_id) == person_id).values(author_id=None)
    )
    await session.execute(
        delete(SentMessage).where(
            col(SentMessage.chat_index).in_(
                select(col(Person.tg_index)).where(col(Person.id) == person_id)
            )
        )
    )
    await session.execute(delete(Person).where(col(Person.id) == person_id))


async def inactive_before(session: AsyncSession, day: dt.date) -> list[int]:
    rows = await session.execute(
        select(col(Person.id)).where(
            col(Person.active).is_(False), col(Person.inactive_since) < day
        )
    )
    return [i for i in rows.scalars() if i is not None]
