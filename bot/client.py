"""The Bot API client: a Bot on an HTTP session with the request middlewares it needs.

Apart from the application wiring (bot/app.py), so that the delivery engine and the
command line get a Bot without importing every router.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods.base import Response
from aiogram.types import LinkPreviewOptions

from bot.crypto import IdentityCipher
from bot.json_session import JsonBodySession
from bot.middlewares.db import CommitBeforeRequest
from bot.middlewares.sent import RememberSent
from bot.pacing import Lane, PacedRequests, SendBudget, build_budget, departure_trace
from bot.retry import RetryMiddleware
from config import Settings

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response as ResponseOf
    from aiogram.methods.base import TelegramType


class KeepResponseModels(BaseRequestMiddleware):
    """Holds on to the response model of every method the bot has called.

    aiogram reads each answer through `Response[returned type]`, a pydantic generic that
    pydantic caches only weakly: after a full garbage collection the class is gone, and
    the next call builds it again, which takes tens of milliseconds on the event loop.
    """

    def __init__(self) -> None:
        self._models: dict[Any, type[Response[Any]]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> ResponseOf[TelegramType]:
        returning = method.__returning__
        if returning not in self._models:
            self._models[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)


def build_bot(
    settings: Settings,
    *,
    budget: SendBudget | None = None,
    lane: Lane = Lane.INTERACTIVE,
    remember: bool = True,
) -> Bot:
    """A Bot that reaches {TELEGRAM_API_URL}/bot{token}/{method}, HTML by default.

    Every message and edit waits for `budget` (pass the process's one budget; a Bot made
    without one gets a budget of its own). The interactive bot retries short trouble and
    remembers what it sends for the panic command; the delivery engine's bot (the bulk
    lane) does neither: its worker retries through the outbox, which keeps those ids.
    """
    server = TelegramAPIServer.from_base(settings.telegram_api_url)
    session = JsonBodySession(api=server, trace_configs=[departure_trace()])
    session.middleware(KeepResponseModels())
    # Outermost first: the update's work is committed before any wait for a slot.
    session.middleware(CommitBeforeRequest())
    if remember and settings.data_key is not None:
        session.middleware(RememberSent(IdentityCipher(settings.key_bytes)))
    if lane is Lane.INTERACTIVE:
        session.middleware(RetryMiddleware())
    session.middleware(
        PacedRequests(
            budget or build_budget(settings), lane, deadline=settings.reply_deadline_seconds
        )
    )
    return Bot(
        token=settings.token,
        session=session,
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
        ),
    )
