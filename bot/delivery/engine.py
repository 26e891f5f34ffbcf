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
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.client import build_bot
from bot.crypto import IdentityCipher
from bot.delivery.heartbeat import Heartbeat
from bot.delivery.leader import Leadership
from bot.delivery.monitor import BroadcastMonitor, ProgressView
from bot.delivery.worker import DeliveryWorker, Renderer, WorkerConfig
from bot.metrics import Metrics
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


def count_jobs(scheduler: AsyncIOScheduler, metrics: Metrics) -> None:
    """Count the scheduler's job runs and failures by job (their names are fixed)."""

    def done(event: JobExecutionEvent) -> None:
        metrics.job_done(event.job_id, failed=event.exception is not None)

    scheduler.add_listener(done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


@dataclass
class DeliveryEngine:
    bot: Bot
    worker: DeliveryWorker
    planner: Planner
    scheduler: AsyncIOScheduler
    leadership: Leadership
    heartbeat: Heartbeat
    _stop: asyncio.Event
    metrics: Metrics | None = None
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
        metrics: Metrics | None = None,
        leadership: Leadership | None = None,
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
        scheduler = build_scheduler(planner)
        if metrics is not None:
            metrics.watch_budget(budget.stats)
            count_jobs(scheduler, metrics)
        return cls(
            bot,
            worker,
            planner,
            scheduler,
            leadership or Leadership(storage.engine),
            Heartbeat(storage.sessionmaker),
            asyncio.Event(),
            metrics,
        )

    async def start(self, *, with_scheduler: bool = True) -> None:
        """Every instance delivers (and says it is running); only the leader plans."""
        self._beating = asyncio.create_task(self.heartbeat.run(self._stop))
        self._task = asyncio.create_task(self.worker.run(self._stop))
        if with_scheduler:
            self._campaign = asyncio.create_task(self._lead())

    async def _lead(self) -> None:
        await self.leadership.run(self._stop, self._plan)

    def _plan(self, on: bool) -> None:
        if on and not self.scheduler.running:
            self.scheduler.start()
        elif on:
            self.scheduler.resume()
        elif self.scheduler.running:
            # Paused, not shut down: it keeps its jobs and resumes if the lead comes back.
            self.scheduler.pause()
        if self.metrics is not None:
            self.metrics.leader.set(1 if on else 0)

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
