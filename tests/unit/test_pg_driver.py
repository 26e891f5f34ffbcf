"""On PostgreSQL a session that only reads, with statements marked as plain reads, begins
no transaction (one round trip for a card's statement, not three); the first other
statement begins it, and what follows runs inside it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import create_engine
from db.pg_driver import plain_read
from db.repositories import cases as cases_repo
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set")

probe = Table("pg_driver_probe", MetaData(), Column("n", Integer))


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    assert PG_URL is not None
    # One connection, so that the temporary table is there for every session.
    engine = create_engine(PG_URL, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        await conn.execute(text("CREATE TEMPORARY TABLE pg_driver_probe (n integer)"))
        await conn.commit()
    yield engine
    await engine.dispose()


async def in_transaction(session: AsyncSession) -> bool:
    """Whether the server holds a transaction open for the session's connection."""
    raw = await (await session.connection()).get_raw_connection()
    return bool(raw.driver_connection.is_in_transaction())  # type: ignore[union-attr]


async def test_a_plain_read_begins_no_transaction(engine):
    async with AsyncSession(engine) as session:
        assert (
            await session.execute(plain_read(select(func.count()).select_from(probe)))
        ).scalar_one() == 0
        assert not await in_transaction(session)
        await session.commit()


async def test_an_unmarked_read_begins_one_as_before(engine):
    async with AsyncSession(engine) as session:
        await session.execute(select(func.count()).select_from(probe))
        assert await in_transaction(session)


async def test_after_a_write_a_plain_read_runs_inside_the_transaction(engine):
    async with AsyncSession(engine) as session:
        await session.execute(plain_read(select(probe.c.n)))
        await session.execute(insert(probe).values(n=7))
        assert await in_transaction(session)
        # It sees the write it follows, so it ran in the write's transaction.
        assert (await session.execute(plain_read(select(probe.c.n)))).scalars().all() == [7]
        await session.rollback()
    async with AsyncSession(engine) as session:
        assert (await session.execute(plain_read(select(probe.c.n)))).scalars().all() == []


async def test_a_stronger_isolation_keeps_its_snapshot(engine):
    async with AsyncSession(engine) as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await session.execute(plain_read(select(probe.c.n)))
        assert await in_transaction(session)


async def test_a_server_whose_default_is_stronger_still_reads_committed():
    assert PG_URL is not None
    server_settings = {"default_transaction_isolation": "repeatable read"}
    engine = create_engine(PG_URL, connect_args={"server_settings": server_settings})
    try:
        async with AsyncSession(engine) as session:
            await session.execute(plain_read(select(literal(1))))
            assert not await in_transaction(session)
            await session.execute(select(literal(1)))
            assert await session.scalar(text("SHOW transaction_isolation")) == "read committed"
    finally:
        await engine.dispose()


async def test_a_streamed_read_begins_a_transaction(engine):
    # asyncpg's cursors live only in a transaction.
    async with AsyncSession(engine) as session:
        result = await session.stream(plain_read(select(probe.c.n)))
        assert [row async for row in result] == []
        assert await in_transaction(session)


def test_a_statement_that_locks_rows_is_no_plain_read():
    with pytest.raises(ValueError, match="locks rows"):
        plain_read(select(probe.c.n).with_for_update())


async def test_the_card_statement_is_a_plain_read(storage):
    async with storage.sessionmaker() as session:
        assert await cases_repo.reader_view(session, 1, None, None) is None
        assert not await in_transaction(session)
