"""Know when a transaction that wrote to certain tables has committed.

A cache of what many readers share (the case card's facts) is cleared by this, once, in
one place: every write reaches it, through the ORM or a Core statement, from any code
path written now or later. Writes by other processes (another instance, the worker, the
command line) are not seen here; the cache's time-to-live bounds those.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine


def _written_table(context: ExecutionContext | None, inserts: bool = True) -> str | None:
    compiled = getattr(context, "compiled", None)
    if compiled is None:
        return None
    if not ((inserts and context.isinsert) or context.isupdate or context.isdelete):  # type: ignore[union-attr]
        return None
    table = getattr(compiled.statement, "table", None)
    return getattr(table, "name", None)


def on_commit_of_writes(
    engine: AsyncEngine,
    tables: Collection[str],
    callback: Callable[[], None],
    *,
    inserts: bool = True,
) -> Callable[[], None]:
    """Call `callback` once a transaction that wrote to one of `tables` (on this engine)
    has committed. Returns a function that stops watching. With `inserts` false, new
    rows do not count: a cache of rows that exist cannot hold them.

    The engine's commit event comes before the database has committed, and a reader
    that loaded in between would keep the old facts: so the callback runs when the
    connection goes back to the pool, which is after (a session gives its connection
    back at each commit)."""
    watched = frozenset(tables)
    sync = engine.sync_engine
    # Marks of this watcher's own: two watchers of one engine (the card's facts, the
    # people seen lately) must not take each other's.
    written, committed_mark = object(), object()

    def noted(
        conn: Connection,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _many: bool,
    ) -> None:
        if _written_table(context, inserts) in watched:
            conn.info[written] = True

    def committed(conn: Connection) -> None:
        if conn.info.pop(written, False):
            conn.info[committed_mark] = True

    def rolled_back(conn: Connection) -> None:
        # An invalidated connection (a statement cancelled while it ran) has no info to
        # read: reading it raises in the middle of the rollback, and the connection never
        # goes back to the pool. Its info goes with it in any case.
        if not conn.invalidated:
            conn.info.pop(written, None)

    def returned(_dbapi: Any, record: Any) -> None:
        info = getattr(record, "info", None)
        if info is not None and info.pop(committed_mark, False):
            callback()

    listeners: list[tuple[Any, str, Callable[..., None]]] = [
        (sync, "after_cursor_execute", noted),
        (sync, "commit", committed),
        (sync, "rollback", rolled_back),
        (sync.pool, "checkin", returned),
    ]
    for target, name, function in listeners:
        event.listen(target, name, function)

    def stop() -> None:
        for target, name, function in listeners:
            event.remove(target, name, function)

    return stop
