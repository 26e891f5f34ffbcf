"""PostgreSQL connections are pinged before use only after lying idle: a connection the
server closed during a quiet hour is replaced, and one in steady use costs no ping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

import db.engine
from db.engine import create_engine
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set")


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    assert PG_URL is not None
    engine = create_engine(PG_URL, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def pid_of(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def closed_by_the_server(engine: AsyncEngine) -> int:
    """The pid of the pooled connection, which the server has just closed."""
    pid = await pid_of(engine)
    assert PG_URL is not None
    other = create_engine(PG_URL)
    try:
        async with other.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()
    return pid


async def test_a_connection_closed_while_idle_is_replaced(engine, monkeypatch):
    monkeypatch.setattr(db.engine, "IDLE_PING_SECONDS", 0.0)  # every pooled one is idle
    pid = await closed_by_the_server(engine)
    assert await pid_of(engine) != pid  # a new connection, without an error


async def test_a_connection_in_steady_use_is_not_pinged(engine, monkeypatch):
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(connection: object) -> bool:
        pings.append(connection)
        return bool(ping(connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    for _ in range(3):
        await pid_of(engine)
    assert pings == []
    # Without the ping, the closed connection is handed out as it is: the test above
    # holds only because of it.
    await closed_by_the_server(engine)
    with pytest.raises(DBAPIError):
        await pid_of(engine)
