"""The send budget on the bot's HTTP session: every request that sends or edits waits
for its turn, and a 429 pauses everyone instead of dropping the message.

The interactive bot waits in the interactive lane: a reply waits its turn, is tried again
after a flood wait, and is given up only after its deadline, logged and counted. The
delivery engine's bot waits in the bulk lane; its worker reserves the slot itself (it
must re-check its lease in between) and sends inside `prepaced()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter

from bot.pacing.budget import ReplyLost, SendBudget
from bot.pacing.gcra import Lane

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

_prepaced: ContextVar[bool] = ContextVar("umid_prepaced", default=False)


@contextlib.contextmanager
def prepaced() -> Iterator[None]:
    """Requests made inside already hold their slot from the budget."""
    token = _prepaced.set(True)
    try:
        yield
    finally:
        _prepaced.reset(token)


def is_paced(method: TelegramMethod[Any]) -> bool:
    """Whether Telegram counts the method against the flood limits: messages and edits."""
    name = method.__api_method__
    if name == "sendChatAction":
        return False
    return name.startswith(("send", "edit", "copy", "forward")) or name == "stopPoll"


def chat_of(method: TelegramMethod[Any]) -> int | None:
    chat = getattr(method, "chat_id", None)
    return chat if isinstance(chat, int) else None


class PacedRequests(BaseRequestMiddleware):
    def __init__(self, budget: SendBudget, lane: Lane, *, deadline: float = 60.0) -> None:
        self.budget = budget
        self.lane = lane
        self.deadline = deadline

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not is_paced(method):
            return await make_request(bot, method)
        if _prepaced.get():
            return await self._once(make_request, bot, method)
        chat = chat_of(method)
        if self.lane is Lane.BULK:
            await self.budget.bulk(chat, wait_for_chat=True)
            return await self._once(make_request, bot, method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline
        while True:
            try:
                await self.budget.interactive(chat, deadline=deadline)
            except ReplyLost:
                log.error(
                    "reply lost: %s found no send slot within %.0f s",
                    method.__api_method__,
                    self.deadline,
                )
                raise
            try:
                await self.budget.leave()
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                # Everyone pauses; this reply keeps its place and goes after the pause.
                await self.budget.pause(exc.retry_after)
                log.info("%s met a flood wait of %d s", method.__api_method__, exc.retry_after)

    async def _once(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            await self.budget.leave(paid=bool(getattr(method, "allow_paid_broadcast", False)))
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            await self.budget.pause(exc.retry_after)
            raise
