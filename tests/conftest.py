"""Fixtures: a migrated database (SQLite by default, PostgreSQL when TEST_DATABASE_URL is
set), settings with a fresh key, and a driver that talks to the real dispatcher."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_dispatcher
from bot.crypto import IdentityCipher, generate_key
from bot.services import case_files
from bot.storage import Storage, prepare
from config import Settings, load_settings
from db.engine import create_engine
from db.models import Case
from tests.support import Driver, RecordingSession, make_bot

ROOT = Path(__file__).resolve().parent.parent
DEMO_CASES = ROOT / "bot" / "data" / "demo_cases.yaml"
SMALL_CASES = Path(__file__).resolve().parent / "data" / "cases_small.yaml"
PG_URL = os.environ.get("TEST_DATABASE_URL")


async def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets a database of its own, made beside the one
    TEST_DATABASE_URL names (tests empty their tables, so they cannot share one)."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        exists = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


if PG_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    PG_URL = asyncio.run(_worker_database(PG_URL, os.environ["PYTEST_XDIST_WORKER"]))


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def empty_postgres(url: str) -> None:
    """Every table emptied and its ids restarted; the schema stays (prepare() brings it to
    head if a migration test left it elsewhere). Much quicker than migrating each time."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once per run; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "umid.sqlite3"
    # No key: each test brings its own, and the copy takes the first key it meets.
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{path}")

    async def migrate() -> None:
        storage = await prepare(settings)
        await storage.engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_reset() -> None:
    """Whatever an earlier run left in the PostgreSQL database goes, once per run."""
    if PG_URL:
        asyncio.run(reset_postgres(PG_URL))


@pytest.fixture
async def db_url(tmp_path: Path, sqlite_template: Path, postgres_reset: None) -> str:
    """SQLite in a temporary folder; an emptied PostgreSQL when TEST_DATABASE_URL is set."""
    if PG_URL:
        await empty_postgres(PG_URL)
        return PG_URL
    path = tmp_path / "umid.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def sqlite_file(db_url: str) -> Path:
    """The SQLite file, for tests that read raw bytes; skipped on PostgreSQL."""
    if not db_url.startswith("sqlite"):
        pytest.skip("reads the SQLite file itself; this run uses PostgreSQL")
    return Path(db_url.split("///", 1)[1])


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings(
        _env_file=None,
        database_url=db_url,
        data_key=generate_key(),
        bot_token="42:TEST",
        throttle_rate=1000,
        throttle_burst=1000,
    )


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    storage = await prepare(settings)
    yield storage
    await storage.engine.dispose()


async def load_cases(storage: Storage, path: Path) -> case_files.ImportReport:
    parsed = case_files.parse(path.read_text(encoding="utf-8"), str(path))  # noqa: ASYNC240
    async with storage.sessionmaker() as session, session.begin():
        return await case_files.apply(session, parsed)


@pytest.fixture
async def session(storage: Storage) -> AsyncIterator[AsyncSession]:
    async with storage.sessionmaker() as s:
        yield s


class _Failures(logging.Handler):
    """The handler failures the dispatcher's error handler logged (and swallowed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture
async def driver(settings: Settings, storage: Storage) -> AsyncIterator[Driver]:
    recording = RecordingSession()
    bot = make_bot(recording, IdentityCipher(settings.key_bytes))
    dp = build_dispatcher(settings, storage)
    failures = _Failures()
    app_log = logging.getLogger("bot.app")
    app_log.addHandler(failures)
    try:
        yield Driver(dp=dp, bot=bot, session=recording)
    finally:
        await dp["sent_batch"].close()
        app_log.removeHandler(failures)
    # A handler that raised is logged and swallowed (the person gets a short apology), so
    # a test would pass unless it read the text that never came: fail it here.
    assert failures.seen == [], f"a handler failed: {failures.seen}"
    # "not modified" is Telegram's answer to a repeated press, which the bot expects.
    refused = [e for e in recording.errors if "not modified" not in e]
    assert refused == [], f"Telegram would have refused: {refused}"


@pytest.fixture
async def small_cases(storage: Storage) -> case_files.ImportReport:
    return await load_cases(storage, SMALL_CASES)


@pytest.fixture
async def demo_cases(storage: Storage) -> case_files.ImportReport:
    return await load_cases(storage, DEMO_CASES)


@pytest.fixture
async def addressed_demo_cases(
    storage: Storage, demo_cases: case_files.ImportReport
) -> case_files.ImportReport:
    """The demo cases, each with a made-up address for cards (the real ones have none), so
    that a card can be recorded to any of them."""
    async with storage.sessionmaker() as session, session.begin():
        await session.execute(update(Case).values(prison_address="Test facility 1\nTest town"))
    return demo_cases
