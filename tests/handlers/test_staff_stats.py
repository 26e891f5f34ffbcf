"""/stats: counts for every staff role, nothing for anyone else, and never a person."""

from __future__ import annotations

import pytest

from bot.crypto import IdentityCipher
from bot.services import staff
from db.models import Delivery
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


async def test_alerts_and_broadcasts_are_counted_apart(driver: Driver, storage, settings):
    admin = Person(id=9_300_000_201)
    async with storage.sessionmaker() as s, s.begin():
        cipher = IdentityCipher(settings.key_bytes)
        person = await staff.grant(s, cipher, admin.id, "admin", "test", "en")
        for i, (batch, state) in enumerate(
            [
                ("case:1:status", "sent"),
                ("case:1:status", "failed"),
                ("broadcast:7", "sent"),
                ("broadcast:7", "sent"),
                ("broadcast:7:approval", "sent"),  # a note to staff, neither of the two
            ]
        ):
            s.add(
                Delivery(
                    dedupe_key=f"k{i}",
                    person_id=person.id or 0,
                    batch=batch,
                    spec="{}",
                    state=state,
                )
            )
    reply = await driver.send(admin, "/stats")
    assert "Alerts in the last 30 days: 1 delivered, 1 not delivered." in reply.text
    assert "Broadcasts in the last 30 days: 2 delivered, 0 not delivered." in reply.text
