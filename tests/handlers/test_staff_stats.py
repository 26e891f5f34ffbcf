"""/stats: counts for every staff role, nothing for anyone else, and never a person."""

from __future__ import annotations

import pytest

from bot.crypto import IdentityCipher
from bot.services import staff
from tests.support import Driver, Person


@pytest.mark.parametrize("role", [None, "broadcaster", "editor", "admin"])
async def test_stats(driver: Driver, storage, settings, small_cases, role):
    for i in range(3):
        await driver.send(Person(id=9_300_000_100 + i, language_code="kk"), "/follow Testov")
    viewer = Person(id=9_300_000_001)
    if role:
        async with storage.sessionmaker() as s, s.begin():
            await staff.grant(s, IdentityCipher(settings.key_bytes), viewer.id, role, "test", "en")
    reply = await driver.send(viewer, "/stats")
    if role is None:
        assert "I do not know this command" in reply.text
        return
    assert "Supporters: 4" in reply.text  # three followers and the viewer
    assert "Қазақша: 3" in reply.text
    assert "Alisher Testov: 3 · 0" in reply.text
    assert "9300000" not in reply.text
