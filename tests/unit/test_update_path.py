"""The update path does no needless work: no filter runs in a thread, and the response
models aiogram reads answers with are not rebuilt after a garbage collection."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from aiogram.methods import SendMessage
from aiogram.methods.base import Response
from aiogram.types import Message

from bot.client import KeepResponseModels
from bot.inline_filters import handlers_of
from tests.support import Driver, Person


async def test_no_filter_of_the_dispatcher_runs_in_a_thread(driver: Driver, monkeypatch):
    threaded: list[Any] = []
    real = asyncio.to_thread

    async def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        threaded.append(function)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", spy)
    person = Person(id=9_400_100_001)
    await driver.send(person, "/start")
    await driver.send(person, "/help")
    await driver.send(person, "/cases")
    await driver.send(person, "not a command")
    assert threaded == []
    sync = [
        item.callback
        for handler in handlers_of(driver.dp)
        for item in handler.filters or ()
        if not item.awaitable
    ]
    assert sync == []


async def test_response_models_outlive_a_garbage_collection() -> None:
    keep = KeepResponseModels()

    async def make_request(bot: Any, method: Any) -> Any:
        return None

    await keep(make_request, None, SendMessage(chat_id=1, text="x"))  # type: ignore[arg-type]
    held = id(Response[Message])
    gc.collect()
    assert id(Response[Message]) == held
