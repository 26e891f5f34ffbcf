"""`python -m bot worker`: the delivery engine alone, in a process of its own.

Imports no router: the worker needs the presentation layer, not the dispatcher."""

from __future__ import annotations

import asyncio

from bot.delivery.engine import DeliveryEngine
from bot.i18n import make_i18n
from bot.pacing import build_budget
from bot.presentation.screens import delivery_screens
from bot.storage import prepare
from config import Settings


async def run_worker(settings: Settings, *, with_scheduler: bool = True) -> None:
    """Only the delivery engine, until interrupted."""
    storage = await prepare(settings)
    budget = build_budget(settings)
    engine = DeliveryEngine.build(
        settings, storage, make_i18n(settings.default_locale), delivery_screens, budget=budget
    )
    await engine.start(with_scheduler=with_scheduler)
    try:
        await asyncio.Event().wait()
    finally:
        await engine.stop()
        await budget.close()
        await storage.engine.dispose()
