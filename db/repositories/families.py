"""Family members and failed join attempts (invitations: db/repositories/invites.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import delete, false, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import FamilyMember, JoinAttempt
from db.repositories.upsert import insert_ignore


async def add_member(session: AsyncSession, person_id: int, case_id: int) -> bool:
    """True if the person joined now; False if they were a member of the case already."""
    return await insert_ignore(
        session,
        FamilyMember,
        {"person_id": person_id, "case_id": case_id},
        ["person_id", "case_id"],
    )


async def member_ids(session: AsyncSession, case_id: int) -> list[int]:
    """Every member of the case's family, reachable or not (staff manage them all)."""
    rows = await session.execute(
        select(col(FamilyMember.person_id)).where(col(FamilyMember.case_id) == case_id)
    )
    return list(rows.scalars())


async def remove_member(session: AsyncSession, person_id: int, case_id: int) -> bool:
    result = await session.execute(
        delete(FamilyMember).where(
            col(FamilyMember.person_id) == person_id, col(FamilyMember.case_id) == case_id
        )
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def lock_attempts(session: AsyncSession, who: bytes) -> None:
    """Hold one sender's check-and-record to itself until the transaction ends, so that
    codes sent at once are checked one after another against the limit."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(who[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))
    else:
        # SQLite: a write statement takes the database's write lock at once and holds it
        # to the end of the transaction; another sender's check waits for it.
        await session.execute(update(JoinAttempt).where(false()).values(at=col(JoinAttempt.at)))


async def failures_since(session: AsyncSession, who: bytes, since: dt.datetime) -> int:
    rows = await session.execute(
        select(func.count()).where(col(JoinAttempt.who) == who, col(JoinAttempt.at) > since)
    )
    return int(rows.scalar_one())


async def add_failure(session: AsyncSession, who: bytes, at: dt.datetime) -> None:
    session.add(JoinAttempt(who=who, at=at))
    await session.flush()


async def delete_failures_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    result = await session.execute(delete(JoinAttempt).where(col(JoinAttempt.at) < cutoff))
    return int(cast(CursorResult[Any], result).rowcount or 0)
