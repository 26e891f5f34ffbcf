"""The delivery worker: drains the outbox at Telegram's pace and records every result.

A bounded pipeline: one claimer leases batches of due rows into a queue of fixed size,
a fixed number of senders take from it, and one writer commits results in small groups.
Memory does not grow with the number of recipients. After a crash, leased rows become
due again when their lease ends; what can be sent twice is only what was in flight
(claimed but not yet recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import IdentityCipher
from bot.delivery.quiet import quiet_until
from bot.delivery.specs import Spec, UnreadableSpec, read_spec
from bot.outage import patiently
from bot.pacing import SendBudget, prepaced
from db.models import DeliveryMode, DeliveryState
from db.repositories import outbox as repo
from db.repositories.outbox import Claimed
from db.types import utcnow

log = logging.getLogger(__name__)
UNREACHABLE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str | None = None  # a Telegram file id: sent as a photo with `text` as caption


@dataclass(frozen=True, slots=True)
class Reader:
    """Who a delivery is rendered for: as much of the person as a renderer may use.

    Their language, time zone and discreet mode shape the text; the person id lets a
    renderer check what depends on who reads (family news, a report's answer, an action
    already taken). Nothing of their Telegram identity: sending is the worker's, and so
    are the preferences applied around the message (quiet hours, digests, protected
    content, deletion after a while)."""

    person_id: int
    locale: str
    timezone: str
    discreet: bool


def reader_of(item: Claimed) -> Reader:
    """The reader of a claimed delivery, as its renderer gets it."""
    return Reader(
        person_id=item.person_id,
        locale=item.locale,
        timezone=item.timezone,
        discreet=item.discreet,
    )


# spec, reader -> the message, or None when it no longer applies (a cancelled hearing)
Renderer = Callable[[Spec, Reader], Awaitable[Rendered | None]]


class RendererBySpec:
    """One renderer per kind of spec (its `kind`), and a default for the rest."""

    def __init__(self, default: Renderer, by_kind: Mapping[str, Renderer]) -> None:
        self.default = default
        self.by_kind = dict(by_kind)

    async def __call__(self, spec: Spec, reader: Reader) -> Rendered | None:
        return await self.by_kind.get(spec.kind, self.default)(spec, reader)


@dataclass
class WorkerConfig:
    """How the worker drains; the pace itself is the send budget's."""

    senders: int = 16
    batch: int = 200
    lease: dt.timedelta = dt.timedelta(seconds=120)
    max_attempts: int = 6
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    idle_sleep: float = 0.5
    flush_every: float = 0.01


@dataclass
class Stats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    rate_limited: int = 0
    blocked: int = 0
    expired: int = 0
    unreadable: int = 0  # specs (or digest items) that no longer read as any kind
    started: float = field(default_factory=time.monotonic)


_Op = tuple[str, tuple[Any, ...]]


class DeliveryWorker:
    LEASE_MARGIN = dt.timedelta(seconds=1)

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: IdentityCipher,
        render: Renderer,
        budget: SendBudget,
        config: WorkerConfig | None = None,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.cipher = cipher
        self.render = render
        self.budget = budget
        self.config = config or WorkerConfig()
        self.stats = Stats()
        self._queue: asyncio.Queue[Claimed] = asyncio.Queue(maxsize=self.config.batch * 2)
        self._results: asyncio.Queue[_Op] = asyncio.Queue()
        self._wake = asyncio.Event()
        # Claimed rows not yet through a sender, and results not yet committed: while
        # either is above zero (or a claim is under way), something is in flight.
        self._in_hand = 0
        self._unrecorded = 0
        self._claiming = False

    @property
    def idle(self) -> bool:
        """Nothing claimed, in flight or waiting to be recorded, in this worker."""
        return not self._claiming and self._in_hand == 0 and self._unrecorded == 0

    def _result(self, op: _Op) -> None:
        self._unrecorded += 1
        self._results.put_nowait(op)

    def wake(self) -> None:
        """Something was enqueued: look at the outbox now instead of after the idle pause."""
        self._wake.set()

    # ------------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> Stats:
        """Deliver until `stop` is set (or, with until_idle, until nothing is due)."""
        stop = stop or asyncio.Event()
        senders = [asyncio.create_task(self._sender()) for _ in range(self.config.senders)]
        writer = asyncio.create_task(self._writer())
        try:
            while not stop.is_set():
                room = self._queue.qsize() < self.config.batch
                self._claiming = room
                try:
                    claimed = await self._claim() if room else []
                finally:
                    self._claiming = False
                self._in_hand += len(claimed)
                for item in claimed:
                    await self._queue.put(item)
                if claimed:
                    continue
                if until_idle and self._queue.empty() and await self._idle():
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.idle_sleep)
        finally:
            await self._queue.join()
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            await self._results.join()
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        return self.stats

    async def _idle(self) -> bool:
        # Everything claimed is settled and nothing is pending any more, not even later
        # (a backoff or a flood pause): for tests, benchmarks and one-off drains.
        await self._queue.join()
        await self._results.join()
        async with self.sessionmaker() as session:
            return not await repo.has_pending(session)

    async def _claim(self) -> list[Claimed]:
        # Claim no more than can be sent well within the lease at the configured rate.
        fits = int(self.budget.limits.rate * self.config.lease.total_seconds() / 4)
        limit = max(1, min(self.config.batch, fits))

        async def claim() -> list[Claimed]:
            async with self.sessionmaker() as session, session.begin():
                return await repo.claim(session, utcnow(), limit, self.config.lease)

        return await patiently(claim, what="outbox claim")

    # ------------------------------------------------------------------ sending

    async def _sender(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._deliver(item)
            except Exception:
                log.exception("delivery %d failed unexpectedly", item.id)
                self._result(("fail", (item.id, "internal")))
            finally:
                self._in_hand -= 1
                self._queue.task_done()

    async def _deliver(self, item: Claimed) -> None:
        now = utcnow()
        if now >= item.leased_until - self.LEASE_MARGIN:
            # Waited too long in the queue: the row is due again and another claim (ours or
            # another worker's) may hold it now. Sending it here could send it twice.
            self.stats.expired += 1
            return
        spec = self._read(item)
        if spec is None:
            return
        if not item.urgent and spec.digestible and item.delivery != DeliveryMode.INSTANT:
            self._result(("hold", (item.id,)))
            return
        quiet = (
            None if item.urgent else quiet_until(item.quiet_from, item.quiet_to, item.timezone, now)
        )
        if quiet is not None:
            self._result(("later", (item.id, quiet, "quiet_hours", False)))
            return
        rendered = await self.render(spec, reader_of(item))
        if rendered is None:
            self.stats.skipped += 1
            self._result(("skip", (item.id, "obsolete")))
            return
        chat_id = self.cipher.decrypt_id(item.tg_cipher)
        # Waits for a free slot behind every reply that is queued; when this chat has just
        # had its share (a reply and its edit, say), the alert goes a little later instead.
        chat_wait = await self.budget.bulk(chat_id, paid=item.paid)
        if chat_wait:
            at = utcnow() + dt.timedelta(seconds=chat_wait)
            self._result(("later", (item.id, at, None, False)))
            return
        if utcnow() >= item.leased_until - self.LEASE_MARGIN:
            # The slot came after the lease ended (a long flood pause): the row may be
            # another worker's now. Its slot is spent, not its message.
            self.stats.expired += 1
            return
        paid = True if item.paid else None
        try:
            with prepaced():  # the slot is ours already
                if rendered.photo is not None:
                    message = await self.bot.send_photo(
                        chat_id,
                        rendered.photo,
                        caption=rendered.text,
                        reply_markup=rendered.markup,
                        protect_content=item.protect_content,
                        allow_paid_broadcast=paid,
                    )
                else:
                    message = await self.bot.send_message(
                        chat_id,
                        rendered.text,
                        reply_markup=rendered.markup,
                        protect_content=item.protect_content,
                        allow_paid_broadcast=paid,
                    )
        except TelegramRetryAfter as exc:
            # The bot's pacing middleware has paused the whole budget already.
            self.stats.rate_limited += 1
            at = utcnow() + dt.timedelta(seconds=exc.retry_after)
            self._result(("later", (item.id, at, "429", False)))
        except TelegramForbiddenError:
            self._unreachable(item, "blocked")
        except TelegramBadRequest as exc:
            if any(reason in exc.message for reason in UNREACHABLE):
                self._unreachable(item, "chat_not_found")
            else:
                self.stats.failed += 1
                self._result(("fail", (item.id, "bad_request")))
                log.error("delivery %d refused by Telegram: %s", item.id, type(exc).__name__)
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            code = "5xx" if isinstance(exc, TelegramServerError) else "network"
            if item.attempts + 1 >= self.config.max_attempts:
                self.stats.failed += 1
                self._result(("fail", (item.id, code)))
            else:
                self.stats.retried += 1
                delay = min(self.config.backoff_cap, self.config.backoff_base * 2**item.attempts)
                delay *= 0.5 + random.random()  # jitter, so retries do not arrive together
                at = utcnow() + dt.timedelta(seconds=delay)
                self._result(("later", (item.id, at, code, True)))
        else:
            self.stats.sent += 1
            sent_at = utcnow()
            delete_at = (
                sent_at + dt.timedelta(hours=item.autodelete_hours)
                if item.autodelete_hours
                else None
            )
            self._result(("sent", (item.id, sent_at, message.message_id, delete_at)))

    def _read(self, item: Claimed) -> Spec | None:
        """The delivery's spec, or None when it reads as no kind any more (a kind since
        retired): then it is settled as skipped, counted and logged by its kind alone,
        rather than lost silently or stopping the sender. Items of a digest that no longer
        read are counted and logged the same way, and the rest of the digest goes."""
        left_out: list[str] = []
        spec: Spec | None
        try:
            spec = read_spec(item.spec, left_out=left_out)
        except UnreadableSpec as exc:
            spec = None
            left_out.append(exc.kind)
            self._result(("skip", (item.id, "unreadable")))
        for kind in left_out:
            self.stats.unreadable += 1
            log.warning("a delivery's spec of kind %r no longer reads; left out", kind)
        return spec

    def _unreachable(self, item: Claimed, code: str) -> None:
        self.stats.blocked += 1
        self._result(("inactive", (item.id, item.person_id, code)))

    # ------------------------------------------------------------------ results

    async def _writer(self) -> None:
        while True:
            first = await self._results.get()
            ops = [first]
            deadline = time.monotonic() + self.config.flush_every
            while len(ops) < 500:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    ops.append(await asyncio.wait_for(self._results.get(), left))
                except TimeoutError:
                    break
            try:
                # A result not recorded is a message sent twice once its lease ends: a
                # database that restarts (or a pooled connection it closed) is waited out.
                await patiently(functools.partial(self._apply, ops), what="delivery results")
            except Exception:
                log.exception("could not record %d delivery results", len(ops))
            finally:
                self._unrecorded -= len(ops)
                for _ in ops:
                    self._results.task_done()

    async def _apply(self, ops: list[_Op]) -> None:
        """Record a group of results in one transaction, one executemany per kind of result."""
        by_kind: dict[str, list[tuple[Any, ...]]] = {}
        for op, args in ops:
            by_kind.setdefault(op, []).append(args)
        today = utcnow().date()
        async with self.sessionmaker() as session, session.begin():
            if rows := by_kind.get("sent"):
                await repo.mark_sent_many(session, rows)
            if rows := by_kind.get("later"):
                await repo.reschedule_many(session, rows)
            if rows := by_kind.get("fail"):
                await repo.fail_many(session, rows)
            for delivery_id, error in by_kind.get("skip", []):
                await repo.settle(session, [delivery_id], state=DeliveryState.SKIPPED, error=error)
            for (delivery_id,) in by_kind.get("hold", []):
                await repo.hold(session, delivery_id)
            for delivery_id, person_id, code in by_kind.get("inactive", []):
                await repo.settle(session, [delivery_id], state=DeliveryState.SKIPPED, error=code)
                await repo.deactivate(session, person_id, today)
