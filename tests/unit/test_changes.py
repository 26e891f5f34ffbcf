"""db.changes: a committed write to a watched table is announced once the connection is
back in the pool; a rollback, a read or another table's write is not."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select, text, update
from sqlmodel import col

from db.changes import on_commit_of_writes
from db.models import Case, Person


async def test_only_committed_writes_to_watched_tables_are_announced(storage, small_cases):
    seen: list[str] = []
    stop = on_commit_of_writes(storage.engine, ["cases"], lambda: seen.append("cleared"))
    try:
        async with storage.sessionmaker() as s:
            await s.execute(select(Case))
            await s.commit()
        assert seen == []
        async with storage.sessionmaker() as s:
            await s.execute(update(Case).values(photo=None))
            await s.rollback()
        assert seen == []
        async with storage.sessionmaker() as s:
            await s.execute(update(Person).where(col(Person.id) == -1).values(locale="en"))
            await s.commit()
        assert seen == []
        async with storage.sessionmaker() as s:
            await s.execute(update(Case).values(photo=None))
            await s.commit()
        assert seen == ["cleared"]
        async with storage.engine.begin() as conn:  # a Core transaction, not a session
            await conn.execute(update(Case).values(photo=None))
        assert seen == ["cleared", "cleared"]
        async with storage.engine.connect() as conn:  # SQL as text is not recognised
            await conn.execute(text("SELECT 1"))
    finally:
        stop()
    async with storage.sessionmaker() as s:
        await s.execute(update(Case).values(photo=None))
        await s.commit()
    assert seen == ["cleared", "cleared"]


async def test_two_watchers_of_one_engine_each_hear_their_tables(storage, small_cases):
    """The card's facts and the people seen lately watch the same engine: one watcher
    took the other's marks, and the people kept were never cleared."""
    seen: list[str] = []
    stops = [
        on_commit_of_writes(storage.engine, ["cases"], lambda: seen.append("cases")),
        on_commit_of_writes(storage.engine, ["people"], lambda: seen.append("people")),
    ]
    try:
        async with storage.sessionmaker() as s:
            await s.execute(update(Person).where(col(Person.id) == -1).values(locale="en"))
            await s.commit()
        assert seen == ["people"]
        async with storage.sessionmaker() as s:
            await s.execute(update(Case).values(photo=None))
            await s.execute(update(Person).where(col(Person.id) == -1).values(locale="en"))
            await s.commit()
        assert sorted(seen) == ["cases", "people", "people"]
    finally:
        for stop in stops:
            stop()


async def test_new_rows_can_be_left_out(storage, small_cases):
    seen: list[str] = []
    stop = on_commit_of_writes(storage.engine, ["people"], lambda: seen.append("x"), inserts=False)
    try:
        async with storage.sessionmaker() as s, s.begin():
            s.add(Person(tg_index=b"n" * 32, tg_cipher=b"c", locale="en"))
        assert seen == []
        async with storage.sessionmaker() as s, s.begin():
            await s.execute(update(Person).values(locale="ru"))
        assert seen == ["x"]
    finally:
        stop()


async def test_a_cancelled_statement_gives_its_connection_back(storage, small_cases):
    """A statement cancelled while it runs (a handler stopped at shutdown) invalidates its
    connection. The rollback listener then read that connection's info, which raised
    PendingRollbackError in place of the cancellation, from inside the session's close."""
    stop = on_commit_of_writes(storage.engine, ["cases"], lambda: None)
    statements: list[str] = []
    slow_begun = asyncio.Event()

    def running(*args: object) -> None:
        statements.append(str(args[2]))
        if len(statements) == 2:
            slow_begun.set()

    slow = (
        "SELECT pg_sleep(5)"
        if storage.engine.dialect.name == "postgresql"
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000)"
        " SELECT count(*) FROM c"
    )

    async def read() -> None:
        async with storage.sessionmaker() as s:
            await s.execute(update(Case).values(photo=None))
            await s.execute(text(slow))

    event.listen(storage.engine.sync_engine, "before_cursor_execute", running)
    try:
        task = asyncio.create_task(read())
        await slow_begun.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", running)
        stop()
    assert storage.engine.sync_engine.pool.checkedout() == 0
