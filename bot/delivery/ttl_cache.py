"""A few seconds' memory for what renderers read from the database: thousands of readers
of one alert share one load. Per process and short-lived on purpose, so what an editor
changes is seen within the time-to-live on every instance.

Readers of a new alert all arrive at once (the worker's senders take a batch together),
so a key that is being loaded is not loaded again: everyone who asks meanwhile waits for
that one load. A load that fails is kept by no one: its waiters see the error, and the
next `get` loads anew.
"""

from __future__ import annotations

import asyncio
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
        self._loading: dict[K, asyncio.Task[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]], *, fresh: bool = False) -> V:
        """The value kept for `key` if younger than the time-to-live (and not `fresh`),
        else what `load` gives now, kept in its place.

        A load of `key` already under way is shared, by `fresh` callers too: it began after
        the kept value (if any) was taken, so it is as fresh as one they would start. The
        load runs as a task of its own, so a caller that is cancelled cancels only its own
        wait, never the load the others are waiting for."""
        hit = None if fresh else self.peek(key)
        if hit is not None:
            return hit[0]
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fill(key, load))
            task.add_done_callback(_retrieve)
            self._loading[key] = task
        return await asyncio.shield(task)

    def peek(self, key: K) -> tuple[V] | None:
        """The value kept for `key`, in a tuple of one (the value may be None itself), if
        younger than the time-to-live; None if a `get` would have to load it."""
        hit = self._items.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return (hit[1],)
        return None

    def clear(self) -> None:
        """Forget every value. A load under way still answers its waiters, but keeps
        nothing: it may have read what has just changed."""
        self._items.clear()
        self._loading.clear()

    async def _fill(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await load()
            if self._loading.get(key) is asyncio.current_task():  # not cleared meanwhile
                if len(self._items) >= self.size:
                    # Bounded memory; the next few loads refill what is in use.
                    self._items.clear()
                self._items[key] = (time.monotonic(), value)
            return value
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]


def _retrieve(task: asyncio.Task[object]) -> None:
    # Every waiter may have been cancelled meanwhile: the error is theirs, not the loop's
    # to report as never retrieved.
    if not task.cancelled():
        task.exception()
