"""Dialogue state and the per-person lock in process memory, leaving nothing behind.

aiogram's MemoryStorage makes a record for every person whose state is only read, and its
SimpleEventIsolation keeps a lock for every person who ever wrote; neither is ever
removed. Every update reads the state, so each person who ever wrote stayed in memory
for the life of the process: their raw Telegram id in the key, and some hundreds of bytes
(about 8 MiB for every 10,000 people, by benchmarks.memory). Here a person with no
dialogue open and no update being handled leaves no trace. With Redis, aiogram's own
storage and lock are used instead (bot/app.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from copy import copy
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, StateType, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage


class TidyMemoryStorage(MemoryStorage):
    """MemoryStorage whose reads create nothing, and whose emptied records go."""

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await super().set_state(key, state)
        self._tidy(key)

    async def get_state(self, key: StorageKey) -> str | None:
        record = self.storage.get(key)
        return record.state if record is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await super().set_data(key, data)
        self._tidy(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = self.storage.get(key)
        return record.data.copy() if record is not None else {}

    async def get_value(
        self, storage_key: StorageKey, dict_key: str, default: Any | None = None
    ) -> Any | None:
        record = self.storage.get(storage_key)
        return copy(record.data.get(dict_key, default)) if record is not None else default

    def _tidy(self, key: StorageKey) -> None:
        record = self.storage.get(key)
        if record is not None and record.state is None and not record.data:
            del self.storage[key]


class TidyEventIsolation(BaseEventIsolation):
    """One update at a time per person; a lock lives only while someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, list[int]]] = {}

    # Not __len__: aiogram takes the isolation it is given with `or`, and an empty one
    # would be false, and replaced by none at all.
    @property
    def held(self) -> int:
        """How many people have an update being handled or waiting."""
        return len(self._locks)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    async def close(self) -> None:
        self._locks.clear()
