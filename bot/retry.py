"""Interactive replies survive short Telegram trouble: a request that meets a 5xx or a
network error is tried again a few times before the handler sees the error.

Flood waits (429) are the send budget's (bot/pacing): it pauses every lane and the reply
keeps its place. Bulk sending does not go through here: the outbox retries it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods import GetUpdates

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, attempts: int = 4, base_delay: float = 0.3) -> None:
        self.attempts = attempts
        self.base_delay = base_delay

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        # The polling loop has its own backoff; retrying getUpdates here would only delay it.
        attempts = 1 if isinstance(method, GetUpdates) else self.attempts
        for attempt in range(1, attempts + 1):
            try:
                return await make_request(bot, method)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if attempt == attempts:
                    raise
                delay = self.base_delay * 2 ** (attempt - 1) * (1 + random.random())
                log.info(
                    "%s failed (%s); retry %d", type(method).__name__, type(exc).__name__, attempt
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
