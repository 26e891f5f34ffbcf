"""The stored fingerprint of DATA_KEY."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from db.models import KeyCheck, KeyRotation, Person


async def _has_table(engine: AsyncEngine, name: str) -> bool:
    async with engine.connect() as conn:
        return bool(await conn.run_sync(lambda sync: inspect(sync).has_table(name)))


async def exists(engine: AsyncEngine) -> bool:
    """Whether the database has the table yet (an older schema has not)."""
    return await _has_table(engine, "key_check")


async def rotating(engine: AsyncEngine, session: AsyncSession) -> bool:
    """Whether a rotation of DATA_KEY was begun and not finished."""
    if not await _has_table(engine, "key_rotation"):
        return False
    return await session.get(KeyRotation, 1) is not None


async def some_identities(engine: AsyncEngine, session: AsyncSession, limit: int) -> list[bytes]:
    """A few stored identity ciphertexts, to tell whether a key can read them (none in a
    database not made yet)."""
    if not await _has_table(engine, "people"):
        return []
    rows = await session.execute(
        select(col(Person.tg_cipher)).order_by(col(Person.id)).limit(limit)
    )
    return [bytes(blob) for blob in rows.scalars()]


async def stored(session: AsyncSession) -> bytes | None:
    row = await session.get(KeyCheck, 1)
    return row.fingerprint if row is not None else None


async def store(session: AsyncSession, fingerprint: bytes) -> None:
    session.add(KeyCheck(id=1, fingerprint=fingerprint))
