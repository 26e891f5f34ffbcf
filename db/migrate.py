"""Alembic, driven from code: `python -m bot run` and the tests bring the schema up to date."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x756D6964  # "umid"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def _run(engine: AsyncEngine, command_fn: Callable[[Config, str], None], rev: str) -> None:
    def _with(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command_fn(cfg, rev)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several instances may start at once: one migrates, the others wait.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_with)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the engine's database."""
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Revert migrations down to `revision` (used by the migration tests)."""
    await _run(engine, command.downgrade, revision)
