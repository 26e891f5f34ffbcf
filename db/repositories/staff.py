"""Staff roles and the audit log (invitations: db/repositories/invites.py)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import AuditEntry, StaffMember, StaffRole


async def role_of(session: AsyncSession, person_id: int) -> str | None:
    member = await session.get(StaffMember, person_id)
    return member.role if member else None


async def set_role(session: AsyncSession, person_id: int, role: str) -> None:
    member = await session.get(StaffMember, person_id)
    if member is None:
        session.add(StaffMember(person_id=person_id, role=StaffRole(role)))
    else:
        member.role = StaffRole(role)
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
