"""A few seconds' memory for what renderers read from the database: thousands of readers
of one alert share one load. Per process and short-lived on purpose, so what an editor
changes is seen within the time-to-live on every instance."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]], *, fresh: bool = False) -> V:
        """The value kept for `key` if younger than the time-to-live (and not `fresh`),
        else what `load` gives now, kept in its place."""
        hit = self._items.get(key)
        if hit is not None and not fresh and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        value = await load()
        if len(self._items) >= self.size:
            # Bounded memory; the next few loads refill what is in use.
            self._items.clear()
        self._items[key] = (time.monotonic(), value)
        return value
