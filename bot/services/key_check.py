"""DATA_KEY is the key the database was made with, or the bot does not start.

With another key, every stored identity is unreadable: old followers would become
strangers, people and staff rows would be made again for the same persons, and alerts to
the old ones would fail for good. The database keeps a keyed fingerprint of its key
(never the key); a database from before the fingerprint takes the key it is first
started with, if that key reads the people already stored.
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
    half-way through a rotation of its key. A database without a fingerprint yet (new,
    or from before fingerprints) must at least let the key read the people it holds:
    otherwise the first key to start would be taken, a wrong one included."""
    if await repo.exists(engine):
        if await repo.rotating(engine, session):
            raise ConfigError(UNDER_WAY)
        known = await repo.stored(session)
        if known is not None:
            if not hmac.compare_digest(known, cipher.fingerprint()):
                raise ConfigError(MISMATCH)
            return
    for blob in await repo.some_identities(engine, session, 3):
        try:
            cipher.decrypt_id(blob)
        except ValueError:
            raise ConfigError(MISMATCH) from None


async def remember(session: AsyncSession, cipher: IdentityCipher) -> None:
    """Store the key's fingerprint if the database has none yet (after `verify`)."""
    if await repo.stored(session) is None:
        await repo.store(session, cipher.fingerprint())
