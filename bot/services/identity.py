"""Who is writing: a person's row from their Telegram id, without ever storing the id."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import DEFAULT_TIMEZONES
from db.models import Person
from db.repositories import people


async def lookup(session: AsyncSession, cipher: IdentityCipher, tg_id: int) -> Person | None:
    """The person with this Telegram id, if they have a row."""
    return await people.by_index(session, cipher.index(tg_id))


async def ensure(session: AsyncSession, cipher: IdentityCipher, tg_id: int, locale: str) -> Person:
    """The person's row, created on first need with the locale they arrived with."""
    person = await lookup(session, cipher, tg_id)
    if person is not None:
        return person
    # Two first updates at once (a double tap) both get here: the index decides.
    await people.add_if_absent(
        session,
        tg_index=cipher.index(tg_id),
        tg_cipher=cipher.encrypt_id(tg_id),
        locale=locale,
        timezone=DEFAULT_TIMEZONES.get(locale, "UTC"),
    )
    person = await lookup(session, cipher, tg_id)
    assert person is not None
    return person
