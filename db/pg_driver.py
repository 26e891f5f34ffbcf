"""asyncpg through SQLAlchemy, with no transaction for a session that only reads.

SQLAlchemy's asyncpg adapter begins a transaction at a connection's first statement and
ends it at the session's end: for a case card, whose session reads one row, three round
trips to the server (BEGIN, the statement, COMMIT) where one would do. On a loopback
socket each trip wakes the server's process and then the bot's, and a profile of a bot
answering cards put one sample in twenty in the BEGIN and COMMIT alone.

Under READ COMMITTED, which the engine asks of every transaction whatever the server's
default (db/engine.py), every statement in a transaction reads from a snapshot of its
own, taken when it starts. A plain SELECT that runs before the transaction begins
therefore sees exactly what it would have seen inside it. So a statement marked with
`plain_read` runs outside a transaction when none is open yet, and the session's end has
nothing to commit; the first statement not so marked begins the transaction as before,
and every statement after it, marked or not, runs inside it and sees what it wrote.

Only a statement that reads and does nothing else may be marked: not one that locks
rows (FOR UPDATE, FOR SHARE), takes an advisory lock for the transaction, or calls
anything with an effect, since outside a transaction its effect would end with it. The
mark is a comment after SELECT, so it travels with the compiled statement and needs no
state on the connection between statements; on SQLite it is only a comment (SQLite
begins no transaction for a SELECT anyway, db/sqlite_driver.py).

The adapter is SQLAlchemy's own, given to it through `create_async_engine(module=...)`
(db/engine.py); it overrides one private method, `_start_transaction`, and
tests/unit/test_pg_driver.py drives it through a real engine.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import util
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_cursor,
    AsyncAdapt_asyncpg_dbapi,
)
from sqlalchemy.sql import Select
from sqlalchemy.util import await_only

# The comment that marks a statement as a plain read, right after its SELECT.
PLAIN_READ = "/* plain read */"
_MARKED = f"SELECT {PLAIN_READ}"

# The isolation level under which a plain read outside the transaction sees what it
# would have seen inside. Not None, the server's default, which may have been set to
# another (default_transaction_isolation).
_PER_STATEMENT_SNAPSHOT = "read_committed"

S = TypeVar("S", bound=Select[Any])


def plain_read(statement: S) -> S:
    """`statement` marked as one that only reads, so that on PostgreSQL it runs outside
    a transaction when its session has not begun one (see the module's docstring for
    what may be marked). A statement that locks rows is refused: its lock would end
    with it."""
    if statement._for_update_arg is not None:
        raise ValueError("a statement that locks rows (FOR UPDATE, FOR SHARE) is no plain read")
    return statement.prefix_with(PLAIN_READ)


class _Cursor(AsyncAdapt_asyncpg_cursor):
    __slots__ = ()

    def execute(self, operation: str, parameters: Any = None) -> None:
        connection = self._adapt_connection
        # Read by _start_transaction within this call, and cleared after it, so no
        # statement's mark outlives it. A flag on the connection is safe because
        # SQLAlchemy never runs two statements on one connection at once.
        connection.plain_read = operation.startswith(_MARKED)
        try:
            super().execute(operation, parameters)
        finally:
            connection.plain_read = False


class DeferredBeginConnection(AsyncAdapt_asyncpg_connection):
    """SQLAlchemy's asyncpg connection, which begins no transaction for a plain read."""

    __slots__ = ("plain_read",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_read = False

    def cursor(self, server_side: bool = False) -> Any:
        # asyncpg's cursors (server_side) live only in a transaction.
        return super().cursor(server_side) if server_side else _Cursor(self)

    async def _start_transaction(self) -> None:
        if self.plain_read and self.isolation_level == _PER_STATEMENT_SNAPSHOT:
            return
        await super()._start_transaction()


class DeferredBeginDBAPI(AsyncAdapt_asyncpg_dbapi):
    """SQLAlchemy's asyncpg DBAPI, whose connections are DeferredBeginConnections."""

    def connect(self, *args: Any, **kwargs: Any) -> DeferredBeginConnection:
        if util.asbool(kwargs.pop("async_fallback", False)):
            raise ValueError("async_fallback is not supported")
        creator = kwargs.pop("async_creator_fn", self.asyncpg.connect)
        cache_size = kwargs.pop("prepared_statement_cache_size", 100)
        name_func = kwargs.pop("prepared_statement_name_func", None)
        return DeferredBeginConnection(
            self,
            await_only(creator(*args, **kwargs)),
            prepared_statement_cache_size=cache_size,
            prepared_statement_name_func=name_func,
        )


def dbapi() -> DeferredBeginDBAPI:
    """The DBAPI module to give `create_async_engine` for a postgresql+asyncpg URL."""
    import asyncpg

    return DeferredBeginDBAPI(asyncpg)
