"""Broadcasts, their language versions, their audiences and their outbox rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import (
    Audience,
    Broadcast,
    BroadcastStatus,
    BroadcastVersion,
    Case,
    Delivery,
    DeliveryState,
    FamilyMember,
    Follow,
    Person,
    StaffMember,
    Visibility,
)


def _audience(audience: str, value: str) -> Select[Any]:
    """Active people in an audience, each once, as a query of person ids."""
    active = col(Person.active).is_(True)
    if audience == Audience.ALL:
        return select(col(Person.id)).where(active)
    if audience == Audience.LANGUAGE:
        return select(col(Person.id)).where(active, col(Person.locale) == value)
    if audience == Audience.FAMILY:
        return (
            select(col(FamilyMember.person_id))
            .join(Person, col(Person.id) == col(FamilyMember.person_id))
            .where(active, col(FamilyMember.case_id) == int(value or 0))
        )
    follows = (
        select(col(Follow.person_id))
        .join(Person, col(Person.id) == col(Follow.person_id))
        .where(active)
        .distinct()
    )
    if audience == Audience.CASES:
        ids = [int(part) for part in value.split(",") if part]
        return follows.where(col(Follow.case_id).in_(ids))
    if audience == Audience.COUNTRY:
        return follows.join(Case, col(Case.id) == col(Follow.case_id)).where(
            col(Case.country) == value, col(Case.visibility) == Visibility.PUBLIC
        )
    raise ValueError(f"unknown audience {audience!r}")


async def audience_ids(session: AsyncSession, audience: str, value: str) -> list[int]:
    return [int(i) for i in (await session.execute(_audience(audience, value))).scalars()]


async def audience_size(session: AsyncSession, audience: str, value: str) -> int:
    inner = _audience(audience, value).subquery()
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


async def discreet_size(session: AsyncSession, audience: str, value: str) -> int:
    """How many of the audience read the bot in discreet mode."""
    inner = _audience(audience, value).subquery()
    query = (
        select(func.count())
        .select_from(inner)
        .join(Person, col(Person.id) == inner.c[0])
        .where(col(Person.discreet).is_(True))
    )
    return int((await session.execute(query)).scalar_one())


async def add(
    session: AsyncSession, broadcast: Broadcast, versions: dict[str, tuple[str, str]]
) -> Broadcast:
    """Store a broadcast with its versions: locale -> (HTML text, buttons as JSON)."""
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    for locale, (text, buttons) in versions.items():
        session.add(
            BroadcastVersion(broadcast_id=broadcast.id, locale=locale, text=text, buttons=buttons)
        )
    await session.flush()
    return broadcast


async def versions(session: AsyncSession, broadcast_id: int) -> dict[str, BroadcastVersion]:
    rows = await session.execute(
        select(BroadcastVersion).where(col(BroadcastVersion.broadcast_id) == broadcast_id)
    )
    return {v.locale: v for v in rows.scalars()}


async def transition(
    session: AsyncSession,
    broadcast_id: int,
    from_: Sequence[BroadcastStatus],
    to: BroadcastStatus,
    **fields: Any,
) -> bool:
    """Move a broadcast to `to` (writing `fields` with it) only if it is in one of
    `from_` now; whether it moved.

    The check and the write are one statement, so two changes of one broadcast cannot
    both pass the check. Made the first write of a transaction, it also orders what
    follows: SQLite takes its write lock here, and PostgreSQL holds the row lock (a
    second UPDATE waits for it, then checks its WHERE against the committed row)."""
    result = await session.execute(
        update(Broadcast)
        .where(
            col(Broadcast.id) == broadcast_id,
            col(Broadcast.status).in_([s.value for s in from_]),
        )
        .values(status=to.value, **fields)
        .returning(col(Broadcast.id))
        # The ORM must not copy the values into a loaded Broadcast by evaluating the WHERE
        # against it: a stale copy would "match" when the row did not. Callers refresh.
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def with_status(
    session: AsyncSession, statuses: Sequence[BroadcastStatus], limit: int = 20
) -> list[Broadcast]:
    rows = await session.execute(
        select(Broadcast)
        .where(col(Broadcast.status).in_([s.value for s in statuses]))
        .order_by(col(Broadcast.send_at), col(Broadcast.id))
        .limit(limit)
    )
    return list(rows.scalars())


async def claim_due(session: AsyncSession, now: dt.datetime) -> list[Broadcast]:
    """Scheduled broadcasts whose moment has come, moved to sending in one statement, so
    that a cancel committed before it is seen (the broadcast is no longer scheduled) and
    one after it finds the broadcast sending (and stops what was queued). A second
    planner's UPDATE waits for the row and then finds nothing to claim."""
    due = (
        col(Broadcast.status) == BroadcastStatus.SCHEDULED.value,
        col(Broadcast.send_at) <= now,
    )
    # Most ticks find nothing due. Asking first keeps them from taking SQLite's write lock
    # (and from waiting for whoever holds it) every few seconds; the UPDATE below is still
    # what decides, so a cancel committed after this read is not overridden.
    if (await session.execute(select(col(Broadcast.id)).where(*due).limit(1))).first() is None:
        return []
    claimed = await session.execute(
        update(Broadcast)
        .where(*due)
        .values(status=BroadcastStatus.SENDING.value)
        .returning(col(Broadcast.id))
        .execution_options(synchronize_session=False)
    )
    ids = list(claimed.scalars())
    if not ids:
        return []
    rows = await session.execute(
        select(Broadcast)
        .where(col(Broadcast.id).in_(ids))
        .order_by(col(Broadcast.send_at), col(Broadcast.id))
        # A copy already in the session would still say "scheduled".
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def approver_ids(
    session: AsyncSession, roles: Sequence[str], exclude: int | None
) -> list[int]:
    """Active staff with one of `roles`, except the author."""
    q = (
        select(col(StaffMember.person_id))
        .join(Person, col(Person.id) == col(StaffMember.person_id))
        .where(col(StaffMember.role).in_(list(roles)), col(Person.active).is_(True))
    )
    if exclude is not None:
        q = q.where(col(StaffMember.person_id) != exclude)
    return [int(i) for i in (await session.execute(q)).scalars()]


def batch_of(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


async def _move(
    session: AsyncSession, batch: str, states: Sequence[DeliveryState], **values: Any
) -> int:
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.batch) == batch, col(Delivery.state).in_([s.value for s in states]))
        .values(**values)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def pause_deliveries(session: AsyncSession, batch: str) -> int:
    """Unsent rows wait; rows already claimed by a worker finish (the in-flight bound)."""
    return await _move(session, batch, [DeliveryState.PENDING], state=DeliveryState.PAUSED)


async def resume_deliveries(session: AsyncSession, batch: str, now: dt.datetime) -> int:
    return await _move(
        session,
        batch,
        [DeliveryState.PAUSED],
        state=DeliveryState.PENDING,
        next_attempt_at=now,
    )


async def cancel_deliveries(session: AsyncSession, batch: str) -> int:
    return await _move(
        session,
        batch,
        [DeliveryState.PENDING, DeliveryState.PAUSED, DeliveryState.HELD],
        state=DeliveryState.SKIPPED,
        last_error="cancelled",
    )


async def outcome(session: AsyncSession, batch: str) -> dict[tuple[str, str], int]:
    """Deliveries of a batch by (state, error code): what a final report is made of."""
    rows = await session.execute(
        select(col(Delivery.state), col(Delivery.last_error), func.count())
        .where(col(Delivery.batch) == batch)
        .group_by(col(Delivery.state), col(Delivery.last_error))
    )
    out: dict[tuple[str, str], int] = {}
    for state, error, n in rows.all():
        key = (state, error or "")
        out[key] = out.get(key, 0) + int(n)
    return out


async def by_id(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)
