"""The delivery engine as the running bot holds it: worker, planner and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import build_bot
from bot.crypto import IdentityCipher
from bot.delivery.leader import Leadership
from bot.delivery.monitor import BroadcastMonitor
from bot.delivery.worker import DeliveryWorker, RendererBySpec, WorkerConfig
from bot.pacing import Lane, SendBudget, build_budget
from bot.scheduler import Planner, build_scheduler
from bot.storage import Storage
from config import Settings
from handlers.alert_views import AlertRenderer
from handlers.broadcast_views import BroadcastRenderer, progress_message
from handlers.family_views import KINDS as FAMILY_KINDS
from handlers.family_views import FamilyRenderer
from handlers.prompt_views import KINDS as PROMPT_KINDS
from handlers.prompt_views import PromptRenderer


@dataclass
class DeliveryEngine:
    bot: Bot
    worker: DeliveryWorker
    planner: Planner
    scheduler: AsyncIOScheduler
    leadership: Leadership
    _stop: asyncio.Event
    _task: asyncio.Task[object] | None = None
    _campaign: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        storage: Storage,
        i18n: I18n,
        *,
        budget: SendBudget | None = None,
    ) -> DeliveryEngine:
        """The engine on the process's send budget (its bulk lane)."""
        budget = budget or build_budget(settings)
        # Its own Bot in the bulk lane: the worker reserves each slot itself, and retries
        # through the outbox rather than in the request.
        bot = build_bot(settings, budget=budget, lane=Lane.BULK, remember=False)
        cipher = IdentityCipher(settings.key_bytes)
        fallbacks = list(settings.fallback_locales)
        broadcast_renderer = BroadcastRenderer(storage.sessionmaker, i18n, fallbacks)
        family_renderer = FamilyRenderer(storage.sessionmaker, i18n, cipher)
        prompt_renderer = PromptRenderer(storage.sessionmaker, i18n, fallbacks)
        renderer = RendererBySpec(
            AlertRenderer(storage.sessionmaker, i18n, fallbacks),
            {
                **{kind: broadcast_renderer for kind in ("broadcast", "approval", "reviewed")},
                **{kind: family_renderer for kind in FAMILY_KINDS},
                **{kind: prompt_renderer for kind in PROMPT_KINDS},
            },
        )
        config = WorkerConfig(lease=settings.delivery_lease)
        worker = DeliveryWorker(bot, storage.sessionmaker, cipher, renderer, budget, config)
        monitor = BroadcastMonitor(
            storage.sessionmaker,
            bot,
            cipher,
            i18n,
            progress_message,
            paid=settings.paid_broadcasts,
            worker=worker,
        )
        planner = Planner(settings, storage.sessionmaker, bot, cipher, worker, monitor)
        return cls(
            bot,
            worker,
            planner,
            build_scheduler(planner),
            Leadership(storage.engine),
            asyncio.Event(),
        )

    async def start(self, *, with_scheduler: bool = True) -> None:
        """Every instance delivers; only the leader plans."""
        self._task = asyncio.create_task(self.worker.run(self._stop))
        if with_scheduler:
            self._campaign = asyncio.create_task(self._lead())

    async def _lead(self, every: float = 30.0) -> None:
        while not self._stop.is_set():
            if await self.leadership.try_acquire():
                if not self.scheduler.running:
                    self.scheduler.start()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every)

    async def stop(self) -> None:
        if self._campaign is not None:
            self._campaign.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._campaign
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.leadership.release()
        self._stop.set()
        self.worker.wake()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.bot.session.close()


async def run_worker(settings: Settings, *, with_scheduler: bool = True) -> None:
    """Only the delivery engine, until interrupted: for a separate worker process."""
    from bot.i18n import make_i18n
    from bot.storage import prepare

    storage = await prepare(settings)
    budget = build_budget(settings)
    engine = DeliveryEngine.build(
        settings, storage, make_i18n(settings.default_locale), budget=budget
    )
    await engine.start(with_scheduler=with_scheduler)
    try:
        await asyncio.Event().wait()
    finally:
        await engine.stop()
        await budget.close()
        await storage.engine.dispose()
