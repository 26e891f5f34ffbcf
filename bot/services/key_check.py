"""DATA_KEY is the key the database was made with, or the bot does not start.

With another key, every stored identity is unreadable: old followers would become
strangers, people and staff rows would be made again for the same persons, and alerts to
the old ones would fail for good. The database keeps a keyed fingerprint of its key
(never the key); a database from before the fingerprint takes the key it is first
started with.
"""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.crypto import IdentityCipher
from config import ConfigError
from db.repositories import key_check as repo

MISMATCH = (
    "DATA_KEY: not the key this database was made with; nothing was changed. Start with "
    "the key the database was made with"
)
UNDER_WAY = (
    "DATA_KEY: a key rotation is under way; nothing was changed. Finish it with "
    "`python -m bot keys rotate` (DATA_KEY and NEW_DATA_KEY as before), then start with "
    "the new key"
)


async def verify(engine: AsyncEngine, session: AsyncSession, cipher: IdentityCipher) -> None:
    """ConfigError (one line naming DATA_KEY) when the database knows another key, or is
    half-way through a rotation of its key."""
    if not await repo.exists(engine):
        return
    if await repo.rotating(engine, session):
        raise ConfigError(UNDER_WAY)
    known = await repo.stored(session)
    if known is not None and not hmac.compare_digest(known, cipher.fingerprint()):
        raise ConfigError(MISMATCH)


async def remember(session: AsyncSession, cipher: IdentityCipher) -> None:
    """Store the key's fingerprint if the database has none yet."""
    if await repo.stored(session) is None:
        await repo.store(session, cipher.fingerprint())
