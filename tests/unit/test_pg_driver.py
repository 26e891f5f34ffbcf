"""On PostgreSQL a session that only reads, with statements marked as plain reads, begins
no transaction (one round trip for a card's statement, not three); the first other
statement begins it, and what follows runs inside it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text
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


async def test_an_advisory_lock_for_the_transaction_is_not_a_plain_read(engine):
    async with AsyncSession(engine) as session:
        await session.execute(select(func.pg_advisory_xact_lock(4242)))
        assert await in_transaction(session)
        held = await session.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242")
        )
        assert held == 1


async def test_the_card_statement_is_a_plain_read(storage):
    async with storage.sessionmaker() as session:
        assert await cases_repo.reader_view(session, 1, None, None) is None
        assert not await in_transaction(session)
