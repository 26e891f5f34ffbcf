"""One update at a time per person: two quick presses cannot both read a dialogue step
before either has written it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject

from tests.support import Driver, Person


async def test_a_persons_updates_are_handled_one_at_a_time(driver: Driver):
    journal: list[tuple[str, int]] = []
    inside: dict[int, int] = {}

    async def record(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data["event_from_user"].id
        inside[user] = inside.get(user, 0) + 1
        journal.append(("in", user))
        try:
            # Yield to the loop, as a handler waiting for the database would.
            for _ in range(5):
                await asyncio.sleep(0)
            return await handler(event, data)
        finally:
            assert inside[user] == 1, "two updates of one person were handled at once"
            inside[user] -= 1
            journal.append(("out", user))

    # Registered after the FSM's own middleware, so it runs inside the isolation lock.
    driver.dp.update.outer_middleware(record)
    one, other = Person(id=7_300_000_001), Person(id=7_300_000_002)
    await asyncio.gather(
        driver.send(one, "/help"), driver.send(one, "/cases"), driver.send(other, "/help")
    )
    ones = [step for step, user in journal if user == one.id]
    assert ones == ["in", "out", "in", "out"]
    assert ("out", other.id) in journal
