"""The async engine and session factory; SQLite is tuned for safety at connect time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db import pg_driver
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


# Connections a process keeps to PostgreSQL, unless told otherwise (DATABASE_POOL_SIZE).
POSTGRES_POOL_SIZE = 15

# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it has lain idle.

    SQLAlchemy's pool_pre_ping pings at every checkout: on PostgreSQL a round trip more
    for every update (a card's session took four: ping, BEGIN, SELECT, COMMIT), about a
    sixth of its CPU. A connection in steady use was working milliseconds ago; the one
    that the server closed during a quiet hour (a restart, an idle timeout) is the one
    that lay idle. A connection that fails in use all the same (a restart in a busy
    moment) makes the pool drop the others of its age, and its caller, the dispatcher or
    the delivery worker, waits the outage out and tries again (bot/outage.py)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool throws this connection away and hands out a new one.
            raise DisconnectionError("an idle connection did not answer") from exc


def create_engine(
    url: str, *, postgres_pool_size: int = POSTGRES_POOL_SIZE, **kwargs: Any
) -> AsyncEngine:
    """An AsyncEngine for DATABASE_URL; creates the SQLite file's folder if needed.
    `postgres_pool_size` (DATABASE_POOL_SIZE) sizes PostgreSQL's pool; SQLite's is its own.

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
    # A fixed pool, SQLAlchemy's most (5 kept, 10 more) kept open: under a crowd the
    # 10 were closed as they came back and opened again a moment later, each a new
    # server process and a new round of asyncpg's and SQLAlchemy's setup queries (150
    # connections in one benchmarks.speed run, a third of the server's CPU).
    kwargs.setdefault("pool_size", postgres_pool_size)
    kwargs.setdefault("max_overflow", 0)
    # The connection used last goes out first, so that in a quiet hour the few in use
    # stay warm and only the others lie idle long enough to be pinged.
    kwargs.setdefault("pool_use_lifo", True)
    if make_url(url).get_driver_name() == "asyncpg":
        # No transaction for a session that only reads (db/pg_driver.py), which holds
        # only under READ COMMITTED: asked of every transaction, whatever the server's
        # default.
        kwargs.setdefault("module", pg_driver.dbapi())
        kwargs.setdefault("isolation_level", "READ COMMITTED")
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


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
