"""The SQLite driver under the engine: one trip to the connection's thread per write, none
for a read or for a commit or rollback with nothing to end, and everything SQLAlchemy
relies on (rows, row counts, RETURNING, inserted keys, errors, rollback, streaming) as
before."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, exc, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_sessionmaker
from db.sqlite_driver import QuickConnection

NOTES = Table(
    "notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("body", String, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(NOTES.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a connection's thread."""
    seen: list[str] = []
    real = QuickConnection._execute

    async def counted(self: QuickConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(QuickConnection, "_execute", counted)
    return seen


async def test_a_read_makes_no_trip_and_its_session_ends_without_one(
    engine: AsyncEngine, trips: list[str]
):
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.connection()  # the pool's connection is made and checked first
        trips.clear()
        assert list(await session.scalars(select(NOTES.c.id))) == []
        await session.commit()
    assert trips == []


async def test_a_read_within_a_write_sees_it(engine: AsyncEngine, trips: list[str]):
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.execute(insert(NOTES).values(body="mine"))
        assert list(await session.scalars(select(NOTES.c.body))) == ["mine"]
        await session.rollback()
    assert trips == ["run", "rollback"]  # the insert and its undoing; the read on the loop


async def test_a_read_does_not_wait_for_another_s_write_lock_and_a_write_waits_off_the_loop(
    engine: AsyncEngine, tmp_path: Path
):
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(insert(NOTES).values(body="committed"))
    other = sqlite3.connect(tmp_path / "driver.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO notes (body) VALUES ('not yet')")
    try:
        async with sessions() as session:
            # WAL: the read sees what was committed, at once, though the lock is held.
            assert list(await session.scalars(select(NOTES.c.body))) == ["committed"]
        writing = asyncio.ensure_future(write(sessions, "waits"))
        # The write waits on its thread for the lock; the loop meanwhile runs on.
        for _ in range(3):
            await asyncio.sleep(0)
        assert not writing.done()
    finally:
        other.execute("COMMIT")
        other.close()
    await writing
    async with sessions() as session:
        bodies = list(await session.scalars(select(NOTES.c.body).order_by(NOTES.c.id)))
    assert bodies == ["committed", "not yet", "waits"]


async def write(sessions: async_sessionmaker[AsyncSession], body: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(insert(NOTES).values(body=body))


async def test_writes_rows_counts_keys_and_returning(engine: AsyncEngine, trips: list[str]):
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        inserted = cast(
            CursorResult[Any], await session.execute(insert(NOTES).values(body="first"))
        )
        assert inserted.inserted_primary_key == (1,)
        await session.execute(insert(NOTES), [{"body": "second"}, {"body": "third"}])
        changed = cast(
            CursorResult[Any],
            await session.execute(
                update(NOTES).where(NOTES.c.id > 1).values(body=NOTES.c.body + "!")
            ),
        )
        assert changed.rowcount == 2
        returned = await session.execute(
            update(NOTES).where(NOTES.c.id == 1).values(body="one").returning(NOTES.c.body)
        )
        assert returned.scalar_one() == "one"
        trips.clear()
        await session.commit()
    assert trips == ["commit"]  # a transaction was open: the commit went to the thread
    async with sessions() as session:
        rows = (await session.execute(select(NOTES.c.body).order_by(NOTES.c.id))).all()
    assert [body for (body,) in rows] == ["one", "second!", "third!"]


async def test_a_rollback_undoes_and_errors_are_sqlalchemy_s(engine: AsyncEngine):
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.execute(insert(NOTES).values(body="kept"))
        await session.commit()
        await session.execute(insert(NOTES).values(body="undone"))
        await session.rollback()
        with pytest.raises(exc.IntegrityError):
            await session.execute(insert(NOTES).values(body="kept"))
        await session.rollback()
    async with sessions() as session:
        assert list(await session.scalars(select(NOTES.c.body))) == ["kept"]


async def test_streamed_results_arrive_whole(engine: AsyncEngine):
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(insert(NOTES), [{"body": f"n{i}"} for i in range(25)])
    async with sessions() as session:
        streamed = await session.stream(select(NOTES.c.body).order_by(NOTES.c.id))
        bodies = [body async for (body,) in streamed]
    assert bodies == [f"n{i}" for i in range(25)]
