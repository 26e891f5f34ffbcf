"""Who follows which case."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, delete, select, union
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Case, FamilyMember, Follow, Person, Visibility
from db.repositories.upsert import insert_ignore


async def add(session: AsyncSession, person_id: int, case_id: int) -> bool:
    """True if a new follow was stored; False if it was there already (a double press)."""
    return await insert_ignore(
        session, Follow, {"person_id": person_id, "case_id": case_id}, ["person_id", "case_id"]
    )


async def remove(session: AsyncSession, person_id: int, case_id: int) -> bool:
    result = await session.execute(
        delete(Follow).where(col(Follow.person_id) == person_id, col(Follow.case_id) == case_id)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def cases_of(session: AsyncSession, person_id: int) -> list[Case]:
    rows = await session.execute(
        select(Case)
        .join(Follow, col(Follow.case_id) == col(Case.id))
        .where(col(Follow.person_id) == person_id, col(Case.visibility) == Visibility.PUBLIC)
        .order_by(col(Case.slug))
    )
    return list(rows.scalars())


async def follower_ids(session: AsyncSession, case_id: int) -> list[int]:
    """Active people who follow the case."""
    rows = await session.execute(
        select(col(Follow.person_id))
        .join(Person, col(Person.id) == col(Follow.person_id))
        .where(col(Follow.case_id) == case_id, col(Person.active).is_(True))
    )
    return list(rows.scalars())


async def family_ids(session: AsyncSession, case_id: int) -> list[int]:
    """Active family members of the case."""
    rows = await session.execute(
        select(col(FamilyMember.person_id))
        .join(Person, col(Person.id) == col(FamilyMember.person_id))
        .where(col(FamilyMember.case_id) == case_id, col(Person.active).is_(True))
    )
    return list(rows.scalars())


async def reader_ids(session: AsyncSession, case_id: int) -> list[int]:
    """Everyone a case's alerts go to: active followers and family members, each once."""
    people = union(
        select(col(Follow.person_id).label("pid")).where(col(Follow.case_id) == case_id),
        select(col(FamilyMember.person_id).label("pid")).where(
            col(FamilyMember.case_id) == case_id
        ),
    ).subquery()
    rows = await session.execute(
        select(people.c.pid)
        .join(Person, col(Person.id) == people.c.pid)
        .where(col(Person.active).is_(True))
    )
    return list(rows.scalars())


async def follower_zones(
    session: AsyncSession, case_id: int, *, with_opted_in: bool = False
) -> list[tuple[int, str]]:
    """(person id, time zone) of the case's active followers, and with `with_opted_in`
    of everyone who asked for birthday prompts for every prisoner, each once."""
    followers: Select[Any] = select(col(Follow.person_id).label("pid")).where(
        col(Follow.case_id) == case_id
    )
    people = (
        union(
            followers,
            select(col(Person.id).label("pid")).where(col(Person.birthday_prompts).is_(True)),
        ).subquery()
        if with_opted_in
        else followers.subquery()
    )
    rows = await session.execute(
        select(col(Person.id), col(Person.timezone))
        .join(people, people.c.pid == col(Person.id))
        .where(col(Person.active).is_(True))
    )
    return [(int(pid), str(tz)) for pid, tz in rows.all()]
