"""INSERT ... ON CONFLICT in the engine's own dialect (SQLite and PostgreSQL share the form).

Savepoints are no substitute here: the SQLite driver sends no BEGIN before SAVEPOINT, so
releasing one commits, and a later rollback would leave half of an action behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, model: Any) -> Insert:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = module.insert(model)
    return stmt


async def insert_ignore(
    session: AsyncSession, model: Any, values: Mapping[str, Any], keys: Sequence[str]
) -> bool:
    """Insert one row unless one with the same `keys` exists; True if it was inserted."""
    stmt: Any = insert_for(session, model).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=list(keys)).returning(
        *model.__table__.primary_key.columns
    )
    return (await session.execute(stmt)).first() is not None
