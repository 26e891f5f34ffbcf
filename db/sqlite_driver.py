"""aiosqlite with one hand-off to its thread per write, and none for a read or for nothing.

aiosqlite runs each call on the connection's own thread: the caller queues it, the
thread runs it, and wakes the event loop through its self-pipe with the result. For each
statement SQLAlchemy's adapter makes four such calls (open a cursor, execute, fetch the
rows, close the cursor), and a session ends with a commit and a rollback that are two
more, even when nothing was written and SQLite has no transaction open. On a case card
(one SELECT), those six hand-offs were about a sixth of the bot's CPU: each wake-up costs
system calls, and the GIL changes hands twice.

Here a cursor does all of one statement in a single call on the thread (the rows are
fetched at once, as SQLAlchemy's adapter fetches them anyway), and commit and rollback
go to the thread only when SQLite has a transaction open; sqlite3's own commit and
rollback do nothing otherwise. It is given to SQLAlchemy through `async_creator`, its
public hook for making connections (db/engine.py).

A SELECT does not go to the thread at all: it runs on the event loop's. In WAL mode a
reader takes no lock a writer holds and never waits for one, so the thread bought a read
nothing but the hand-off, and in a busy bot that hand-off cost far more than the read:
the thread then waits for the GIL, the loop for the thread's wake-up. A card's statement
cost its bot about 1.3 ms of CPU that way (benchmarks/speed.py: 3.6 -> 2.2 ms per card).
What the loop gives up is SQLite's own reading time for a large SELECT (a staff member's
statistics), which it used to spend turning the rows into Python objects anyway, under
the GIL. Writes, which may wait for another connection's write lock (busy_timeout), and
anything else that is not a plain SELECT, still go to the thread.

It leans on two private names of aiosqlite (`_execute`, `_conn`); aiosqlite is pinned
below 1.0, and tests/unit/test_sqlite_driver.py drives both through a real engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiosqlite

# cursor.description, rowcount, lastrowid, and the rows
_Outcome = tuple[Any, int, int | None, list[Any]]


def reads_only(sql: str) -> bool:
    """Whether `sql` is a plain SELECT, which runs on the loop's thread. A statement that
    begins otherwise (a write, a WITH that may write, a PRAGMA) goes to the connection's."""
    return sql.lstrip()[:6].upper() == "SELECT"


class QuickCursor:
    """A cursor whose statement, rows and all, is one call on the connection's thread."""

    arraysize = 1

    def __init__(self, connection: QuickConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Any = None) -> QuickCursor:
        conn = self._connection.sqlite

        def run() -> _Outcome:
            cursor = conn.cursor()
            try:
                if parameters is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql, parameters)
                rows = cursor.fetchall() if cursor.description else []
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        outcome = run() if reads_only(sql) else await self._connection.call(run)
        self.description, self.rowcount, self.lastrowid, self._rows = outcome
        return self

    async def executemany(self, sql: str, rows: Sequence[Any]) -> QuickCursor:
        conn = self._connection.sqlite

        def run() -> _Outcome:
            cursor = conn.cursor()
            try:
                cursor.executemany(sql, rows)
                return None, cursor.rowcount, cursor.lastrowid, []
            finally:
                cursor.close()

        self.description, self.rowcount, self.lastrowid, self._rows = await self._connection.call(
            run
        )
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class QuickConnection(aiosqlite.Connection):
    """aiosqlite's connection with QuickCursor, and no trip to the thread for a commit
    or rollback with no transaction open.

    Its sqlite3 connection is used from two threads, the loop's for reads and its own
    for the rest, never at once: SQLAlchemy awaits each call on a connection before it
    makes the next, so when a read runs, nothing of this connection is on its thread."""

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection, to be used only on the connection's thread."""
        return self._conn

    async def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` on the connection's thread."""
        return await self._execute(function)  # type: ignore[no-untyped-call]

    async def cursor(self) -> QuickCursor:  # type: ignore[override]
        return QuickCursor(self)

    async def commit(self) -> None:
        # Read on the loop's thread: SQLAlchemy awaits each call on a connection before
        # the next, so nothing runs on the connection's thread meanwhile.
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def quick_connect(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Callable[[], Awaitable[Any]]:
    """An `async_creator` for SQLAlchemy: QuickConnections opened with the arguments the
    aiosqlite dialect would give sqlite3 (`dialect.create_connect_args`)."""

    def connector() -> sqlite3.Connection:
        # Reads run on the loop's thread, the rest on the connection's (QuickConnection).
        connection: sqlite3.Connection = sqlite3.connect(
            *args, **{**kwargs, "check_same_thread": False}
        )
        return connection

    async def connect() -> QuickConnection:
        connection = QuickConnection(connector, 64)
        # As SQLAlchemy does for aiosqlite's own: the thread must not keep the process
        # alive at exit.
        connection._thread.daemon = True
        await connection
        return connection

    return connect
