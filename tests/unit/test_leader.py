"""One scheduler leader among instances on PostgreSQL; a lost leader is replaced."""

import asyncio

import pytest
from sqlalchemy import text

from bot.delivery.leader import LEADER_LOCK, Leadership
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


class Timeline:
    """When each instance started and stopped planning, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []
        self.changed = asyncio.Event()

    def plan(self, name: str):
        def record(on: bool) -> None:
            self.events.append((name, on))
            self.changed.set()

        return record

    async def until(self, event: tuple[str, bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while event not in self.events:
                self.changed.clear()
                await self.changed.wait()


async def test_sqlite_instance_plans_until_stopped(settings):
    engine = create_engine(settings.database_url)
    if engine.dialect.name != "sqlite":
        await engine.dispose()
        pytest.skip("SQLite only")
    timeline, stop = Timeline(), asyncio.Event()
    lead = Leadership(engine, check_every=0.05)
    running = asyncio.create_task(lead.run(stop, timeline.plan("one")))
    try:
        await timeline.until(("one", True))
        stop.set()
        await running
        assert timeline.events == [("one", True), ("one", False)]
    finally:
        await engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set")
async def test_a_leader_that_loses_its_connection_stops_before_another_starts():
    assert PG_URL is not None
    engines = [create_engine(PG_URL) for _ in range(3)]
    # The first, once it has lost the lead, does not try again within the test: it would
    # race the second for the freed lock, and under load win it now and then.
    first = Leadership(engines[0], check_every=0.5, retry_every=60, grace=3.0)
    second = Leadership(engines[1], check_every=0.5, retry_every=0.05, grace=3.0)
    timeline, stop = Timeline(), asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop, timeline.plan("first")))]
    try:
        await timeline.until(("first", True))
        tasks.append(asyncio.create_task(second.run(stop, timeline.plan("second"))))
        # The database drops the leader's connection (a restart, a network cut, an
        # operator): the lock goes with it, and the leader is not told.
        async with engines[2].connect() as admin:
            holder = text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = 0 AND objid = :key AND objsubid = 1"
                # Advisory locks are per database; other tests' leaders hold the same key.
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
            )
            pid = await admin.scalar(holder, {"key": LEADER_LOCK})
            assert pid is not None
            assert await admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await timeline.until(("second", True))
        assert timeline.events == [("first", True), ("first", False), ("second", True)]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await second.release()
        for engine in engines:
            await engine.dispose()
