"""The send budget on the bot's HTTP session: every request that sends or edits waits
for its turn, and a 429 pauses everyone instead of dropping the message.

The interactive bot waits in the interactive lane: a reply waits its turn, is tried again
after a flood wait, and is given up only after its deadline, logged and counted. The
delivery engine's bot waits in the bulk lane; its worker reserves the slot itself (it
must re-check its lease in between) and sends inside `prepaced()`.

A granted request leaves through the budget's last gate (`SendBudget.depart`) at the
moment its bytes are written, not when the middleware hands it on: between the two lie
aiohttp's connection pool and, on Python 3.11, a turn of the event loop for the task that
writes the body. A busy loop or a process the OS set aside for a moment stretched that
turn to tens of milliseconds, and two requests that left the gate apart reached Telegram
together (the spike test's flood gate refused some while a second suite shared the
cores). The session's trace (`departure_trace`) calls the gate just before the first
chunk is written; nothing is suspended between the gate and the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from aiohttp import ClientSession, TraceConfig, TraceRequestChunkSentParams

from bot.pacing.budget import ReplyLost, SendBudget
from bot.pacing.gcra import Lane

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

_prepaced: ContextVar[bool] = ContextVar("umid_prepaced", default=False)


@dataclass
class _Departure:
    """A granted request on its way to the socket."""

    budget: SendBudget
    paid: bool
    bulk: bool
    gone: bool = False


# Set around the session's call; the task aiohttp starts to write the body inherits it.
_departing: ContextVar[_Departure | None] = ContextVar("umid_departing", default=None)


async def _before_first_chunk(
    _session: ClientSession, _context: SimpleNamespace, _params: TraceRequestChunkSentParams
) -> None:
    departure = _departing.get()
    if departure is not None and not departure.gone:
        departure.gone = True
        await departure.budget.depart(paid=departure.paid, bulk=departure.bulk)


def departure_trace() -> TraceConfig:
    """The aiohttp trace that lets paced requests leave the budget as their bytes go.

    aiohttp calls it before it writes each chunk of a request's body, headers included
    with the first; a paced request passes the budget's last gate there, once."""
    trace = TraceConfig()
    trace.on_request_chunk_sent.append(_before_first_chunk)
    return trace


@contextlib.contextmanager
def prepaced() -> Iterator[None]:
    """Requests made inside already hold their slot from the budget."""
    token = _prepaced.set(True)
    try:
        yield
    finally:
        _prepaced.reset(token)


def is_paced(method: TelegramMethod[Any]) -> bool:
    """Whether Telegram counts the method against the flood limits: messages and edits."""
    name = method.__api_method__
    if name == "sendChatAction":
        return False
    return name.startswith(("send", "edit", "copy", "forward")) or name == "stopPoll"


def chat_of(method: TelegramMethod[Any]) -> int | None:
    chat = getattr(method, "chat_id", None)
    return chat if isinstance(chat, int) else None


class PacedRequests(BaseRequestMiddleware):
    def __init__(self, budget: SendBudget, lane: Lane, *, deadline: float = 60.0) -> None:
        self.budget = budget
        self.lane = lane
        self.deadline = deadline

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not is_paced(method):
            return await make_request(bot, method)
        if _prepaced.get():
            return await self._once(make_request, bot, method)
        chat = chat_of(method)
        if self.lane is Lane.BULK:
            await self.budget.bulk(chat, wait_for_chat=True)
            return await self._once(make_request, bot, method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline
        while True:
            try:
                await self.budget.interactive(chat, deadline=deadline)
            except ReplyLost:
                log.error(
                    "reply lost: %s found no send slot within %.0f s",
                    method.__api_method__,
                    self.deadline,
                )
                raise
            try:
                return await self._depart(make_request, bot, method, paid=False)
            except TelegramRetryAfter as exc:
                # Everyone pauses; this reply keeps its place and goes after the pause.
                await self.budget.pause(exc.retry_after)
                log.info("%s met a flood wait of %d s", method.__api_method__, exc.retry_after)

    async def _once(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            paid = bool(getattr(method, "allow_paid_broadcast", False))
            return await self._depart(make_request, bot, method, paid=paid)
        except TelegramRetryAfter as exc:
            await self.budget.pause(exc.retry_after)
            raise

    async def _depart(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
        *,
        paid: bool,
    ) -> Response[TelegramType]:
        """Hand the request on; it passes the budget's last gate as its bytes are written
        (or here, on a session without the departure trace)."""
        traces = getattr(getattr(bot, "session", None), "trace_configs", ())
        if not any(_before_first_chunk in trace.on_request_chunk_sent for trace in traces):
            await self.budget.depart(paid=paid, bulk=self.lane is Lane.BULK)
            return await make_request(bot, method)
        token = _departing.set(_Departure(self.budget, paid, bulk=self.lane is Lane.BULK))
        try:
            return await make_request(bot, method)
        finally:
            _departing.reset(token)
