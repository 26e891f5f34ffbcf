"""`python -m bot worker`: the delivery engine alone, in a process of its own.

Imports no router: the worker needs the presentation layer, not the dispatcher."""

from __future__ import annotations

import asyncio

from bot import heap
from bot.delivery.engine import DeliveryEngine
from bot.health import Health
from bot.i18n import make_i18n
from bot.metrics import Metrics
from bot.pacing import build_budget
from bot.presentation.screens import delivery_screens
from bot.storage import prepare
from config import Settings


async def run_worker(settings: Settings, *, with_scheduler: bool = True) -> None:
    """Only the delivery engine, until interrupted; health and metrics on HEALTH_PORT."""
    storage = await prepare(settings)
    budget = build_budget(settings)
    metrics = Metrics()
    engine = DeliveryEngine.build(
        settings,
        storage,
        make_i18n(settings.default_locale),
        delivery_screens,
        budget=budget,
        metrics=metrics,
    )
    health = Health(storage, metrics, bot=engine.bot, redis_url=settings.redis_url)
    served = (
        await health.serve(settings.health_host, settings.health_port)
        if settings.health_port
        else None
    )
    await engine.start(with_scheduler=with_scheduler)
    heap.settle()
    try:
        await asyncio.Event().wait()
    finally:
        if served is not None:
            await served.cleanup()
        await health.close()
        await engine.stop()
        await budget.close()
        await storage.engine.dispose()
