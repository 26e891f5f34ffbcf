"""Alembic, driven from code: `python -m bot run` and the tests bring the schema up to date.

Migrators are serialised per database: instances that start together, and a
`python -m bot db upgrade` run as one starts, each wait for the one before, then find the
schema at head and do nothing. Without that, two would both see an empty alembic_version
and both create the tables ("table already exists"), or both write the same first rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

try:
    import fcntl
except ImportError:  # not POSIX (Windows): SQLite migrations are not serialised there
    fcntl = None  # type: ignore[assignment]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock keys ("umid" and neighbours; bot/delivery/leader.py holds +1).
# Taken by every transaction that migrates or seeds (older releases take it too).
MIGRATION_LOCK = 0x756D6964
# Held for the whole of serialised(): schema and the first rows written after it.
PREPARE_LOCK = 0x756D6964 + 2

# The databases this task (and the tasks it starts) holds the lock of: `serialised` inside
# `serialised` for the same database goes straight through instead of waiting for itself.
_held: ContextVar[frozenset[str]] = ContextVar("_held", default=frozenset())


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_lock_file(engine: AsyncEngine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None  # in memory: one process only
    return Path(f"{database}.migrate.lock").resolve()


@contextlib.asynccontextmanager
async def _flock(path: Path) -> AsyncIterator[None]:
    # SQLite: an exclusive flock on a file beside the database, not the database's own
    # locking. BEGIN IMMEDIATE would make the second migrator give up after busy_timeout
    # (a long batch migration outlasts it), and the rows written after the schema go
    # through other connections, which would wait on our own write lock. A flock waits as
    # long as needed, spans every connection of this process, and the kernel drops it when
    # the process ends, so a crash leaves no stale lock. (The empty file stays.)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Waits in a thread, not on the event loop. If this task is cancelled while the
        # thread waits, closing fd below still ends the lock once the thread's flock returns.
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


@contextlib.asynccontextmanager
async def _advisory_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    # A session-level lock on a connection of its own, held while other connections
    # migrate and seed. Not MIGRATION_LOCK: those connections take that one per
    # transaction, and would wait for this one forever.
    conn = await engine.connect()
    released = False
    try:
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PREPARE_LOCK})
        await conn.commit()  # the lock outlives the transaction; the session stays idle
        yield
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PREPARE_LOCK})
        await conn.commit()
        released = True
    finally:
        if not released:
            # Not back into the pool still holding the lock: closing the session ends it.
            await conn.invalidate()
        await conn.close()


@contextlib.asynccontextmanager
async def serialised(engine: AsyncEngine) -> AsyncIterator[None]:
    """One holder at a time per database, across processes and instances: PostgreSQL by
    an advisory lock, a SQLite file by a file lock beside it. Re-entrant: within it, the
    same database's lock is already held, and taking it again does not wait."""
    if engine.dialect.name == "postgresql":
        name = engine.url.render_as_string(hide_password=True)
        lock: contextlib.AbstractAsyncContextManager[None] = _advisory_lock(engine)
    else:
        path = _sqlite_lock_file(engine) if engine.dialect.name == "sqlite" else None
        if path is None or fcntl is None:
            yield
            return
        name, lock = str(path), _flock(path)
    held = _held.get()
    if name in held:
        yield
        return
    async with lock:
        token = _held.set(held | {name})
        try:
            yield
        finally:
            _held.reset(token)


async def _run(engine: AsyncEngine, command_fn: Callable[[Config, str], None], rev: str) -> None:
    def _with(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command_fn(cfg, rev)

    async with serialised(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # As older releases do, which know no PREPARE_LOCK: serialised with them too.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_with)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the engine's database (waits for a migrator
    already at work on it, see `serialised`)."""
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Revert migrations down to `revision` (used by the migration tests)."""
    await _run(engine, command.downgrade, revision)
