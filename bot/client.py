"""The Bot API client: a Bot on an HTTP session with the request middlewares it needs.

Apart from the application wiring (bot/app.py), so that the delivery engine and the
command line get a Bot without importing every router.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import LinkPreviewOptions

from bot.crypto import IdentityCipher
from bot.middlewares.db import CommitBeforeRequest
from bot.middlewares.sent import RememberSent
from bot.pacing import Lane, PacedRequests, SendBudget, build_budget
from bot.retry import RetryMiddleware
from config import Settings


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
    session = AiohttpSession(api=server)
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
