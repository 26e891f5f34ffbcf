"""The database as the application holds it: engine and sessions, schema brought up to date.

Kept free of aiogram so that the CLI's data commands start quickly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.crypto import IdentityCipher
from bot.services import key_check, letter_check, staff, templates
from config import Settings
from db.engine import create_engine, create_sessionmaker
from db.migrate import serialised, upgrade

log = logging.getLogger(__name__)


@dataclass
class Storage:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


def build_storage(settings: Settings) -> Storage:
    engine = create_engine(settings.database_url, postgres_pool_size=settings.database_pool_size)
    return Storage(engine=engine, sessionmaker=create_sessionmaker(engine))


async def prepare(settings: Settings) -> Storage:
    """Migrate the database, add missing letter templates and seed the letter checker's
    lists of languages that have none; safe to repeat, and to run in several processes at
    once (instances starting together, `python -m bot db upgrade`): one prepares, the
    others wait, then find everything done."""
    storage = build_storage(settings)
    try:
        # The whole of it, not only the migrations: two on a new database would both find
        # no key fingerprint, say, and both store one.
        async with serialised(storage.engine):
            await _prepare(storage, settings)
    except BaseException:
        await storage.engine.dispose()
        raise
    return storage


async def _prepare(storage: Storage, settings: Settings) -> None:
    cipher = IdentityCipher(settings.key_bytes) if settings.data_key is not None else None
    if cipher is not None:
        # Before anything is written, the schema included: a wrong key changes nothing.
        async with storage.sessionmaker() as session:
            await key_check.verify(storage.engine, session, cipher)
    await upgrade(storage.engine)
    async with storage.sessionmaker() as session:
        if cipher is not None:
            await key_check.remember(session, cipher)
        added = await templates.sync(session)
        seeded = await letter_check.sync(session)
        if settings.admin_ids and cipher is not None:
            await staff.bootstrap(session, cipher, settings.admin_ids, settings.default_locale)
        await session.commit()
    # Named, since `dev.py run` prepares the real database and then the sandbox's.
    where = storage.engine.url.database or "the database"
    if added:
        log.info("%s: added or changed %d letter templates", where, added)
    if seeded:
        log.info("%s: seeded %d letter checker terms", where, seeded)
