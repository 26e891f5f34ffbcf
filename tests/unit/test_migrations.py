"""Migrations: every revision goes up and down, and head matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db.engine import create_engine
from db.migrate import alembic_config, downgrade, upgrade


async def test_stairway_and_models_match(settings):
    engine = create_engine(settings.database_url)
    revisions = [
        r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    ][::-1]
    try:
        for index, revision in enumerate(revisions):
            await upgrade(engine, revision)
            await downgrade(engine, revisions[index - 1] if index else "base")
            await upgrade(engine, revision)

        def diff(conn):
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, SQLModel.metadata)

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
        await downgrade(engine, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
    finally:
        await engine.dispose()
