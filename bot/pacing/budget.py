"""One send budget per bot token: what every Bot API call that sends or edits waits for.

`SendBudget` is the interface; `LocalBudget` keeps the schedule in this process (one
process, SQLite: the newcomer's setup), `RedisBudget` shares it among processes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass

from bot.pacing.gcra import Book, Lane, Limits, Verdict

log = logging.getLogger(__name__)

# How finely asyncio's selector can time a sleep (epoll's timeout is in milliseconds).
TIMER_GRANULARITY = 0.001

# When the slot last granted in this task was due (event loop clock): the request that
# follows is sent in the same task, or in one aiohttp starts from it.
_slot_due: ContextVar[float | None] = ContextVar("umid_slot_due", default=None)


class ReplyLost(Exception):
    """An interactive reply could not go within its deadline: logged and counted."""


@dataclass
class BudgetStats:
    """Counts without ids, for logs and metrics."""

    interactive: int = 0
    bulk: int = 0
    paused: int = 0  # 429s answered with a pause
    late: int = 0  # slots given up because the event loop woke their sender too late
    lost_replies: int = 0


class SendBudget(ABC):
    """The shared schedule of sends for one bot token."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stats = BudgetStats()
        # Bulk requests poll for free slots; one poller per process is enough, and the
        # others queue behind it here instead of asking the shared store again and again.
        self._bulk_turn = asyncio.Lock()
        self._left: dict[bool, deque[float]] = {False: deque(), True: deque()}

    @abstractmethod
    async def _decide(
        self, lane: Lane, chat: int | None, *, paid: bool, max_wait: float
    ) -> tuple[Verdict, float]:
        """One verdict from the schedule, wherever it is kept."""

    @abstractmethod
    async def pause(self, seconds: float) -> None:
        """Stop every lane of every process for `seconds` (Telegram said retry_after)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections, if any."""

    # Whether other processes take slots of the same schedule.
    shared = True

    @property
    def early(self) -> float:
        """How much sooner than its moment a request may go instead of sleeping.

        asyncio's selector wakes in whole milliseconds (epoll), so a shorter sleep lasts
        a millisecond or more. At paid broadcasts' 1000 a second every wait is shorter
        than that: each request came a little late and pushed the next one later, and
        twenty senders got 830 a second through (990 now). A request this much early is
        still within the margin (a quarter of it at most), which Telegram's second does
        not see."""
        return min(TIMER_GRANULARITY, self.limits.margin / 4)

    @property
    def late_tolerance(self) -> float:
        """How late a slot may be reached and still be used.

        Half the margin: the other half is for the way from here to Telegram. Timers
        always fire a little late; a margin of zero must not refuse every slot."""
        return max(self.limits.margin / 2, 0.002)

    async def depart(self, *, paid: bool = False, bulk: bool = False) -> None:
        """The last step of a granted request, just before its bytes are written (the
        pacing middleware's departure trace calls it there).

        A request that gets here later than its slot allows (the process was held up on
        its way from the schedule to the socket) would reach Telegram together with the
        next slot's request, perhaps another process's: it takes a new slot first, and
        the late one is left unused. Then it passes this process's own gate (`leave`)."""
        due = _slot_due.get()
        now = asyncio.get_running_loop().time()
        if self.shared and due is not None and now - due > self.late_tolerance:
            self.stats.late += 1
            await self._next_slot(Lane.BULK if bulk else Lane.INTERACTIVE, None, paid)
        await self.leave(paid=paid)

    async def leave(self, *, paid: bool = False) -> None:
        """This process's own gate, the last wait before a request's bytes are written.

        A slot is a time on the schedule; a busy event loop can wake several senders late
        and at once, and Telegram would see them arrive together. This gate lets requests
        leave this process at least half a slot apart, and no more than `rate` of them in
        any second and margin, counted when they really left: lateness is made up
        gradually, never in a burst."""
        rate = self.limits.paid_rate if paid else self.limits.rate
        limit = max(1, int(rate))
        window = self.limits.window
        gap = 0.5 * self.limits.interval(paid)
        left = self._left[paid]
        while True:
            now = time.monotonic()
            while left and now - left[0] >= window:
                left.popleft()
            wait = 0.0
            if left:
                wait = max(wait, left[-1] + gap - now)
            if len(left) >= limit:
                wait = max(wait, window - (now - left[0]))
            if wait <= self.early:
                left.append(now)
                return
            await asyncio.sleep(wait)

    async def interactive(self, chat: int | None, *, deadline: float) -> None:
        """Wait for this reply's turn (its chat's, then a global slot).

        `deadline` is on the event loop's clock; ReplyLost if the turn would come later."""
        loop = asyncio.get_running_loop()
        chat_reserved = False
        while True:
            asked = loop.time()
            left = deadline - asked
            verdict, wait = await self._decide(
                Lane.INTERACTIVE,
                None if chat_reserved else chat,
                paid=False,
                max_wait=max(0.0, left),
            )
            if verdict is Verdict.TOO_LATE or (verdict is Verdict.BUSY and wait > left):
                self.stats.lost_replies += 1
                raise ReplyLost(f"no send slot within {max(0.0, left):.0f} s")
            if verdict is Verdict.GO:
                if await self._on_time(asked, wait):
                    self.stats.interactive += 1
                    return
                continue
            if wait > 0:
                await asyncio.sleep(wait)
            chat_reserved = chat_reserved or verdict is Verdict.CHAT_TURN

    async def _on_time(self, asked: float, wait: float) -> bool:
        """Sleep until a granted slot; False when it is reached so late that the slot has
        passed: sent now, the request would arrive together with the next slot's, perhaps
        another process's. The caller asks for a new slot instead.

        `asked` is when the slot was asked for: the schedule answered `wait` seconds
        before the slot at some moment after that, so lateness counts from there, and a
        process that was slow to read the answer (a busy loop, a busy core) notices it."""
        loop = asyncio.get_running_loop()
        due = asked + max(0.0, wait)
        if (ahead := due - loop.time()) > self.early:
            await asyncio.sleep(ahead)
        if loop.time() - due <= self.late_tolerance:
            _slot_due.set(due)
            return True
        self.stats.late += 1
        return False

    async def bulk(
        self, chat: int | None, *, paid: bool = False, wait_for_chat: bool = False
    ) -> float:
        """Wait for a free global slot; 0.0 when granted. When the chat had its share, how
        many seconds later to deliver (nothing is reserved then), or with `wait_for_chat`,
        wait for the chat's turn too."""
        while True:
            async with self._bulk_turn:
                verdict, wait = await self._next_slot(Lane.BULK, chat, paid)
            if verdict is Verdict.GO:
                self.stats.bulk += 1
                return 0.0
            if not wait_for_chat:
                return wait
            # The chat's turn is its own; other chats' sends go on meanwhile.
            await asyncio.sleep(wait)

    async def _next_slot(self, lane: Lane, chat: int | None, paid: bool) -> tuple[Verdict, float]:
        """GO once a free slot is reached in time, or (bulk) CHAT_BUSY with how long to
        wait. With no chat, only the global slot: a late request's chat turn is taken."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            verdict, wait = await self._decide(lane, chat, paid=paid, max_wait=float("inf"))
            if verdict is Verdict.BUSY:
                await asyncio.sleep(wait)
            elif verdict is not Verdict.GO or await self._on_time(asked, wait):
                return verdict, wait


class LocalBudget(SendBudget):
    """The schedule in this process's memory."""

    PRUNE_AT = 10_000
    # A request held up after its slot is spaced by `leave`, which counts when this
    # process's requests really go, and no other process sends on this schedule.
    shared = False

    def __init__(self, limits: Limits) -> None:
        super().__init__(limits)
        self.book = Book(limits)

    async def _decide(
        self, lane: Lane, chat: int | None, *, paid: bool, max_wait: float
    ) -> tuple[Verdict, float]:
        now = time.monotonic()
        if len(self.book.chats) > self.PRUNE_AT:
            self.book.forget_idle_chats(now)
        return self.book.decide(now, lane, chat, paid=paid, max_wait=max_wait)

    async def pause(self, seconds: float) -> None:
        self.stats.paused += 1
        self.book.pause(time.monotonic(), seconds)

    async def close(self) -> None:
        return None  # nothing outside this process

    @property
    def late_tolerance(self) -> float:
        # Every send of this bot leaves through this process's own gate (`leave`), which
        # spaces them by when they really leave, so a slot reached a little late is still
        # used; only a long stall (longer than the margin) gives it back.
        return max(self.limits.margin, 0.002)
