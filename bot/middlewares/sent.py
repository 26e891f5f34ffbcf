"""Remember the messages of each update's private chat, for the panic command.

The ids (the person's message and the bot's answers) are gathered while the update is
handled and written in one statement at its end. Writing each as it came opened a write
transaction at the start of every update, read-only ones included, and SQLite has one
writer: under load every update waited for the others' locks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.types import Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.services import panic

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

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


class SentLog(BaseMiddleware):
    """Gathers the update's message ids and writes them at its end, in its own session
    (the database middleware, outside this one, commits it)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        pending: list[tuple[bytes, int]] = []
        token = _pending.set(pending)
        try:
            result = await handler(event, data)
        finally:
            _pending.reset(token)
        session: AsyncSession | None = data.get("session")
        if pending and session is not None:
            await panic.remember_many(session, pending)
        return result


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
