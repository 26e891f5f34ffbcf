"""Migrations: every revision goes up and down, head matches the models exactly, and two
migrators at once take turns."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import db.models  # noqa: F401
from bot.crypto import generate_key
from db.engine import create_engine
from db.migrate import alembic_config, downgrade, upgrade
from tests.conftest import PG_URL, ROOT, reset_postgres


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


# A migrator poised at a barrier: everything imported, then `python -m bot db upgrade`
# (the same as `python -m bot run` does first: bot.storage.prepare) the moment the go
# file appears, so that the two start within a millisecond of each other.
RACER = """
import sys, time
from pathlib import Path

import bot.storage  # noqa: F401  (imported before the barrier, not in the race)
from bot.__main__ import main

ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.001)
sys.exit(main(["db", "upgrade"]))
"""


async def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


def test_two_upgrades_at_once_are_serialised(tmp_path: Path):
    """Two migrators on one new database at the same moment: both succeed, one of them
    migrates and the other finds the schema at head (no "table already exists")."""
    # Without db.migrate.serialised this fails nearly every time: on SQLite both create the
    # tables; on PostgreSQL both store the key's fingerprint (duplicate key_check row).
    if PG_URL:
        asyncio.run(reset_postgres(PG_URL))
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'umid.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    # One DATA_KEY, as two instances of one deployment have.
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url, DATA_KEY=generate_key())
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(flag), str(go)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(flag.exists() for flag in ready):
            assert all(p.poll() is None for p in procs), "a migrator exited before the barrier"
            assert time.monotonic() < deadline, "the migrators did not reach the barrier"
            time.sleep(0.01)
        go.touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert asyncio.run(_versions(url)) == [head]
