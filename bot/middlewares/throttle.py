"""Per-person flood control: a token bucket per sender, checked before any database work."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

log = logging.getLogger(__name__)


class TokenBuckets:
    """In-process buckets; the interface lets a shared (Redis) limiter replace it."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._state: dict[int, tuple[float, float]] = {}

    def allow(self, key: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._state.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if len(self._state) >= self.max_keys and key not in self._state:
            self._evict(now)
        if tokens < 1.0:
            self._state[key] = (tokens, now)
            return False
        self._state[key] = (tokens - 1.0, now)
        return True

    def _evict(self, now: float) -> None:
        # Full buckets carry no information; drop them to keep memory bounded.
        full = [
            k for k, (t, last) in self._state.items() if t + (now - last) * self.rate >= self.burst
        ]
        for key in full:
            del self._state[key]
        if len(self._state) >= self.max_keys:
            self._state.clear()


class ThrottleMiddleware(BaseMiddleware):
    """Drops updates from a sender over the limit; a pressed button is still answered.

    What is dropped is a flood of the person's own messages, never a reply the bot owed:
    it is counted, and logged (without who) at the first and every hundredth."""

    def __init__(self, buckets: TokenBuckets) -> None:
        self.buckets = buckets
        self.dropped = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or self.buckets.allow(user.id):
            return await handler(event, data)
        self.dropped += 1
        if self.dropped % 100 == 1:
            log.info("flood control: %d updates dropped so far", self.dropped)
        if isinstance(event, Update) and event.callback_query is not None:
            await event.callback_query.answer()
        return None
