"""Single-use invitations, staff and family alike: the two tables share their shape (a
code's hash, an expiry, used, who made it) and every query on them."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import FamilyInvite, StaffInvite

Invite = TypeVar("Invite", StaffInvite, FamilyInvite)
Model = type[StaffInvite] | type[FamilyInvite]
MODELS: tuple[Model, ...] = (StaffInvite, FamilyInvite)


def _valid(model: Model, code_hash: bytes, now: dt.datetime) -> list[ColumnElement[bool]]:
    return [
        col(model.code_hash) == code_hash,
        col(model.used).is_(False),
        col(model.expires_at) > now,
    ]


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def add(session: AsyncSession, invite: StaffInvite | FamilyInvite) -> None:
    session.add(invite)
    await session.flush()


async def peek(
    session: AsyncSession, model: Model, code_hash: bytes, now: dt.datetime, column: Any
) -> Any | None:
    """`column` of a valid (unused, unexpired) invitation, without using it."""
    row = (await session.execute(select(column).where(*_valid(model, code_hash, now)))).first()
    return row[0] if row else None


async def take(
    session: AsyncSession, model: Model, code_hash: bytes, now: dt.datetime, column: Any
) -> Any | None:
    """Use an invitation once: its `column` (a role, a case), or None if unknown, used or
    expired. One UPDATE, so two people racing with the same code cannot both get in."""
    result = await session.execute(
        update(model).where(*_valid(model, code_hash, now)).values(used=True).returning(column)
    )
    row = result.first()
    return row[0] if row else None


async def spend(session: AsyncSession, model: Model, code_hash: bytes, now: dt.datetime) -> bool:
    """Mark one pending invitation used without granting anything; False if it was used,
    cancelled or expired in the meantime."""
    result = await session.execute(
        update(model).where(*_valid(model, code_hash, now)).values(used=True)
    )
    return bool(_count(result))


async def cancel_by(
    session: AsyncSession, created_by: str, models: tuple[Model, ...] = MODELS
) -> int:
    """Spend every pending invitation (of the kinds given: both by default) its creator
    made; how many."""
    cancelled = 0
    for model in models:
        result = await session.execute(
            update(model)
            .where(col(model.created_by) == created_by, col(model.used).is_(False))
            .values(used=True)
        )
        cancelled += _count(result)
    return cancelled


async def pending(session: AsyncSession, model: type[Invite], now: dt.datetime) -> list[Invite]:
    """Every invitation of this kind not used and not expired, the soonest to end first."""
    rows = await session.execute(
        select(model)
        .where(col(model.used).is_(False), col(model.expires_at) > now)
        .order_by(col(model.expires_at), col(model.code_hash))
    )
    return list(rows.scalars())


async def between(
    session: AsyncSession, model: Model, low: bytes, high: bytes | None, limit: int
) -> list[StaffInvite | FamilyInvite]:
    """Invitations, used or not, whose code hash is in [low, high) (no upper bound for
    None): those whose hash starts with a given prefix, found on the primary key."""
    query = select(model).where(col(model.code_hash) >= low)
    if high is not None:
        query = query.where(col(model.code_hash) < high)
    rows = await session.execute(query.order_by(col(model.code_hash)).limit(limit))
    return [row for row in rows.scalars() if isinstance(row, StaffInvite | FamilyInvite)]


async def delete_ended_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Invitations of either kind, used or not, that ran out before `cutoff`; how many."""
    gone = 0
    for model in MODELS:
        gone += _count(await session.execute(delete(model).where(col(model.expires_at) < cutoff)))
    return gone


async def makers(session: AsyncSession) -> set[str]:
    """Everyone who made an invitation still stored, as the short hash it records."""
    found: set[str] = set()
    for model in MODELS:
        found |= set((await session.execute(select(col(model.created_by)).distinct())).scalars())
    return found
