"""A database answers only to the DATA_KEY it was made with."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlmodel import col

from bot.crypto import IdentityCipher, generate_key
from bot.services import identity
from bot.storage import prepare
from config import ConfigError
from db.models import KeyCheck, Person


async def test_another_key_is_refused_and_nothing_changes(settings):
    storage = await prepare(settings)
    async with storage.sessionmaker() as session, session.begin():
        await identity.ensure(session, IdentityCipher(settings.key_bytes), 7_700_000_001, "en")
    await storage.engine.dispose()

    other = settings.model_copy(update={"data_key": SecretStr(generate_key()), "admin_ids": [42]})
    with pytest.raises(ConfigError) as err:
        await prepare(other)
    assert str(err.value).startswith("DATA_KEY: not the key this database was made with")

    again = await prepare(settings)  # the right key still works, and nothing was added
    async with again.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
        assert await session.scalar(select(func.count()).select_from(KeyCheck)) == 1
        stored = (await session.execute(select(col(KeyCheck.fingerprint)))).scalar_one()
    await again.engine.dispose()
    assert settings.data_key is not None
    assert settings.data_key.get_secret_value().encode() not in stored  # never the key


def test_the_fingerprint_tells_keys_apart():
    one, two = IdentityCipher(bytes(range(32))), IdentityCipher(bytes(range(1, 33)))
    assert one.fingerprint() == IdentityCipher(bytes(range(32))).fingerprint()
    assert one.fingerprint() != two.fingerprint()
    assert bytes(range(32)) not in one.fingerprint()


async def test_a_database_from_before_fingerprints_takes_only_a_key_that_reads_it(settings):
    """Upgraded from before migration 0009, a database has no fingerprint: the first key to
    start must read its people, or a wrong one would be taken for good."""
    from sqlalchemy import text

    storage = await prepare(settings)
    async with storage.sessionmaker() as session, session.begin():
        await identity.ensure(session, IdentityCipher(settings.key_bytes), 7_700_000_002, "en")
        await session.execute(text("DROP TABLE check_term_seeds"))
        await session.execute(text("ALTER TABLE check_terms DROP COLUMN country"))
        await session.execute(text("DROP TABLE address_waits"))
        await session.execute(text("DROP TABLE running_processes"))
        await session.execute(text("DROP TABLE key_rotation"))
        await session.execute(text("DROP TABLE key_check"))
        await session.execute(text("ALTER TABLE people DROP COLUMN greeted"))
        await session.execute(text("ALTER TABLE people DROP COLUMN panic_seal"))
        await session.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    await storage.engine.dispose()

    wrong = settings.model_copy(update={"data_key": SecretStr(generate_key())})
    with pytest.raises(ConfigError) as err:
        await prepare(wrong)
    assert str(err.value).startswith("DATA_KEY: not the key this database was made with")
    storage = await prepare(settings)  # nothing was changed: the right key upgrades it
    async with storage.sessionmaker() as session:
        stored = (await session.execute(select(col(KeyCheck.fingerprint)))).scalar_one()
        assert stored == IdentityCipher(settings.key_bytes).fingerprint()
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
    await storage.engine.dispose()
    with pytest.raises(ConfigError):
        await prepare(wrong)
