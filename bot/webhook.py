"""The webhook endpoint: only Telegram's updates, and nothing of a refused one in the logs.

aiogram's handler compares the secret header as text, so a header with characters
outside ASCII raised (a 500 with a traceback), and it parses and validates the update in
a background task, whose failure logged the update's content. Here the secret is
compared as bytes in constant time, and an update that is not JSON, or not an update,
gets a 400 and one line without its content.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name


class GuardedRequestHandler(SimpleRequestHandler):
    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return False  # the bot never runs a webhook without a secret
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self.secret_token.encode())

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            raw = bot.session.json_loads(await request.text())
            update = Update.model_validate(raw, context={"bot": bot})
        except (ValueError, ValidationError, UnicodeDecodeError, RecursionError) as exc:
            # ValidationError is a ValueError; its text quotes the input, so only its kind.
            # RecursionError: JSON nested deeper than the parser goes ("[[[[...").
            log.warning("webhook: refused a request that is not an update (%s)", type(exc).__name__)
            return web.Response(body="Bad Request", status=400)
        task = asyncio.create_task(self._feed(bot, update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({}, dumps=bot.session.json_dumps)

    async def _feed(self, bot: Bot, update: Update) -> None:
        result: Any = await self.dispatcher.feed_update(bot, update, **self.data)
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(bot=bot, result=result)
