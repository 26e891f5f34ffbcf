"""A crowd on PostgreSQL is served by the connections the pool keeps: none is closed as
it comes back and opened again a moment later (each a new server process)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import build_storage
from config import ConfigError, load_settings
from db.engine import POSTGRES_POOL_SIZE, create_engine
from tests.conftest import PG_URL

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set"
)


async def crowd(engine: AsyncEngine, people: int, together: int) -> None:
    """`people` readers, each holding its connection until `together` hold one at once."""
    holding = 0
    enough = asyncio.Event()

    async def reader() -> None:
        nonlocal holding
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            holding += 1
            if holding == together:
                enough.set()
            await enough.wait()

    await asyncio.gather(*(reader() for _ in range(people)))


@needs_postgres
async def test_a_crowd_reuses_the_connections_kept():
    assert PG_URL is not None
    engine = create_engine(PG_URL)
    opened: list[Any] = []
    event.listen(engine.sync_engine, "connect", lambda conn, _record: opened.append(conn))
    try:
        for _ in range(3):
            # As many at once as the old pool allowed (5 kept, 10 more), and more waiting.
            await crowd(engine, 2 * POSTGRES_POOL_SIZE, together=POSTGRES_POOL_SIZE)
    finally:
        await engine.dispose()
    assert len(opened) == POSTGRES_POOL_SIZE


async def test_database_pool_size_sizes_the_pool(settings):
    sized = settings.model_copy(update={"database_pool_size": 6})
    storage = build_storage(sized)
    try:
        expected = 4 if sized.database_url.startswith("sqlite") else 6  # SQLite keeps its own
        assert storage.engine.pool.size() == expected  # type: ignore[attr-defined]
    finally:
        await storage.engine.dispose()


def test_a_pool_too_small_to_start_is_refused():
    with pytest.raises(ConfigError, match="DATABASE_POOL_SIZE"):
        load_settings(_env_file=None, database_pool_size=4)
