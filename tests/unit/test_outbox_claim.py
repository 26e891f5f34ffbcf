"""Several workers claim from one outbox at once, and no delivery is leased to two of them.

On SQLite the Python driver opens a transaction only at the first write, so a claim that
reads the due rows and then leases them lets another claim read the same rows in between:
two workers sent the same alert (the spike test with two instances, now and then)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from bot.crypto import IdentityCipher
from bot.delivery.outbox import enqueue
from bot.delivery.specs import StatusSpec
from bot.services import identity
from bot.storage import Storage
from config import Settings
from db.repositories import outbox as repo
from db.types import utcnow

PEOPLE = 60


async def test_concurrent_claims_never_lease_a_delivery_twice(settings: Settings, storage: Storage):
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as session, session.begin():
        people = [await identity.ensure(session, cipher, 10_000 + n, "en") for n in range(PEOPLE)]
        await session.flush()
        await enqueue(
            session,
            person_ids=[person.id for person in people if person.id is not None],
            spec=StatusSpec(case_id=1, new_status="released"),
            batch="claims",
            key="claims",
        )

    async def claim() -> list[int]:
        async with storage.sessionmaker() as session, session.begin():
            claimed = await repo.claim(session, utcnow(), 5, dt.timedelta(seconds=120))
            return [item.id for item in claimed]

    leased: Counter[int] = Counter()
    while any(rounds := await asyncio.gather(*(claim() for _ in range(8)))):
        leased.update(delivery for taken in rounds for delivery in taken)
    assert len(leased) == PEOPLE
    assert [delivery for delivery, times in leased.items() if times > 1] == []
