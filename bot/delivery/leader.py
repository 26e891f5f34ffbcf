"""One scheduler among several instances: the holder of a PostgreSQL advisory lock.

Planning jobs are idempotent, so two planners would do no harm, only double work; still,
one leader keeps the load and the logs tidy. The lock is held by an open connection and
ends with it, so a crashed leader is replaced by the next instance that tries. On SQLite
there is one process by design, and it leads.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LEADER_LOCK = 0x756D6964 + 1


class Leadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self.engine.dialect.name != "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lead if nobody holds it; True if this instance leads now."""
        if self.held:
            return True
        conn = await self.engine.connect()
        got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK})
        await conn.commit()
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
        await self._conn.close()
        self._conn = None
