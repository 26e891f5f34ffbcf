"""Staff roles, invitations and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import AuditEntry, StaffInvite, StaffMember


async def role_of(session: AsyncSession, person_id: int) -> str | None:
    member = await session.get(StaffMember, person_id)
    return member.role if member else None


async def set_role(session: AsyncSession, person_id: int, role: str) -> None:
    member = await session.get(StaffMember, person_id)
    if member is None:
        session.add(StaffMember(person_id=person_id, role=role))
    else:
        member.role = role
    await session.flush()


async def remove(session: AsyncSession, person_id: int) -> bool:
    result = await session.execute(
        delete(StaffMember).where(col(StaffMember.person_id) == person_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def members(session: AsyncSession) -> list[StaffMember]:
    rows = await session.execute(
        select(StaffMember).order_by(col(StaffMember.role), col(StaffMember.person_id))
    )
    return list(rows.scalars())


async def add_invite(session: AsyncSession, invite: StaffInvite) -> None:
    session.add(invite)
    await session.flush()


async def invite_role(session: AsyncSession, code_hash: bytes, now: dt.datetime) -> str | None:
    """The role a valid (unused, unexpired) invitation grants, without using it."""
    row = await session.execute(
        select(col(StaffInvite.role)).where(
            col(StaffInvite.code_hash) == code_hash,
            col(StaffInvite.used).is_(False),
            col(StaffInvite.expires_at) > now,
        )
    )
    found = row.first()
    return str(found[0]) if found else None


async def cancel_invites_by(session: AsyncSession, created_by: str) -> int:
    """Spend every pending invitation its creator made; how many there were."""
    result = await session.execute(
        update(StaffInvite)
        .where(col(StaffInvite.created_by) == created_by, col(StaffInvite.used).is_(False))
        .values(used=True)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def delete_invites_expired_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Invitations, used or not, whose time ran out before `cutoff`; how many went."""
    result = await session.execute(delete(StaffInvite).where(col(StaffInvite.expires_at) < cutoff))
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def pending_invites(session: AsyncSession, now: dt.datetime) -> list[StaffInvite]:
    """Every invitation not used and not expired, the soonest to expire first."""
    rows = await session.execute(
        select(StaffInvite)
        .where(col(StaffInvite.used).is_(False), col(StaffInvite.expires_at) > now)
        .order_by(col(StaffInvite.expires_at), col(StaffInvite.code_hash))
    )
    return list(rows.scalars())


async def invites_between(
    session: AsyncSession, low: bytes, high: bytes | None, limit: int
) -> list[StaffInvite]:
    """Invitations, used or not, whose code hash is in [low, high) (no upper bound for
    None): those whose hash starts with a given prefix, found on the primary key."""
    query = select(StaffInvite).where(col(StaffInvite.code_hash) >= low)
    if high is not None:
        query = query.where(col(StaffInvite.code_hash) < high)
    rows = await session.execute(query.order_by(col(StaffInvite.code_hash)).limit(limit))
    return list(rows.scalars())


async def spend_invite(session: AsyncSession, code_hash: bytes, now: dt.datetime) -> bool:
    """Mark one pending invitation used without granting anything; False if it was used,
    cancelled or expired in the meantime."""
    result = await session.execute(
        update(StaffInvite)
        .where(
            col(StaffInvite.code_hash) == code_hash,
            col(StaffInvite.used).is_(False),
            col(StaffInvite.expires_at) > now,
        )
        .values(used=True)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def take_invite(session: AsyncSession, code_hash: bytes, now: dt.datetime) -> str | None:
    """Use an invitation once: the role it grants, or None if unknown, used or expired."""
    result = await session.execute(
        update(StaffInvite)
        .where(
            col(StaffInvite.code_hash) == code_hash,
            col(StaffInvite.used).is_(False),
            col(StaffInvite.expires_at) > now,
        )
        .values(used=True)
        .returning(col(StaffInvite.role))
    )
    row = result.first()
    return str(row[0]) if row else None


async def audit(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)


async def audit_recent(session: AsyncSession, limit: int) -> list[AuditEntry]:
    rows = await session.execute(
        select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    )
    return list(rows.scalars())


async def audit_all(session: AsyncSession) -> list[AuditEntry]:
    rows = await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))
    return list(rows.scalars())
