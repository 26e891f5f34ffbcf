"""The async engine and session factory; SQLite is tuned for safety at connect time."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db.sqlite_driver import quick_connect


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # secure_delete overwrites deleted content, so /forget removes the bytes, not just rows.
    for pragma in (
        "PRAGMA foreign_keys=ON",
        "PRAGMA secure_delete=ON",
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA busy_timeout=10000",
    ):
        cur.execute(pragma)
    cur.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for DATABASE_URL; creates the SQLite file's folder if needed.

    hide_parameters keeps bound values (encrypted ids, index hashes) out of error
    messages, and so out of logs.
    """
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Few connections, each its own thread in aiosqlite: with twenty, readers
            # woke each other for the GIL and waited on WAL read marks in SQLite's busy
            # handler (profile: half the process in usleep), and a crowd got about 30%
            # fewer answers a second (benchmarks/speed.py). Nothing holds a connection
            # while it waits for another, or for Telegram.
            kwargs.setdefault("pool_size", 4)
            kwargs.setdefault("max_overflow", 0)
            # One trip to the connection's thread per statement (db/sqlite_driver.py).
            parsed = make_url(url)
            args, connect_kwargs = parsed.get_dialect()().create_connect_args(parsed)
            kwargs.setdefault("async_creator", quick_connect(args, connect_kwargs))
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def checkpoint(engine: AsyncEngine) -> None:
    """Fold SQLite's WAL into the main file and truncate it, so deleted bytes leave the WAL."""
    if engine.dialect.name != "sqlite":
        return
    for attempt in range(20):
        async with engine.connect() as conn:
            busy = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
        if busy is None or not busy[0]:
            return
        # A reader is in the WAL; the deleted pages stay there until it finishes.
        await asyncio.sleep(0.05 * (attempt + 1))
