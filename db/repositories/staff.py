"""Staff roles and the audit log (invitations: db/repositories/invites.py)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
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


async def lock_admins(session: AsyncSession) -> None:
    """PostgreSQL: lock every admin's row until the transaction ends, always in the same
    order, so that changes which count the admins take turns instead of each counting
    before the other commits. SQLite renders no FOR UPDATE; its writers take turns anyway."""
    await session.execute(
        select(col(StaffMember.person_id))
        .where(col(StaffMember.role) == StaffRole.ADMIN)
        .order_by(col(StaffMember.person_id))
        .with_for_update()
    )


async def remove_unless_last_admin(session: AsyncSession, person_id: int) -> str | None:
    """Take the person's role away unless they are the only admin; the role they had, or
    None (no role, or the last admin). The count is part of the DELETE, so it is read
    when the row goes, not at some earlier SELECT that another revoke may have outdated."""
    admins = aliased(StaffMember, name="admins")
    admin_count = (
        select(func.count())
        .select_from(admins)
        .where(col(admins.role) == StaffRole.ADMIN)
        .scalar_subquery()
    )
    result = await session.execute(
        delete(StaffMember)
        .where(
            col(StaffMember.person_id) == person_id,
            (col(StaffMember.role) != StaffRole.ADMIN) | (admin_count > 1),
        )
        .returning(col(StaffMember.role))
        # The session forgets the deleted row (its identity map would still say "staff").
        .execution_options(synchronize_session="fetch")
    )
    role = result.scalar_one_or_none()
    return None if role is None else str(role)


async def ids(session: AsyncSession) -> list[int]:
    """Every staff member's person id, as the table has it now."""
    return list((await session.execute(select(col(StaffMember.person_id)))).scalars())


async def role_for_share(session: AsyncSession, person_id: int) -> str | None:
    """The person's role as the table has it now (not the session's copy of the row). On
    PostgreSQL the row stays share-locked until the transaction ends: a revoke or a role
    change of this person waits for it, and then sees what this transaction wrote."""
    role = await session.scalar(
        select(col(StaffMember.role))
        .where(col(StaffMember.person_id) == person_id)
        .with_for_update(read=True)
    )
    return None if role is None else str(role)


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
