"""One database session per update, committed before the bot talks to Telegram.

A reply can wait on Telegram for seconds (a flood wait, a retry); holding SQLite's write
lock meanwhile would stall every other update. So the update's session is kept in a
context variable, and a request middleware on the Bot commits it before any call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session = self.sessionmaker()
        data["session"] = session
        token = current_session.set(session)
        try:
            result = await handler(event, data)
            if session.in_transaction():
                await session.commit()
            return result
        finally:
            current_session.reset(token)
            # A session holds a connection only within a transaction. Without one (nothing
            # read, or all committed) closing would give nothing back: it would only
            # detach the session's objects, in a task of its own, on every update. With
            # one (the handler failed), closing rolls it back; `async with` shields that
            # from a cancelled update, as SQLAlchemy's own context manager does.
            if session.in_transaction():
                async with session:
                    pass


current_session: ContextVar[AsyncSession | None] = ContextVar("umid_session", default=None)


class CommitBeforeRequest(BaseRequestMiddleware):
    """Commit the current update's work before a Bot API call, so that what the person is
    told ("saved", "counted") is already true, and no lock is held while waiting."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = current_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        return await make_request(bot, method)
