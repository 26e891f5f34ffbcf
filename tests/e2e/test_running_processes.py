"""A running bot says so, so that a key rotation refuses to start under it; a bot that
stops cleanly says so too."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot.crypto import IdentityCipher
from bot.emulator import Emulator
from bot.emulator.server import serve
from bot.services.key_rotation import RotationError, rotate
from db.models import RunningProcess
from tests.e2e.conftest import running_bot
from tests.e2e.local import bot_env, free_port
from tests.e2e.talk import eventually


async def processes(storage) -> int:
    """How many processes say they are running."""
    async with storage.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(RunningProcess)) or 0)


async def test_a_rotation_refuses_while_the_bot_runs(settings, storage, demo_cases):
    old, new = IdentityCipher(settings.key_bytes), IdentityCipher(os.urandom(32))
    async with running_bot(settings, storage):

        async def said_so() -> bool:
            return await processes(storage) == 1

        await eventually(said_so, what="the bot never said it was running")
        with pytest.raises(RotationError, match="stop every instance"):
            await rotate(storage.sessionmaker, old, new)
    assert await processes(storage) == 0
    assert not (await rotate(storage.sessionmaker, old, new)).already_done


@pytest.mark.parametrize("command", ["worker", "run"])
async def test_sigterm_stops_a_process_cleanly(settings, storage, command, tmp_path):
    # What systemd, Docker and Kubernetes send to stop a process: its clean-up must run
    # (leases handed back, its row gone), not be cut short.
    emulator = Emulator()
    server = await serve(emulator, 0, with_page=False)
    env = bot_env(settings, BOT_TOKEN=emulator.token, TELEGRAM_API_URL=server.url)
    if command == "run":  # webhook mode: aiogram's polling handles signals itself
        port = free_port()
        env.update(
            WEBHOOK_URL=f"http://127.0.0.1:{port}",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET="sigterm-test_secret",
        )
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, "-m", "bot", command], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:

        async def said_so() -> bool:
            assert process.poll() is None, "the process ended by itself"
            return await processes(storage) == 1

        await eventually(said_so, what="the process never said it was running")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
        assert await processes(storage) == 0
    finally:
        if process.poll() is None:
            process.kill()
        await server.stop()
