"""The real bot, through its own entry point, against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.emulator import Emulator
from bot.emulator.server import RunningEmulator, serve
from bot.runner import run
from bot.storage import Storage
from config import Settings


@dataclass
class Live:
    emulator: Emulator
    server: RunningEmulator
    settings: Settings


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, storage: Storage, **overrides: object
) -> AsyncIterator[Live]:
    """The bot's own entry point against a fresh emulator, with settings overridden."""
    emulator = Emulator()
    server = await serve(emulator, 0, with_page=True)
    bot_settings = settings.model_copy(
        update={
            "bot_token": SecretStr(emulator.token),
            "telegram_api_url": server.url,
            # These people type and tap faster than anyone can; a chat's one-a-second
            # spacing would only slow them down (the pacer's own tests hold it to it).
            "chat_send_interval": 0.02,
            **overrides,
        }
    )
    task = asyncio.create_task(run(bot_settings, storage=storage, handle_signals=False))
    try:
        for _ in range(200):  # the bot is ready once it asks for updates
            if any(name == "getUpdates" for name, _ in emulator.calls) or task.done():
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
        yield Live(emulator, server, bot_settings)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.stop()
    assert emulator.problems == [], f"the emulator refused: {emulator.problems}"


@pytest.fixture
async def live(settings: Settings, storage: Storage, demo_cases) -> AsyncIterator[Live]:
    async with running_bot(settings, storage) as running:
        yield running
