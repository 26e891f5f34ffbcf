"""A running bot says so, so that a key rotation refuses to start under it; a bot that
stops cleanly says so too."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from bot.crypto import IdentityCipher
from bot.services.key_rotation import RotationError, rotate
from db.models import RunningProcess
from tests.e2e.conftest import running_bot
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
