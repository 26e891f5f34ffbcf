"""One scheduler among several instances: the holder of a PostgreSQL advisory lock.

Planning jobs are idempotent, so two planners would do no harm, only double work; still,
one leader keeps the load and the logs tidy. The lock is held by an open connection and
ends with it, so a crashed leader is replaced by the next instance that tries. On SQLite
there is one process by design, and it leads.

A leader whose connection drops loses the lock at that moment, on the server's side,
without being told. So the leader asks its connection every `check_every` seconds and
stops planning when it gets no answer; and a new leader waits `grace` (longer than that)
before it starts, so that the former leader has stopped by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LEADER_LOCK = 0x756D6964 + 1

log = logging.getLogger(__name__)


class Leadership:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        check_every: float = 5.0,
        retry_every: float = 15.0,
        grace: float | None = None,
    ) -> None:
        self.engine = engine
        self.check_every = check_every
        self.retry_every = retry_every
        # Two checks and a margin: a former leader notices within one check (or its
        # timeout) and stops.
        self.grace = 2 * check_every + 1 if grace is None else grace
        self._conn: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        """Whether other instances may compete for the lead (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        return self._conn is not None or not self.shared

    async def try_acquire(self) -> bool:
        """Take the lead if nobody holds it; True if this instance leads now."""
        if self.held:
            return True
        try:
            conn = await self.engine.connect()
        except Exception:
            log.warning("leadership: the database cannot be reached")
            return False
        try:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK})
            await conn.commit()
        except Exception:
            await _close(conn)
            return False
        if got:
            self._conn = conn
            return True
        await _close(conn)
        return False

    async def alive(self) -> bool:
        """Whether the lead is still held: the connection holding the lock answers within
        `check_every` seconds. A lead found lost is given up here."""
        if not self.shared:
            return True
        conn = self._conn
        if conn is None:
            return False
        try:
            async with asyncio.timeout(self.check_every):
                await conn.scalar(text("SELECT 1"))
                await conn.commit()
            return True
        except Exception:
            self._conn = None
            # Discarded, not returned to the pool: it is broken, or hangs.
            with contextlib.suppress(Exception):
                await conn.invalidate()
            await _close(conn)
            return False

    async def run(self, stop: asyncio.Event, plan: Callable[[bool], None]) -> None:
        """Until `stop`: take the lead when it is free, `plan(True)` while it is held and
        `plan(False)` the moment it is found lost."""
        while not stop.is_set():
            if not await self.try_acquire():
                await _wait(stop, self.retry_every)
                continue
            if self.shared:
                # A former leader that lost its connection stops within a check: wait it out.
                await _wait(stop, self.grace)
                if stop.is_set():
                    return
            plan(True)
            log.info("this instance leads: the scheduler runs here")
            while not stop.is_set() and await self.alive():
                await _wait(stop, self.check_every)
            plan(False)
            if not stop.is_set():
                log.warning("the lead was lost with its database connection; scheduler paused")

    async def release(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        with contextlib.suppress(Exception):
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
        await _close(conn)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _close(conn: AsyncConnection) -> None:
    # A connection the server has dropped may fail to close cleanly; it is gone either way.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            await conn.close()
