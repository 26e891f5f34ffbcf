"""The real bot, through its own entry point, against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.emulator import Emulator, flood_gate
from bot.emulator.server import RunningEmulator, serve
from bot.runner import Running, run
from bot.storage import Storage
from config import Settings
from db.repositories import outbox
from db.types import utcnow
from tests.e2e.local import answers
from tests.e2e.talk import eventually

READY_CALLS = frozenset({"getUpdates", "setWebhook"})


@dataclass
class Live:
    emulator: Emulator
    server: RunningEmulator
    settings: Settings
    storage: Storage
    running: Running
    gate_url: str | None = None  # the strict flood gate in front of the emulator, if any

    async def settled(self, timeout: float = 40.0, horizon: float = 10.0) -> None:
        """Wait until nothing more is on its way: every update handled, the worker holds
        nothing, and nothing in the outbox is due within `horizon` seconds (quiet hours
        and digests hold alerts for hours). Then "nothing more arrives" is a fact."""
        calm = 0

        async def calm_twice() -> bool:
            # Twice in a row: a handler's last write lands between two looks.
            nonlocal calm
            calm = calm + 1 if await self._calm(horizon) else 0
            return calm >= 2

        await eventually(calm_twice, timeout, "the bot did not settle in time")

    async def _calm(self, horizon: float) -> bool:
        if self.emulator.pending_update_count or self.running.handling:
            return False
        if not self.running.engine.worker.idle:
            return False
        async with self.storage.sessionmaker() as session:
            soon = utcnow() + dt.timedelta(seconds=horizon)
            return not await outbox.has_due(session, soon)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings,
    storage: Storage,
    *,
    emulator: Emulator | None = None,
    strict_limit: int | None = None,
    **overrides: object,
) -> AsyncIterator[Live]:
    """The bot's own entry point against a fresh emulator (or this one), with settings
    overridden. With `strict_limit`, the bot reaches the emulator through a flood gate in
    a process of its own, which refuses the limit's + 1st message in any second: its
    clock does not stall for the tests' and the bot's work, as the emulator's would."""
    emulator = emulator or Emulator()
    server = await serve(emulator, 0, with_page=True)
    gate, gate_url = None, None
    if strict_limit is not None:
        gate, gate_url = await asyncio.to_thread(flood_gate.start, server.url, strict_limit)
    bot_settings = settings.model_copy(
        update={
            "bot_token": SecretStr(emulator.token),
            "telegram_api_url": gate_url or server.url,
            # These people type and tap faster than anyone can; a chat's one-a-second
            # spacing would only slow them down (the pacer's own tests hold it to it).
            "chat_send_interval": 0.02,
            **overrides,
        }
    )
    parts: list[Running] = []
    before = len(emulator.calls)  # a shared emulator has served other instances
    task = asyncio.create_task(
        run(bot_settings, storage=storage, handle_signals=False, started=parts.append)
    )
    try:
        # The bot is ready once it asks for updates, or has registered its webhook, or (an
        # instance that leaves the registering to another) its webhook server answers.
        for _ in range(200):
            if any(name in READY_CALLS for name, _ in emulator.calls[before:]) or task.done():
                break
            health = f"http://{bot_settings.webhook_host}:{bot_settings.webhook_port}/healthz"
            if not bot_settings.webhook_register and await answers(health):
                break
            await asyncio.sleep(0.02)
        if task.done():
            task.result()
        yield Live(emulator, server, bot_settings, storage, parts[0], gate_url)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if gate is not None:
            gate.terminate()
            await asyncio.to_thread(gate.wait)
        await server.stop()
    assert emulator.problems == [], f"the emulator refused: {emulator.problems}"


@pytest.fixture
async def live(settings: Settings, storage: Storage, demo_cases) -> AsyncIterator[Live]:
    async with running_bot(settings, storage) as running:
        yield running
