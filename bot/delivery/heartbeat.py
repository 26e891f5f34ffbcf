"""A running process says so every few seconds (bot/services/processes.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import processes

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.process_id = processes.new_id()

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until `stop` is set; a database that is away for a moment is not fatal."""
        while not stop.is_set():
            try:
                async with self.sessionmaker() as session, session.begin():
                    await processes.beat(session, self.process_id)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("could not record that this process is running: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), processes.BEAT.total_seconds())

    async def leave(self) -> None:
        with contextlib.suppress(SQLAlchemyError, OSError):
            async with self.sessionmaker() as session, session.begin():
                await processes.leave(session, self.process_id)
