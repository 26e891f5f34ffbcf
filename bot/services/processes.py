"""Which bot and worker processes are running: each says so every BEAT, so that work
that must not run beside them (a rotation of DATA_KEY) can refuse to start."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import processes as repo
from db.types import utcnow

BEAT = dt.timedelta(seconds=10)
# Three beats missed: the process is gone (killed, or its machine is).
GONE_AFTER = 3 * BEAT


def new_id() -> str:
    """A random name for this process: nothing about the machine or the people."""
    return secrets.token_hex(8)


async def beat(session: AsyncSession, process_id: str) -> None:
    """The process is alive now."""
    await repo.beat(session, process_id, utcnow())


async def leave(session: AsyncSession, process_id: str) -> None:
    """The process stops cleanly: it no longer counts as running."""
    await repo.leave(session, process_id)


async def running(session: AsyncSession, now: dt.datetime | None = None) -> int:
    """How many processes said they were alive within GONE_AFTER."""
    return await repo.seen_since(session, (now or utcnow()) - GONE_AFTER)
