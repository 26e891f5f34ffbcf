"""One session per update: committed when the handler is done, rolled back when it fails,
and never holding a connection after the update."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import TelegramObject
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.middlewares.db import DbSessionMiddleware, current_session
from bot.storage import Storage
from db.models import Person


def held(storage: Storage) -> int:
    """Connections the pool has lent out."""
    checked_out: int = storage.engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
    return checked_out


async def people(storage: Storage) -> int:
    async with storage.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(Person))).scalar_one()


def person(n: int) -> Person:
    return Person(tg_index=bytes([n]) * 32, tg_cipher=b"x", locale="en", timezone="UTC")


async def test_work_is_committed_and_nothing_is_held_after(storage: Storage) -> None:
    async def handler(_: TelegramObject, data: dict[str, Any]) -> str:
        session: AsyncSession = data["session"]
        assert current_session.get() is session
        session.add(person(1))
        await session.flush()
        return "done"

    assert await DbSessionMiddleware(storage.sessionmaker)(handler, TelegramObject(), {}) == "done"
    assert held(storage) == 0
    assert current_session.get() is None
    assert await people(storage) == 1


async def test_a_read_only_update_gives_its_connection_back(storage: Storage) -> None:
    async def handler(_: TelegramObject, data: dict[str, Any]) -> None:
        await data["session"].execute(text("SELECT 1"))
        assert held(storage) == 1

    await DbSessionMiddleware(storage.sessionmaker)(handler, TelegramObject(), {})
    assert held(storage) == 0


async def test_a_failed_update_is_rolled_back_and_its_connection_given_back(
    storage: Storage,
) -> None:
    async def handler(_: TelegramObject, data: dict[str, Any]) -> None:
        data["session"].add(person(2))
        await data["session"].flush()
        raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await DbSessionMiddleware(storage.sessionmaker)(handler, TelegramObject(), {})
    assert held(storage) == 0
    assert await people(storage) == 0
