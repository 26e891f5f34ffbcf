"""The sandbox seeds what a newcomer needs to try every role, the family's included."""

from __future__ import annotations

from bot import sandbox
from bot.crypto import IdentityCipher
from bot.emulator.page import PERSONAS
from db.repositories import cases as cases_repo
from db.repositories import people
from db.repositories import staff as staff_repo
from db.repositories import updates as updates_repo


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
                assert role == (None if persona.role in {"supporter", "family"} else persona.role)
                if persona.role == "family":
                    # A relative of the hearing case, quiet as a relative's chat is.
                    assert person is not None and person.id is not None
                    case = await cases_repo.by_slug(session, sandbox.DEMO_HEARING_CASE)
                    assert case is not None and case.id is not None
                    assert await updates_repo.is_family(session, case.id, person.id)
                    assert person.discreet and person.autodelete_hours == 24
    finally:
        await storage.engine.dispose()
        await running.stop()
