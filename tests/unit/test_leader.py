"""One scheduler leader among instances on PostgreSQL; a lost leader is replaced."""

import pytest

from bot.delivery.leader import Leadership
from db.engine import create_engine
from tests.conftest import PG_URL


async def test_sqlite_instance_always_leads(settings):
    engine = create_engine(settings.database_url)
    try:
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert await Leadership(engine).try_acquire()
    finally:
        await engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set")
async def test_one_leader_among_instances():
    assert PG_URL is not None
    engines = [create_engine(PG_URL) for _ in range(3)]
    try:
        leaders = [Leadership(e) for e in engines]
        results = [await leader.try_acquire() for leader in leaders]
        assert results == [True, False, False]
        await leaders[0].release()  # the leader stops (or its connection dies)
        assert await leaders[1].try_acquire()
        assert not await leaders[2].try_acquire()
        await leaders[1].release()
    finally:
        for engine in engines:
            await engine.dispose()
