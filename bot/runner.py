"""Starting the bot: schema up to date, templates present, commands registered, then updates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot import commands
from bot.app import build_dispatcher
from bot.client import build_bot
from bot.delivery.engine import DeliveryEngine
from bot.health import Health
from bot.i18n import make_i18n
from bot.metrics import Metrics
from bot.pacing import SendBudget, build_budget
from bot.presentation.screens import delivery_screens
from bot.storage import Storage, prepare
from config import ConfigError, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Running:
    """What a started bot is made of, for whoever started it (tests, the sandbox) to watch."""

    bot: Bot
    dispatcher: Dispatcher
    engine: DeliveryEngine
    budget: SendBudget

    @property
    def handling(self) -> int:
        """Updates being handled right now."""
        # aiogram keeps the tasks of updates it handles as tasks in this set.
        return len(getattr(self.dispatcher, "_handle_update_tasks", ()))


async def run(
    settings: Settings,
    *,
    storage: Storage | None = None,
    handle_signals: bool = True,
    started: Callable[[Running], None] | None = None,
) -> None:
    """Run until stopped: long polling, or a webhook server when WEBHOOK_URL is set.

    `started` is called once the parts exist, before the first update."""
    _ = settings.token  # says what to do when it is missing, before any work
    own_storage = storage is None
    storage = storage or await prepare(settings)
    i18n = make_i18n(settings.default_locale)
    # One send budget for the replies and the outbox of this process (in Redis, of all).
    budget = build_budget(settings)
    bot = build_bot(settings, budget=budget)
    metrics = Metrics()
    dp = build_dispatcher(settings, storage, i18n=i18n, metrics=metrics)
    engine = DeliveryEngine.build(
        settings, storage, i18n, delivery_screens, budget=budget, metrics=metrics
    )
    health = Health(storage, metrics, bot=bot, redis_url=settings.redis_url)
    if started is not None:
        started(Running(bot, dp, engine, budget))
    own_port: web.AppRunner | None = None
    try:
        await engine.start()
        await commands.register(bot, i18n)
        if settings.webhook_url:
            await _webhook(bot, dp, settings, health)
        else:
            if settings.health_port:
                own_port = await health.serve(settings.health_host, settings.health_port)
            await bot.delete_webhook(drop_pending_updates=False)
            await _poll(bot, dp, handle_signals)
    finally:
        if own_port is not None:
            await own_port.cleanup()
        await health.close()
        await engine.stop()
        await bot.session.close()
        await budget.close()
        figures = budget.stats
        log.info(
            "send budget: %d replies, %d bulk sends, %d flood pauses, %d late slots, "
            "%d replies lost",
            figures.interactive,
            figures.bulk,
            figures.paused,
            figures.late,
            figures.lost_replies,
        )
        if own_storage:
            await storage.engine.dispose()


async def _poll(bot: Bot, dp: Dispatcher, handle_signals: bool) -> None:
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=handle_signals, close_bot_session=False)
    )
    try:
        await asyncio.shield(polling)
    except asyncio.CancelledError:
        # Cancelling start_polling from outside leaves its polling task running; the
        # dispatcher's own stop signal shuts it down cleanly.
        await dp.stop_polling()
        await polling
        raise


async def _webhook(bot: Bot, dp: Dispatcher, settings: Settings, health: Health) -> None:
    from aiogram.webhook.aiohttp_server import setup_application

    from bot.webhook import GuardedRequestHandler

    if settings.webhook_secret is None or settings.webhook_url is None:
        raise ConfigError("WEBHOOK_SECRET: must be set when WEBHOOK_URL is set")
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()
    # The X-Telegram-Bot-Api-Secret-Token header is compared in constant time.
    handler = GuardedRequestHandler(dispatcher=dp, bot=bot, secret_token=secret)
    handler.register(app, path="/webhook")
    health.add_routes(app)
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    # Behind a proxy, one instance registers the URL they all serve; none deletes it on
    # the way out, or a restarting instance would cut off the others.
    if settings.webhook_register:
        await bot.set_webhook(
            f"{settings.webhook_url.rstrip('/')}/webhook",
            secret_token=secret,
            allowed_updates=dp.resolve_used_update_types(),
        )
    log.info("webhook server on %s:%d", settings.webhook_host, settings.webhook_port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
