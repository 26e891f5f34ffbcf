"""The delivery engine as the running bot holds it: worker, planner and scheduler.

It knows no screen: what a delivery looks like comes in as `Screens`, which the
presentation layer builds (bot/presentation/screens.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import build_bot
from bot.crypto import IdentityCipher
from bot.delivery.heartbeat import Heartbeat
from bot.delivery.leader import Leadership
from bot.delivery.monitor import BroadcastMonitor, ProgressView
from bot.delivery.worker import DeliveryWorker, Renderer, WorkerConfig
from bot.pacing import Lane, SendBudget, build_budget
from bot.scheduler import Planner, build_scheduler
from bot.storage import Storage
from config import Settings


@dataclass(frozen=True)
class Screens:
    """How deliveries and a broadcast's progress message read, for the engine."""

    renderer: Renderer
    progress: ProgressView


ScreensFactory = Callable[[Storage, I18n, Settings, IdentityCipher], Screens]


@dataclass
class DeliveryEngine:
    bot: Bot
    worker: DeliveryWorker
    planner: Planner
    scheduler: AsyncIOScheduler
    leadership: Leadership
    heartbeat: Heartbeat
    _stop: asyncio.Event
    _task: asyncio.Task[object] | None = None
    _campaign: asyncio.Task[None] | None = None
    _beating: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        storage: Storage,
        i18n: I18n,
        screens: ScreensFactory,
        *,
        budget: SendBudget | None = None,
    ) -> DeliveryEngine:
        """The engine on the process's send budget (its bulk lane), showing deliveries as
        `screens` makes them."""
        budget = budget or build_budget(settings)
        # Its own Bot in the bulk lane: the worker reserves each slot itself, and retries
        # through the outbox rather than in the request.
        bot = build_bot(settings, budget=budget, lane=Lane.BULK, remember=False)
        cipher = IdentityCipher(settings.key_bytes)
        shown = screens(storage, i18n, settings, cipher)
        config = WorkerConfig(lease=settings.delivery_lease)
        worker = DeliveryWorker(bot, storage.sessionmaker, cipher, shown.renderer, budget, config)
        monitor = BroadcastMonitor(
            storage.sessionmaker,
            bot,
            cipher,
            i18n,
            shown.progress,
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
            Heartbeat(storage.sessionmaker),
            asyncio.Event(),
        )

    async def start(self, *, with_scheduler: bool = True) -> None:
        """Every instance delivers (and says it is running); only the leader plans."""
        self._beating = asyncio.create_task(self.heartbeat.run(self._stop))
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
        if self._beating is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
            await self.heartbeat.leave()
        await self.bot.session.close()
