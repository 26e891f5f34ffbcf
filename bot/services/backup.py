"""Backups of the whole database, and restores of them into an empty one.

SQLite is copied with its online backup API (the same copy `.backup` makes in the sqlite3
shell), PostgreSQL with pg_dump's custom format and pg_restore. Both are consistent while
the bot runs and writes. A backup is written beside its file under another name and
renamed when whole, so FILE is never half a backup, and it is readable by its owner alone.

A backup holds the database and nothing else: DATA_KEY is not in it. The identities and
sealed reports in it are ciphertexts that name nobody without the key, and a restored
database is read only with the key it was made with: the restore checks the key's
fingerprint that the database keeps (see `key_check`) and refuses another key.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import inspect, literal, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import db.models  # noqa: F401 - the application's tables, to tell them from others
from bot.crypto import IdentityCipher
from bot.services import key_check, processes
from config import ConfigError
from db.engine import create_engine, create_sessionmaker, is_sqlite
from db.migrate import upgrade

Backend = Literal["sqlite", "postgresql"]
# Query parameters of DATABASE_URL that only asyncpg or SQLAlchemy understand; libpq
# would refuse the whole URL for them.
_DRIVER_ONLY = frozenset({"prepared_statement_cache_size", "statement_cache_size"})
ALEMBIC_TABLE = "alembic_version"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator,
    and says what was left as it was."""


class ToolMissing(BackupError):
    """pg_dump or pg_restore is not on PATH; `command` is what to run instead."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


@dataclass(frozen=True)
class Written:
    """A backup that was written whole."""

    file: Path
    size: int
    backend: Backend


@dataclass(frozen=True)
class Restored:
    """A restore: the schema revision the backup had and the one the database has now."""

    backend: Backend
    revision_before: str | None
    revision_after: str | None


def libpq_url(database_url: str) -> tuple[str, str | None]:
    """DATABASE_URL (`postgresql+asyncpg://...`) as a URL pg_dump and pg_restore take,
    without its password, and the password (for PGPASSWORD: a command line is readable by
    every user of the machine, and stays in shell histories)."""
    url = make_url(database_url)
    query = {k: v for k, v in url.query.items() if k not in _DRIVER_ONLY}
    # asyncpg's `ssl` is libpq's `sslmode` (and takes the same words, or true/false).
    if "ssl" in query:
        ssl = query.pop("ssl")
        mode = ssl if isinstance(ssl, str) else ssl[0]
        query["sslmode"] = {"true": "require", "false": "disable"}.get(mode.lower(), mode)
    # Made anew: URL.set() leaves a field alone when given None, the password included.
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=query,
    )
    return plain.render_as_string(hide_password=False), url.password


async def backup(database_url: str, file: Path, *, force: bool = False) -> Written:
    """Write a consistent copy of the database to `file`, mode 0600, while the bot may be
    running. `file` is replaced only with `force`. SQLite: the backup API; PostgreSQL:
    `pg_dump --format=custom`, or ToolMissing saying what to run when it is not on PATH.
    Raises BackupError, with `file` left as it was, when the copy cannot be made."""
    _check_destination(file, force)
    if is_sqlite(database_url):
        source = _sqlite_path(database_url)
        if not _is_file(source):
            raise BackupError(f"there is no database at {source}; nothing was written")
        size = await _write(file, lambda tmp: asyncio.to_thread(_sqlite_backup, source, tmp))
        return Written(file=file, size=size, backend="sqlite")
    url, password = libpq_url(database_url)
    command = ["pg_dump", "--format=custom", "--no-password", f"--dbname={url}"]
    tool = _tool("pg_dump", [*command, f"--file={file}"], password, f"&& chmod 600 {file}")
    size = await _write(file, lambda tmp: _run([tool, *command[1:], f"--file={tmp}"], password))
    return Written(file=file, size=size, backend="postgresql")


async def restore(
    database_url: str, file: Path, cipher: IdentityCipher, *, force: bool = False
) -> Restored:
    """Restore the backup `file` into the database and migrate it to the newest schema.

    The database must be empty (no application table, no table with rows) unless `force`,
    and no bot or worker may be running on it. The backup must be readable with `cipher`
    (the current DATA_KEY): on SQLite another key is refused before the database is
    touched; on PostgreSQL it is found after pg_restore, and the database is then left
    restored but not migrated. Raises BackupError (ToolMissing without pg_restore)."""
    if not _is_file(file):
        raise BackupError(f"there is no backup at {file}; nothing was restored")
    if is_sqlite(database_url):
        target = _sqlite_path(database_url)
        # A file not made yet is empty; opening it to look would make it.
        if _exists(target):
            await _check_target(database_url, force)
        return await _restore_sqlite(target, file, cipher)
    return await _restore_postgres(database_url, file, cipher, force)


def _is_file(path: Path) -> bool:
    return path.is_file()


def _exists(path: Path) -> bool:
    return path.exists()


def _check_destination(file: Path, force: bool) -> None:
    if file.is_dir():
        raise BackupError(f"{file} is a folder; name the backup file")
    if file.exists() and not force:
        raise BackupError(f"{file} exists; nothing was written (--force replaces it)")
    if not file.parent.is_dir():
        raise BackupError(f"the folder {file.parent} does not exist; nothing was written")


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names no database file; nothing to copy")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy the database at `source` into the file `target` as one file of its own."""
    _sqlite_copy(source, target)
    with closing(_connect(target)) as conn:
        # The copy takes the source's WAL mode; a backup is one file, to copy anywhere.
        conn.execute("PRAGMA journal_mode=DELETE")


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup, in a single step: one read transaction, so the copy is the
    database as of one moment. (Copied a few pages at a time, it would start over at every
    write the bot made meanwhile, and might never finish.) In WAL mode the bot goes on
    writing meanwhile; in rollback mode its writes wait (busy_timeout) until the copy ends."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = _connect(target)
    try:
        src.backup(dst, pages=-1)
        problems = [row[0] for row in dst.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy of {source} is damaged ({problems[0]})")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source}: {exc}") from None
    finally:
        dst.close()
        src.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _reserve(file: Path, tag: str) -> Path:
    """A new empty file beside `file`, readable by its owner alone, to write into and
    rename: a crash leaves a stray hidden file, never a half-written `file`."""
    tmp = file.with_name(f".{file.name}.{tag}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
    finally:
        os.close(fd)
    return tmp


def _discard(path: Path) -> None:
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


async def _write(file: Path, make: Callable[[Path], Awaitable[None]]) -> int:
    """Make the backup in a reserved file beside `file`, put it in place whole, and
    return its size."""
    tmp = _reserve(file, "partial")
    try:
        await make(tmp)
        return _put_in_place(tmp, file)
    finally:
        _discard(tmp)


def _put_in_place(tmp: Path, file: Path) -> int:
    os.chmod(tmp, 0o600)  # in case the tool made the file anew
    # On disk before the rename, and the rename on disk before we say it is done.
    _fsync(tmp)
    os.replace(tmp, file)
    _fsync(file.parent)
    return file.stat().st_size


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tool(name: str, command: list[str], password: str | None, after: str = "") -> str:
    """The full path of `name`, or ToolMissing with `command` to run by hand."""
    found = shutil.which(name)
    if found is not None:
        return found
    secret = "PGPASSWORD='<the password in DATABASE_URL>' " if password else ""
    manual = f"{secret}{shlex.join(command)} {after}".strip()
    raise ToolMissing(
        f"{name} is not on PATH: install the PostgreSQL client tools (the server's major "
        f"version or newer), or run: {manual}",
        manual,
    )


async def _run(command: list[str], password: str | None) -> None:
    """Run pg_dump or pg_restore; BackupError with the last line it wrote if it fails."""
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    proc = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        said = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {said}")


async def _not_empty(engine: AsyncEngine) -> str | None:
    """Why the database is not empty (an application table, or a table with rows), or
    None when it is."""
    ours = set(SQLModel.metadata.tables) | {ALEMBIC_TABLE}
    async with engine.connect() as conn:
        names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        for name in sorted(names):
            if name in ours:
                return f"it has the table {name}"
            if await conn.scalar(select(literal(1)).select_from(table(name)).limit(1)):
                return f"its table {name} has rows"
    return None


async def _check_target(database_url: str, force: bool) -> None:
    """BackupError unless the database is empty, or `force` is given and no bot or worker
    runs on it."""
    engine = create_engine(database_url)
    try:
        why = await _not_empty(engine)
        if why is None:
            return
        if not force:
            raise BackupError(
                f"the database is not empty ({why}); nothing was restored (--force replaces it)"
            )
        await _refuse_running(engine)
    finally:
        await engine.dispose()


async def _refuse_running(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        has_processes = await conn.run_sync(
            lambda sync: inspect(sync).has_table("running_processes")
        )
    if has_processes:
        async with create_sessionmaker(engine)() as session:
            alive = await processes.running(session)
        if alive:
            raise BackupError(
                f"{alive} bot or worker process(es) said they were running on this database "
                f"within the last {int(processes.GONE_AFTER.total_seconds())} s; stop every "
                "instance and worker first. Nothing was restored"
            )


async def _revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda sync: inspect(sync).has_table(ALEMBIC_TABLE)):
            return None
        found = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        return str(found) if found is not None else None


async def _open_with_key(engine: AsyncEngine, cipher: IdentityCipher, after: str) -> None:
    """BackupError unless `cipher` is the key the restored data was made with; `after`
    says where that leaves the database and what to do."""
    try:
        async with create_sessionmaker(engine)() as session:
            await key_check.verify(engine, session, cipher)
    except ConfigError as exc:
        if str(exc) == key_check.UNDER_WAY:
            raise BackupError(
                f"the backup was taken half-way through a rotation of DATA_KEY: {after}, "
                "or restore one taken before or after the rotation"
            ) from None
        raise BackupError(f"DATA_KEY is not the key the backup was made with: {after}") from None


async def _migrate(engine: AsyncEngine, cipher: IdentityCipher) -> None:
    """Bring the restored schema to head, and keep the key's fingerprint if it had none."""
    await upgrade(engine)
    async with create_sessionmaker(engine)() as session, session.begin():
        await key_check.remember(session, cipher)


async def _restore_sqlite(target: Path, file: Path, cipher: IdentityCipher) -> Restored:
    """Check and migrate a copy of the backup beside the database, then copy it in through
    the backup API (the database file stays the same file: a bot or tool that still has it
    open reads the new content, never a mix)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # A folder of its own (mode 0700), so that whatever SQLite and the migrations make
    # beside the copy goes with it.
    stage_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    stage = stage_dir / "restore.sqlite3"
    try:
        await asyncio.to_thread(_sqlite_copy, file, stage)
        engine = create_engine(f"sqlite+aiosqlite:///{stage}")
        try:
            before = await _revision(engine)
            if before is None:
                raise BackupError(f"{file} is not a backup of this bot; nothing was restored")
            await _open_with_key(
                engine,
                cipher,
                "nothing was restored; set DATA_KEY to the key it was made with and run this again",
            )
            await _migrate(engine, cipher)
            after = await _revision(engine)
        finally:
            await engine.dispose()
        if not _exists(target):
            _reserve(target, "new").rename(target)  # a new database, owner-only like a backup
        await asyncio.to_thread(_sqlite_copy, stage, target)
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
    return Restored(backend="sqlite", revision_before=before, revision_after=after)


async def _restore_postgres(
    database_url: str, file: Path, cipher: IdentityCipher, force: bool
) -> Restored:
    url, password = libpq_url(database_url)
    # The tables belong to whoever restores them (the bot's own role), whatever role owned
    # them where the backup was made; one transaction, so a failure leaves nothing half.
    command = ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"]
    if force:
        command += ["--clean", "--if-exists"]
    command += [f"--dbname={url}", str(file)]
    tool = _tool("pg_restore", command, password, "&& python -m bot db upgrade")
    await _check_target(database_url, force)
    await _run([tool, *command[1:]], password)
    engine = create_engine(database_url)
    try:
        before = await _revision(engine)
        if before is None:
            raise BackupError(
                f"{file} is not a backup of this bot (it has no alembic_version); it was "
                "restored, and nothing else was done"
            )
        await _open_with_key(
            engine,
            cipher,
            "the data is restored but not migrated, and the bot will not start; set DATA_KEY "
            "to the key it was made with and run python -m bot db upgrade",
        )
        await _migrate(engine, cipher)
        after = await _revision(engine)
    finally:
        await engine.dispose()
    return Restored(backend="postgresql", revision_before=before, revision_after=after)
