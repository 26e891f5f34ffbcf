"""In-process dialogue state and per-person locks that leave nothing behind
(bot/fsm_memory.py): aiogram's kept a record and a lock, with the raw id in the key, for
every person who ever wrote."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.fsm_memory import TidyEventIsolation, TidyMemoryStorage
from tests.support import Driver, Person

KEY = StorageKey(bot_id=1, chat_id=2, user_id=2)


async def test_reading_leaves_nothing_and_a_cleared_record_goes():
    storage = TidyMemoryStorage()
    assert await storage.get_state(KEY) is None and await storage.get_data(KEY) == {}
    assert await storage.get_value(KEY, "x", 7) == 7
    assert storage.storage == {}
    await storage.set_state(KEY, "form:step")
    await storage.update_data(KEY, {"x": 1})
    assert await storage.get_state(KEY) == "form:step" and await storage.get_value(KEY, "x") == 1
    await storage.set_state(KEY, None)
    assert KEY in storage.storage  # the data is still there
    await storage.set_data(KEY, {})
    assert storage.storage == {}


async def test_one_update_at_a_time_per_person_and_no_lock_left():
    isolation = TidyEventIsolation()
    order: list[str] = []
    inside = asyncio.Event()

    async def first() -> None:
        async with isolation.lock(KEY):
            order.append("first in")
            inside.set()
            await asyncio.sleep(0)  # let the second queue up behind the lock
            await asyncio.sleep(0)
            order.append("first out")

    async def second() -> None:
        await inside.wait()
        async with isolation.lock(KEY):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]
    assert isolation.held == 0


async def test_a_supporters_updates_leave_no_state_in_memory(driver: Driver, small_cases):
    person = Person(id=9_600_000_001)
    for text in ("/start", "/help", "/case Testov"):
        await driver.send(person, text)
    await driver.press(person, "Follow")
    assert driver.dp.fsm.storage.storage == {}  # type: ignore[attr-defined]
    isolation = driver.dp.fsm.events_isolation
    assert isinstance(isolation, TidyEventIsolation) and isolation.held == 0
