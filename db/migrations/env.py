"""Alembic environment: uses the connection handed over by db.migrate, or the URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on the metadata)
from db.engine import create_engine

target_metadata = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="db.types.",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online_from_url(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_configure)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        from config import load_settings

        url = load_settings().database_url
    asyncio.run(_online_from_url(url))
