"""The sandbox seeds what a newcomer needs to try every role."""

from __future__ import annotations

from bot import sandbox
from bot.crypto import IdentityCipher
from bot.emulator.page import PERSONAS
from db.repositories import people
from db.repositories import staff as staff_repo


async def test_staff_personas_have_their_roles(settings):
    running, bot_settings, storage = await sandbox.start(settings, 0)
    try:
        await sandbox.seed(storage, IdentityCipher(bot_settings.key_bytes))  # twice: no harm
        cipher = IdentityCipher(bot_settings.key_bytes)
        async with storage.sessionmaker() as session:
            for persona in PERSONAS:
                person = await people.by_index(session, cipher.index(persona.user_id))
                role = (
                    await staff_repo.role_of(session, person.id) if person and person.id else None
                )
                assert role == (None if persona.role == "supporter" else persona.role)
    finally:
        await storage.engine.dispose()
        await running.stop()
