"""Remember the messages of each update's private chat, for the panic command.

The ids (the person's message and the bot's answers) are gathered while the update is
handled, and at its end handed to the process's SentBatch, which writes what all updates
gathered in one statement every few milliseconds (a group commit). Writing at the end of
each update cost a write transaction per update, read-only ones included, and SQLite has
one writer: under load every update queued for the others' locks.

What a crash can lose: the ids of the last BATCH_DELAY's messages, which the panic
command then cannot delete (the person can still delete them by hand, and Telegram
shows no one else a private chat). A reply is never held back for the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.types import Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import IdentityCipher
from bot.services import panic

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

BATCH_DELAY = 0.02
# Ids a database outage may hold in memory; beyond it the oldest are given up.
BATCH_LIMIT = 100_000
RETRY_DELAY = 1.0

# (keyed chat index, message id) seen during the current update.
_pending: ContextVar[list[tuple[bytes, int]] | None] = ContextVar("umid_sent", default=None)


def note(chat_index: bytes, message_id: int) -> None:
    """Remember a message of the current update (nothing outside an update)."""
    pending = _pending.get()
    if pending is not None:
        pending.append((chat_index, message_id))


def discard(chat_index: bytes) -> None:
    """Forget what the current update gathered for a chat (it has just been cleared)."""
    pending = _pending.get()
    if pending is not None:
        pending[:] = [item for item in pending if item[0] != chat_index]


class SentBatch:
    """Writes the message ids every update of this process gathered, together.

    `flush()` writes what is pending now (the panic command and /forget, through
    `flush_after`); `close()` at shutdown. A failed write is kept and tried again a second later.
    """

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, delay: float = BATCH_DELAY
    ) -> None:
        self.sessionmaker = sessionmaker
        self.delay = delay
        self._pending: list[tuple[bytes, int]] = []
        self._lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, messages: list[tuple[bytes, int]]) -> None:
        """Queue ids for the next write, which starts within `delay`."""
        self._pending.extend(messages)
        if len(self._pending) > BATCH_LIMIT:
            log.warning(
                "panic memory: %d message ids given up while the database could not be written",
                len(self._pending) - BATCH_LIMIT,
            )
            del self._pending[:-BATCH_LIMIT]
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        while self._pending:
            await asyncio.sleep(RETRY_DELAY if self._failing else self.delay)
            await self.flush()

    async def flush(self) -> None:
        """Write everything queued now; returns once it is in the database, or has failed
        and is queued again."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            try:
                async with self.sessionmaker() as session:
                    await panic.remember_many(session, batch)
                    await session.commit()
            except Exception as exc:  # the database is away: keep them for the next try
                if not self._failing:
                    log.warning(
                        "panic memory: could not write message ids (%s)", type(exc).__name__
                    )
                self._failing = True
                self._pending[:0] = batch
                return
            if self._failing:
                log.info("panic memory: writing message ids again")
            self._failing = False

    async def flush_after(self, session: AsyncSession) -> None:
        """Commit `session`, then write what is queued: before the panic command reads a
        chat's ids, and before /forget deletes them, so that none is still on its way.
        The commit comes first because on SQLite the session may hold the write lock the
        batch needs."""
        await session.commit()
        await self.flush()

    async def close(self) -> None:
        """Write what is left (once; a failure is logged) and stop the timer."""
        await self.flush()
        # No await between the write and this: the timer is asleep or waiting for the
        # lock, never half-way through a write.
        writer, self._writer = self._writer, None
        if writer is not None and not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer


class SentLog(BaseMiddleware):
    """Gathers the update's message ids and hands them to the batch at its end."""

    def __init__(self, batch: SentBatch) -> None:
        self.batch = batch

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        pending: list[tuple[bytes, int]] = []
        token = _pending.set(pending)
        try:
            return await handler(event, data)
        finally:
            _pending.reset(token)
            if pending:
                self.batch.add(pending)


class RememberSent(BaseRequestMiddleware):
    """Notes every message the bot sends in a private chat during an update; the outbox
    keeps the alerts' own ids."""

    def __init__(self, cipher: IdentityCipher) -> None:
        self.cipher = cipher

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        # What comes back through the chain is the method's result itself (a Message).
        result = await make_request(bot, method)
        if (
            isinstance(result, Message)
            and method.__api_method__.startswith("send")
            and result.chat.type == "private"
        ):
            note(self.cipher.index(result.chat.id), result.message_id)
        return result
