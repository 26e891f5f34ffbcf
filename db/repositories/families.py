"""Family invitations, family members and failed join attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import delete, false, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import FamilyInvite, FamilyMember, JoinAttempt
from db.repositories.upsert import insert_ignore


async def add_invite(session: AsyncSession, invite: FamilyInvite) -> None:
    session.add(invite)
    await session.flush()


async def cancel_invites_by(session: AsyncSession, created_by: str) -> int:
    """Spend every pending family invitation its creator made; how many there were."""
    result = await session.execute(
        update(FamilyInvite)
        .where(col(FamilyInvite.created_by) == created_by, col(FamilyInvite.used).is_(False))
        .values(used=True)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def delete_invites_expired_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Invitations, used or not, whose time ran out before `cutoff`; how many went."""
    result = await session.execute(
        delete(FamilyInvite).where(col(FamilyInvite.expires_at) < cutoff)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def pending_invites(session: AsyncSession, now: dt.datetime) -> list[FamilyInvite]:
    """Every family invitation not used and not expired, the soonest to expire first."""
    rows = await session.execute(
        select(FamilyInvite)
        .where(col(FamilyInvite.used).is_(False), col(FamilyInvite.expires_at) > now)
        .order_by(col(FamilyInvite.expires_at), col(FamilyInvite.code_hash))
    )
    return list(rows.scalars())


async def invites_between(
    session: AsyncSession, low: bytes, high: bytes | None, limit: int
) -> list[FamilyInvite]:
    """Family invitations, used or not, whose code hash is in [low, high) (no upper bound
    for None): those whose hash starts with a given prefix, found on the primary key."""
    query = select(FamilyInvite).where(col(FamilyInvite.code_hash) >= low)
    if high is not None:
        query = query.where(col(FamilyInvite.code_hash) < high)
    rows = await session.execute(query.order_by(col(FamilyInvite.code_hash)).limit(limit))
    return list(rows.scalars())


async def spend_invite(session: AsyncSession, code_hash: bytes, now: dt.datetime) -> bool:
    """Mark one pending invitation used without joining anyone; False if it was used,
    cancelled or expired in the meantime."""
    result = await session.execute(
        update(FamilyInvite)
        .where(
            col(FamilyInvite.code_hash) == code_hash,
            col(FamilyInvite.used).is_(False),
            col(FamilyInvite.expires_at) > now,
        )
        .values(used=True)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def take_invite(session: AsyncSession, code_hash: bytes, now: dt.datetime) -> int | None:
    """Use an invitation once: the id of its case, or None if unknown, used or expired.
    One UPDATE, so two people racing with the same code cannot both get in."""
    result = await session.execute(
        update(FamilyInvite)
        .where(
            col(FamilyInvite.code_hash) == code_hash,
            col(FamilyInvite.used).is_(False),
            col(FamilyInvite.expires_at) > now,
        )
        .values(used=True)
        .returning(col(FamilyInvite.case_id))
    )
    row = result.first()
    return int(row[0]) if row else None


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
