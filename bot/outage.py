"""Updates wait out an outage of the database or Redis instead of being dropped.

A restart of PostgreSQL or Redis takes seconds, and meanwhile every update would fail:
its handler raised, aiogram logged it, and the person's message was gone (Telegram has
already been told it was received). Here the dispatcher holds such an update and handles
it again, with growing pauses, until the service answers or PATIENCE runs out. An update
fails before anything is sent (the session commits before each request to Telegram), so
handling it again sends its answer once; a write after the answer that failed could send
that answer twice, which is better than none.

The delivery worker waits out an outage the same way (`patiently`) for its claims and for
the results it records: a lost result would send its message again when the lease ends.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.types import ErrorEvent, Update
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

PATIENCE = 300.0
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 10.0
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


_OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    ConnectionError,
    TimeoutError,
)
try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError:  # pragma: no cover - Redis is optional
    pass
else:
    _OUTAGES += (RedisConnectionError, RedisTimeoutError)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database or Redis did not answer (rather than a bug, or a
    refusal that handling the update again would meet again)."""
    if isinstance(exc, _OUTAGES):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OSError):
        # asyncpg's connect gives "Multiple exceptions: ..." (no errno) when every address
        # of the host refused.
        return exc.errno in _NETWORK_ERRNOS or (
            exc.errno is None and str(exc).startswith("Multiple exceptions")
        )
    return False


def not_an_outage(event: ErrorEvent) -> bool:
    """Error-handler filter: an outage is left to the dispatcher, which holds the update."""
    return not is_outage(event.exception)


async def patiently(
    attempt: Callable[[], Awaitable[T]], *, what: str, patience: float = PATIENCE
) -> T:
    """`attempt()`, made again with growing pauses while the database or Redis does not
    answer, for at most `patience` seconds; any other error, or the last outage, is
    raised. `attempt` must be safe to make again: one transaction, say, which an outage
    rolls back. `what` names it in the log (no ids, no people)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + patience
    pause = FIRST_PAUSE
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_outage(exc) or loop.time() + pause > give_up:
                raise
            log.warning(
                "%s held: the database or Redis did not answer (%s); again in %.1f s",
                what,
                type(exc).__name__,
                pause,
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


class PatientDispatcher(Dispatcher):
    """A dispatcher that handles an update again while the database or Redis is down."""

    patience = PATIENCE

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        feed = super().feed_update
        return await patiently(
            lambda: feed(bot, update, **kwargs), what="update", patience=self.patience
        )
