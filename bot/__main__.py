"""Command line: python -m bot run | db upgrade | backup | restore | cases import/export |
keys generate/rotate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import heap, logs
from bot.crypto import generate_key
from config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.services.case_files import CaseFile


log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Umid bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="start the bot (long polling, or webhook when WEBHOOK_URL is set); "
        "without BOT_TOKEN, the local sandbox",
    )
    run.add_argument("--port", type=int, default=8765, help="sandbox page port (default 8765)")
    sub.add_parser(
        "worker", help="run only the delivery engine (worker and planning jobs), no updates"
    )
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    cases = sub.add_parser("cases", help="import or export the YAML case file")
    cases_sub = cases.add_subparsers(dest="action", required=True)
    imp = cases_sub.add_parser("import", help="validate FILE whole, then upsert its cases by slug")
    imp.add_argument("file", type=Path)
    imp.add_argument("--if-empty", action="store_true", help="only when there are no cases yet")
    exp = cases_sub.add_parser("export", help="write every case as YAML")
    exp.add_argument("file", type=Path, nargs="?", help="standard output when omitted")
    staff = sub.add_parser("staff", help="staff roles bound to numeric Telegram ids")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    add = staff_sub.add_parser(
        "add", help="grant ROLE (admin, editor, broadcaster) to a numeric id"
    )
    add.add_argument("id", type=int)
    add.add_argument("role", choices=["admin", "editor", "broadcaster"])
    rm = staff_sub.add_parser("revoke", help="take the role away from a numeric id")
    rm.add_argument("id", type=int)
    staff_sub.add_parser("list", help="roles by keyed hash (no ids are stored to show)")
    audit = sub.add_parser("audit", help="the audit log of staff actions")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    audit_export = audit_sub.add_parser("export", help="CSV; standard output without FILE")
    audit_export.add_argument("file", type=Path, nargs="?")
    backup_help = (
        "copy the database to FILE (mode 0600), safe while the bot runs: SQLite's backup "
        "API, or pg_dump -Fc on PostgreSQL. DATA_KEY is not in the backup, and the backup "
        "cannot be read without it: keep the key elsewhere"
    )
    backup = sub.add_parser("backup", help=backup_help, description=backup_help)
    backup.add_argument("file", type=Path)
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore_help = (
        "restore the backup FILE into an empty database and migrate it (pg_restore on "
        "PostgreSQL); DATA_KEY must be the key the backup was made with"
    )
    restore = sub.add_parser("restore", help=restore_help, description=restore_help)
    restore.add_argument("file", type=Path)
    restore.add_argument(
        "--force",
        action="store_true",
        help="restore into a database that is not empty, replacing its data",
    )
    keys = sub.add_parser("keys", help="encryption keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("generate", help="print a new random key for DATA_KEY")
    keys_sub.add_parser(
        "rotate",
        help="move every stored identity and hash from DATA_KEY to NEW_DATA_KEY (stop the "
        "bot and workers first; safe to run again if interrupted)",
    )
    return parser


async def _db_upgrade(settings: Settings) -> None:
    from bot.storage import prepare

    storage = await prepare(settings)
    await storage.engine.dispose()


async def _backup(settings: Settings, file: Path, force: bool) -> int:
    from bot.services import backup

    try:
        done = await backup.backup(settings.database_url, file, force=force)
    except backup.BackupError as exc:
        print(f"Backup: {exc}", file=sys.stderr)
        return 2
    print(
        f"Backup written to {file} ({_size(done.size)}). It does not hold DATA_KEY and cannot "
        "be read without it: keep the key apart from it, in a password manager say."
    )
    return 0


def _size(size: int) -> str:
    return f"{size / 1024**2:.1f} MiB" if size >= 1024**2 else f"{max(1, size // 1024)} KiB"


async def _restore(settings: Settings, file: Path, force: bool) -> int:
    from bot.crypto import IdentityCipher
    from bot.services import backup

    try:
        done = await backup.restore(
            settings.database_url, file, IdentityCipher(settings.key_bytes), force=force
        )
    except backup.BackupError as exc:
        print(f"Restore: {exc}", file=sys.stderr)
        return 2
    # Templates and letter-checker terms newer than the backup, and ADMIN_IDS, as at start.
    await _db_upgrade(settings)
    migrated = (
        f"schema migrated from {done.revision_before} to {done.revision_after}"
        if done.revision_before != done.revision_after
        else f"schema {done.revision_after}"
    )
    print(f"Restored {file} ({migrated}); DATA_KEY matches it. Start the bot with this key.")
    return 0


async def _rotate(settings: Settings) -> int:
    from bot.crypto import IdentityCipher
    from bot.services.key_rotation import RotationError, rotate
    from bot.storage import build_storage
    from db.migrate import upgrade

    old, new = IdentityCipher(settings.key_bytes), IdentityCipher(settings.new_key_bytes)
    storage = build_storage(settings)
    redis = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
    try:
        await upgrade(storage.engine)
        done = await rotate(
            storage.sessionmaker,
            old,
            new,
            redis=redis,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except RotationError as exc:
        print(f"Key rotation: {exc}", file=sys.stderr)
        return 2
    finally:
        await storage.engine.dispose()
        if redis is not None:
            await redis.aclose()
    if done.already_done:
        print("The database is on NEW_DATA_KEY already; nothing was changed.")
    else:
        print("\n".join(done.lines()))
        print("Now put NEW_DATA_KEY's value in DATA_KEY, remove NEW_DATA_KEY, and start the bot.")
    return 0


def _import(settings: Settings, file: Path, if_empty: bool) -> int:
    from bot.services import case_files

    try:
        source = case_files.read(file)
    except case_files.CaseFileError as exc:
        print(f"{exc}\nNothing was imported.", file=sys.stderr)
        return 2
    try:
        parsed = case_files.parse(source, str(file))
    except case_files.CaseFileError as exc:
        print(f"{exc}\nNothing was imported.", file=sys.stderr)
        return 1
    return asyncio.run(_apply(settings, parsed, str(file), if_empty))


async def _apply(settings: Settings, parsed: CaseFile, name: str, if_empty: bool) -> int:
    from bot.services import case_files
    from bot.storage import prepare
    from db.repositories import cases as cases_repo

    storage = await prepare(settings)
    try:
        async with storage.sessionmaker() as session, session.begin():
            if if_empty and await cases_repo.count_all(session):
                print("cases already present; demo import skipped")
                return 0
            report = await case_files.apply(session, parsed)
    finally:
        await storage.engine.dispose()
    print(
        f"imported {name}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )
    return 0


async def _export(settings: Settings) -> str:
    from bot.services import case_files
    from bot.storage import prepare

    storage = await prepare(settings)
    try:
        async with storage.sessionmaker() as session:
            return await case_files.export(session)
    finally:
        await storage.engine.dispose()


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or SIGTERM or SIGINT arrives, then cancel it, so that its
    clean-up runs: the outbox's leases are handed back and the running-process row goes.

    SIGTERM is what systemd, Docker and Kubernetes send; Python's default for it ends the
    process on the spot. (In polling mode aiogram takes both signals over itself.)"""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    stops = (signal.SIGTERM, signal.SIGINT)
    for stop in stops:
        loop.add_signal_handler(stop, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # cancelled from outside, not by a signal
        log.info("stopped by a signal")
    finally:
        for stop in stops:
            loop.remove_signal_handler(stop)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "keys" and args.action == "generate":
        print(generate_key())
        return 0
    try:
        settings = load_settings()
        logs.configure(settings.log_level, settings.log_format)
        if args.command == "backup":
            # Copies bytes only: no DATA_KEY needed, so a backup job need not hold the key.
            return asyncio.run(_backup(settings, args.file, args.force))
        if args.command == "run":
            settings.key_bytes  # noqa: B018 - fail with the one-line message before any work
            if settings.bot_token is None:
                from bot import sandbox

                asyncio.run(sandbox.run(settings, args.port))
                return 0
            from bot.runner import run

            asyncio.run(_until_signalled(run(settings, started=heap.settle)))
            return 0
        settings.key_bytes  # noqa: B018 - every data command needs the key
        if args.command == "worker":
            _ = settings.token
            from bot.worker_process import run_worker

            asyncio.run(_until_signalled(run_worker(settings)))
            return 0
        if args.command in {"staff", "audit"}:
            from bot.staff_cli import run_staff

            text = asyncio.run(run_staff(settings, args))
            if args.command == "audit" and args.file is not None:
                args.file.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
            return 0
        if args.command == "db":
            asyncio.run(_db_upgrade(settings))
            return 0
        if args.command == "restore":
            return asyncio.run(_restore(settings, args.file, args.force))
        if args.command == "keys":
            return asyncio.run(_rotate(settings))
        if args.action == "import":
            return _import(settings, args.file, args.if_empty)
        text = asyncio.run(_export(settings))
        if args.file is None:
            sys.stdout.write(text)
        else:
            args.file.write_text(text, encoding="utf-8")
        return 0
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
