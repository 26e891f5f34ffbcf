"""Backups and restores: a running bot's database, copied while it writes, restores into a
fresh database that reaches the same followers; and the refusals that keep data safe (an
existing backup, a database that is not empty, another DATA_KEY)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, col

from bot.crypto import IdentityCipher, generate_key
from bot.services import backup, processes, updates
from bot.storage import Storage, prepare
from config import Settings
from db.engine import create_engine, is_sqlite
from db.migrate import alembic_config, upgrade
from db.models import Delivery
from db.models import Person as PersonRow
from db.repositories import cases as cases_repo
from db.repositories import key_check as key_check_repo
from tests.conftest import PG_URL, SMALL_CASES
from tests.support import Driver, Person
from tests.test_cli import run_cli

SUPPORTERS = [Person(7_100_000 + n) for n in range(4)]
# The follower the writer adds n-th while the backup is taken.
WRITER_BASE = 7_200_000
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _pg_dump_or_skip(url: str) -> None:
    if not is_sqlite(url) and shutil.which("pg_dump") is None:
        pytest.skip("this run uses PostgreSQL, and pg_dump/pg_restore are not on PATH")


@asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    """A uniquely named PostgreSQL database beside the one `url` names, made and dropped
    through the `postgres` maintenance database."""
    base = make_url(url)
    name = f"umid_restore_{secrets.token_hex(4)}"
    maintenance = create_engine(
        base.set(database="postgres").render_as_string(hide_password=False)
    ).execution_options(isolation_level="AUTOCOMMIT")
    async with maintenance.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with maintenance.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await maintenance.dispose()


@pytest.fixture
async def fresh_url(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the run's kind to restore into: a SQLite file not made yet,
    or a new PostgreSQL database (pg_dump needed, or the test is skipped)."""
    _pg_dump_or_skip(db_url)
    if is_sqlite(db_url):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'umid.sqlite3'}"
        return
    async with scratch_database(db_url) as url:
        yield url


def on(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"database_url": url})


async def follow(driver: Driver, person: Person) -> None:
    assert "You now follow this case" in (await driver.send(person, "/follow Testov")).text


async def recipients_of_an_update(storage: Storage, cipher: IdentityCipher) -> set[int]:
    """Publish news on the followed case; the Telegram ids its alerts go to, decrypted."""
    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None
        update = await updates.publish(s, case, "news", {"en": "A visit was allowed."}, actor="cli")
    async with storage.sessionmaker() as s:
        rows = await s.execute(
            select(col(PersonRow.tg_cipher))
            .join(Delivery, col(Delivery.person_id) == col(PersonRow.id))
            .where(col(Delivery.dedupe_key).startswith(f"update:{update.id}:"))
        )
        return {cipher.decrypt_id(blob) for blob in rows.scalars()}


async def people_of(storage: Storage, cipher: IdentityCipher) -> set[int]:
    async with storage.sessionmaker() as s:
        rows = await s.execute(select(col(PersonRow.tg_cipher)))
        return {cipher.decrypt_id(blob) for blob in rows.scalars()}


async def restored_storage(settings: Settings, url: str) -> Storage:
    """The restored database as the bot opens it at start (which checks DATA_KEY again)."""
    return await prepare(on(settings, url))


async def test_a_backup_taken_while_the_bot_writes_restores_to_the_same_followers(
    driver: Driver, storage: Storage, settings: Settings, small_cases, tmp_path, fresh_url
):
    for person in SUPPORTERS:
        await follow(driver, person)
    joined: list[int] = []  # the writer's followers, each once its follow is committed
    under_way, stop = asyncio.Event(), asyncio.Event()

    async def keep_following() -> None:
        while not stop.is_set():
            person = Person(WRITER_BASE + len(joined))
            await follow(driver, person)
            joined.append(person.id)
            if len(joined) == 3:
                under_way.set()

    writer = asyncio.create_task(keep_following())
    try:
        await asyncio.wait_for(under_way.wait(), timeout=60)
        committed_before = len(joined)
        file = tmp_path / "umid.backup"
        await backup.backup(settings.database_url, file)
        committed_after = len(joined)
    finally:
        stop.set()
        await writer

    cipher = IdentityCipher(settings.key_bytes)
    done = await backup.restore(fresh_url, file, cipher)
    assert done.revision_after == HEAD
    restored = await restored_storage(settings, fresh_url)
    try:
        reached = await recipients_of_an_update(restored, cipher)
        everyone = await people_of(restored, cipher)
    finally:
        await restored.engine.dispose()
    # The copy is the database of one moment: every follow committed before the backup
    # began, then the writer's next ones in order up to some point, none skipped; at most
    # the one in flight as it ended besides those committed by then.
    taken = reached - {p.id for p in SUPPORTERS}
    assert {p.id for p in SUPPORTERS} <= reached
    assert taken == {WRITER_BASE + n for n in range(len(taken))}
    assert committed_before <= len(taken) <= committed_after + 1
    # Each person came with their follow (one transaction): no one without it.
    assert everyone == reached


async def test_a_write_not_committed_when_the_backup_is_taken_is_not_in_it(
    driver: Driver, storage: Storage, settings: Settings, small_cases, tmp_path, fresh_url
):
    await follow(driver, SUPPORTERS[0])
    cipher = IdentityCipher(settings.key_bytes)
    file = tmp_path / "umid.backup"
    async with storage.sessionmaker() as s:
        await follow_in(s, cipher, SUPPORTERS[1].id)
        await s.flush()  # written, not committed
        await backup.backup(settings.database_url, file)
        await s.commit()
    await backup.restore(fresh_url, file, cipher)
    restored = await restored_storage(settings, fresh_url)
    try:
        assert await recipients_of_an_update(restored, cipher) == {SUPPORTERS[0].id}
    finally:
        await restored.engine.dispose()
    assert await recipients_of_an_update(storage, cipher) == {p.id for p in SUPPORTERS[:2]}


async def follow_in(s, cipher: IdentityCipher, tg_id: int) -> None:
    from bot.services import follows, identity

    person = await identity.ensure(s, cipher, tg_id, "en")
    case = await cases_repo.by_slug(s, "test-detained")
    assert case is not None and case.id is not None
    await follows.follow(s, person, case.id)


async def test_a_backup_is_owner_only_and_an_existing_file_is_kept_unless_forced(
    storage: Storage, settings: Settings, tmp_path: Path
):
    _pg_dump_or_skip(settings.database_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    file = folder / "umid.backup"
    file.write_text("an older backup")
    with pytest.raises(backup.BackupError, match=r"exists; nothing was written .*--force"):
        await backup.backup(settings.database_url, file)
    assert file.read_text() == "an older backup"

    mask = os.umask(0)  # even so: the backup holds sealed reports and encrypted ids
    try:
        written = await backup.backup(settings.database_url, file, force=True)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert written.size == file.stat().st_size > len("an older backup")
    assert os.listdir(folder) == ["umid.backup"]  # nothing half-written


async def test_restore_refuses_a_database_that_is_not_empty_unless_forced(
    driver: Driver, storage: Storage, settings: Settings, small_cases, tmp_path, fresh_url
):
    await follow(driver, SUPPORTERS[0])
    cipher = IdentityCipher(settings.key_bytes)
    file = tmp_path / "umid.backup"
    await backup.backup(settings.database_url, file)
    await follow(driver, SUPPORTERS[1])

    with pytest.raises(backup.BackupError, match=r"not empty .*nothing was restored.*--force"):
        await backup.restore(settings.database_url, file, cipher)
    assert await recipients_of_an_update(storage, cipher) == {p.id for p in SUPPORTERS[:2]}

    # An application table without a single row is not empty either.
    engine = create_engine(fresh_url)
    async with engine.begin() as conn:
        table = SQLModel.metadata.tables["key_check"]
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=[table]))
    await engine.dispose()
    with pytest.raises(backup.BackupError, match="it has the table key_check"):
        await backup.restore(fresh_url, file, cipher)

    # Forced, never under a bot that says it is running.
    async with storage.sessionmaker() as s, s.begin():
        await processes.beat(s, "a-running-bot")
    with pytest.raises(backup.BackupError, match="stop every instance"):
        await backup.restore(settings.database_url, file, cipher, force=True)
    async with storage.sessionmaker() as s, s.begin():
        await processes.leave(s, "a-running-bot")
    await storage.engine.dispose()  # the bot stopped
    await backup.restore(settings.database_url, file, cipher, force=True)
    again = await prepare(settings)
    try:
        assert await recipients_of_an_update(again, cipher) == {SUPPORTERS[0].id}
    finally:
        await again.engine.dispose()


async def test_restore_refuses_another_data_key_and_touches_nothing(
    driver: Driver, storage: Storage, settings: Settings, small_cases, sqlite_file, tmp_path
):
    await follow(driver, SUPPORTERS[0])
    file = tmp_path / "umid.backup"
    await backup.backup(settings.database_url, file)
    target = tmp_path / "restored" / "umid.sqlite3"
    other = IdentityCipher(load_key(generate_key()))
    with pytest.raises(backup.BackupError, match="DATA_KEY is not the key the backup was made"):
        await backup.restore(f"sqlite+aiosqlite:///{target}", file, other)
    assert not target.exists()
    assert os.listdir(target.parent) == []  # and no copy left beside it


def load_key(key: str) -> bytes:
    from config import load_settings

    return load_settings(_env_file=None, data_key=key).key_bytes


async def test_an_older_backup_is_brought_to_the_newest_schema(settings: Settings, tmp_path):
    old = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{old}")
    await upgrade(engine, "0008")  # before the key's fingerprint was kept
    await engine.dispose()
    file = tmp_path / "old.backup"
    await backup.backup(f"sqlite+aiosqlite:///{old}", file)
    target = f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}"
    done = await backup.restore(target, file, IdentityCipher(settings.key_bytes))
    assert (done.revision_before, done.revision_after) == ("0008", HEAD)
    # The key's fingerprint is kept from now on: another key is refused at start.
    storage = await prepare(on(settings, target))
    try:
        async with storage.sessionmaker() as s:
            assert (
                await key_check_repo.stored(s) == IdentityCipher(settings.key_bytes).fingerprint()
            )
    finally:
        await storage.engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: set TEST_DATABASE_URL")
async def test_postgres_round_trip_through_a_scratch_database(
    driver: Driver, storage: Storage, settings: Settings, small_cases, tmp_path
):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore (PostgreSQL client tools) are not on PATH")
    for person in SUPPORTERS:
        await follow(driver, person)
    cipher = IdentityCipher(settings.key_bytes)
    file = tmp_path / "umid.dump"
    written = await backup.backup(settings.database_url, file)
    assert written.backend == "postgresql" and stat.S_IMODE(file.stat().st_mode) == 0o600
    with file.open("rb") as dump:
        assert dump.read(5) == b"PGDMP"  # pg_dump's custom format
    async with scratch_database(settings.database_url) as url:
        done = await backup.restore(url, file, cipher)
        assert done.revision_before == done.revision_after == HEAD
        with pytest.raises(backup.BackupError, match="not empty"):
            await backup.restore(url, file, cipher)
        await backup.restore(url, file, cipher, force=True)  # --clean --if-exists
        restored = await restored_storage(settings, url)
        try:
            assert await recipients_of_an_update(restored, cipher) == {p.id for p in SUPPORTERS}
        finally:
            await restored.engine.dispose()
    async with scratch_database(settings.database_url) as url:
        other = IdentityCipher(load_key(generate_key()))
        with pytest.raises(backup.BackupError, match="restored but not migrated"):
            await backup.restore(url, file, other)


async def test_without_pg_dump_it_says_what_to_run_and_never_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    url = "postgresql+asyncpg://umid:s3cret@db.example:5433/umid?ssl=require"
    file = tmp_path / "umid.dump"
    with pytest.raises(backup.ToolMissing) as missing:
        await backup.backup(url, file)
    said = str(missing.value)
    assert "s3cret" not in said and "\n" not in said
    assert missing.value.command.startswith("PGPASSWORD='<the password in DATABASE_URL>' ")
    assert "pg_dump --format=custom --no-password" in said
    assert "'--dbname=postgresql://umid@db.example:5433/umid?sslmode=require'" in said
    assert os.listdir(tmp_path) == []
    (tmp_path / "x").write_bytes(b"PGDMP")
    with pytest.raises(backup.ToolMissing, match="pg_restore --no-owner") as missing:
        await backup.restore(url, tmp_path / "x", IdentityCipher(load_key(generate_key())))
    assert "s3cret" not in str(missing.value)


def test_libpq_url_keeps_the_password_off_the_command_line():
    url, password = backup.libpq_url(
        "postgresql+asyncpg://u%40x:p%40ss@db:5433/umid?ssl=true&prepared_statement_cache_size=0"
    )
    assert (url, password) == ("postgresql://u%40x@db:5433/umid?sslmode=require", "p@ss")
    assert backup.libpq_url("postgresql+asyncpg://postgres@127.0.0.1/test") == (
        "postgresql://postgres@127.0.0.1/test",
        None,
    )


def test_the_commands_say_in_one_line_what_they_did(tmp_path: Path):
    key = generate_key()
    source = {"DATA_KEY": key, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/a.db"}
    assert run_cli("cases", "import", str(SMALL_CASES), env=source).returncode == 0
    assert "DATA_KEY" in run_cli("backup", "--help").stdout
    file = tmp_path / "umid.backup"

    made = run_cli("backup", str(file), env={"DATABASE_URL": source["DATABASE_URL"]})
    assert made.returncode == 0, made.stderr  # no DATA_KEY needed to copy bytes
    assert len(made.stdout.strip().splitlines()) == 1 and "does not hold DATA_KEY" in made.stdout
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    again = run_cli("backup", str(file), env=source)
    assert again.returncode == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1

    target = {"DATA_KEY": key, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/b.db"}
    restored = run_cli("restore", str(file), env=target)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"Restored {file} (schema {HEAD})")
    exported = [yaml.safe_load(run_cli("cases", "export", env=e).stdout) for e in (source, target)]
    assert exported[0] == exported[1] and len(exported[0]["cases"]) == 3
    refused = run_cli("restore", str(file), env=target)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    wrong = {"DATA_KEY": generate_key(), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/c.db"}
    refused = run_cli("restore", str(file), env=wrong)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("Restore: DATA_KEY is not the key the backup was made with")
    assert len(refused.stderr.strip().splitlines()) == 1
