"""The sandbox: the local Bot API emulator, the bot connected to it with the demo cases,
and a page where anyone can try the bot without Telegram."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from pydantic import SecretStr

from bot import heap
from bot.crypto import IdentityCipher
from bot.emulator import Emulator
from bot.emulator.page import PERSONAS
from bot.emulator.server import RunningEmulator, serve
from bot.services import case_files, courts, families, identity, staff
from bot.storage import Storage, prepare
from config import Settings
from db.models import Hearing, HearingKind
from db.repositories import cases as cases_repo
from db.types import utcnow

log = logging.getLogger(__name__)
DEMO_CASES = Path(__file__).resolve().parent / "data" / "demo_cases.yaml"
# An invented case, marked as such in every language, with an address: the only one
# whose card can be followed to its end (the real cases have no prison address).
EXAMPLE_CASE = Path(__file__).resolve().parent / "data" / "example_case.yaml"
SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///data/sandbox.sqlite3"
DEMO_HEARING_CASE = "dauletmurat-tadzhimuratov"


def sandbox_settings(
    settings: Settings, api_url: str, token: str, database_url: str = SANDBOX_DATABASE_URL
) -> Settings:
    """The bot's settings pointed at the emulator and at the sandbox's own database file.

    Whatever DATABASE_URL and REDIS_URL name is never opened: the sandbox grants roles to
    its personas, adds a hearing, and its worker would drain a real outbox into the
    emulator and mark real followers unreachable."""
    return settings.model_copy(
        update={
            "bot_token": SecretStr(token),
            "telegram_api_url": api_url,
            "database_url": database_url,
            "redis_url": None,
            "admin_ids": [],
            "webhook_url": None,
        }
    )


async def seed(storage: Storage, cipher: IdentityCipher) -> None:
    """Demo cases in an empty database, a hearing a few minutes ahead to watch for, the
    staff personas' roles, and the family persona's case."""
    async with storage.sessionmaker() as session, session.begin():
        for persona in PERSONAS:
            if persona.role in staff.ROLES:
                await staff.grant(
                    session, cipher, persona.user_id, persona.role, "sandbox", persona.language_code
                )
        if not await cases_repo.count_all(session):
            for path in (DEMO_CASES, EXAMPLE_CASE):
                source = await asyncio.to_thread(path.read_text, encoding="utf-8")
                await case_files.apply(session, case_files.parse(source, str(path)))
        case = await cases_repo.by_slug(session, DEMO_HEARING_CASE)
        if case is None or case.id is None:
            return
        for persona in PERSONAS:
            if persona.role == "family":
                relative = await identity.ensure(
                    session, cipher, persona.user_id, persona.language_code
                )
                await families.add_relative(session, relative, case.id)
        if await cases_repo.next_hearing(session, case.id, utcnow()) is None:
            starts = (utcnow() + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
            session.add(
                Hearing(
                    case_id=case.id,
                    starts_at=starts,
                    timezone="Asia/Tashkent",
                    court=courts.catalogue()["uz-supreme"].stored,
                    kind=HearingKind.APPEAL,
                )
            )


async def start(
    settings: Settings, port: int, database_url: str = SANDBOX_DATABASE_URL
) -> tuple[RunningEmulator, Settings, Storage]:
    """Serve the emulator and page, prepare the sandbox database; the bot is not started."""
    emulator = Emulator()
    try:
        running = await serve(emulator, port)
    except OSError:
        # The usual port is taken (an earlier sandbox still running, or another program):
        # any free one will do, and the person is told, since the address changes.
        running = await serve(emulator, 0)
        print(
            f"Port {port} is in use, so the sandbox takes {running.url.rsplit(':', 1)[1]} "
            "instead. To choose one: python3 dev.py run --port N",
            flush=True,
        )
    # A relative joined by an invitation link, so has started the bot: the case's alerts
    # reach them before their persona is first opened on the page.
    for persona in PERSONAS:
        if persona.role == "family":
            relative = emulator.add_user(
                persona.language_code, persona.label.split(" · ")[0], persona.user_id
            )
            relative.started = True
    bot_settings = sandbox_settings(settings, running.url, emulator.token, database_url)
    storage = await prepare(bot_settings)
    await seed(storage, IdentityCipher(bot_settings.key_bytes))
    return running, bot_settings, storage


async def run(settings: Settings, port: int = 8765) -> None:
    """Run the sandbox until interrupted."""
    from bot.runner import run as run_bot

    running, bot_settings, storage = await start(settings, port)
    print(
        "\nNo BOT_TOKEN is set, so Umid runs in the local sandbox: nothing reaches Telegram.\n"
        f"The sandbox keeps its own database ({SANDBOX_DATABASE_URL.split('///', 1)[1]}); "
        "DATABASE_URL and REDIS_URL are not used.\n"
        f"Open {running.url}/ in a browser to talk to the bot.\n"
        "To run the real bot, put BOT_TOKEN=... from @BotFather into .env.\n",
        flush=True,
    )
    try:
        await run_bot(bot_settings, storage=storage, started=heap.settle)
    finally:
        await storage.engine.dispose()
        await running.stop()
