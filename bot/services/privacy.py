"""Forgetting a person: every row of theirs, and the bytes with it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import checkpoint
from db.models import Person
from db.repositories import people


async def forget(session: AsyncSession, person: Person | None) -> None:
    """Delete everything the bot holds about the person and commit at once.

    Anonymous counters they contributed to stay. On SQLite secure_delete zeroes the
    freed pages and the WAL is checkpointed and truncated, so no copy lingers on disk.
    """
    if person is None or person.id is None:
        return
    await people.delete_everything(session, person.id)
    await session.commit()
    bind = session.bind
    if isinstance(bind, AsyncEngine):
        await checkpoint(bind)
