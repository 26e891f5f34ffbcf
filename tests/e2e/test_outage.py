"""PostgreSQL and Redis restart under a running bot: it says it is not ready meanwhile,
holds what people sent, and answers all of it, once, when they are back."""

from __future__ import annotations

import logging
import os

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.storage import build_storage
from db.models import Follow
from tests.conftest import PG_URL
from tests.e2e.conftest import running_bot
from tests.e2e.local import free_port
from tests.e2e.relay import Relay
from tests.e2e.talk import eventually, from_bot, say

REDIS_URL = os.environ.get("TEST_REDIS_URL")

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set"),
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: TEST_REDIS_URL is not set"),
]


async def readiness(port: int) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/readyz") as response,
    ):
        return response.status, await response.text()


def held(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.outage"]


async def test_the_bot_waits_out_a_database_and_redis_restart(
    settings, storage, small_cases, caplog
):
    caplog.set_level(logging.WARNING, logger="bot.outage")
    assert REDIS_URL is not None
    database, redis = make_url(settings.database_url), make_url(REDIS_URL)
    db_relay = Relay(database.host or "127.0.0.1", database.port or 5432)
    redis_relay = Relay(redis.host or "127.0.0.1", redis.port or 6379)
    relayed = settings.model_copy(
        update={
            "database_url": database.set(
                host="127.0.0.1", port=await db_relay.start()
            ).render_as_string(hide_password=False),
            "redis_url": str(redis.set(host="127.0.0.1", port=await redis_relay.start())),
        }
    )
    through_relay = build_storage(relayed)
    health = free_port()
    try:
        async with running_bot(
            relayed,
            through_relay,
            health_port=health,
            database_url=relayed.database_url,
            redis_url=relayed.redis_url,
        ) as live:
            emu = live.emulator
            early, late = emu.add_user("en"), emu.add_user("ru")
            await say(emu, early, "/start")
            await live.settled()  # nothing in flight when the services go
            assert (await readiness(health))[0] == 200

            await db_relay.cut()
            await redis_relay.cut()

            async def not_ready() -> bool:
                status, body = await readiness(health)
                return (
                    status == 503
                    and '"database": "failing"' in body
                    and ('"redis": "failing"' in body)
                )

            await eventually(not_ready, what="/readyz did not notice the outage")
            await emu.send_text(early, "/follow test-detained")
            await emu.send_text(late, "/start")
            # The bot has taken both updates from Telegram, failed on them, and holds them.
            await eventually(lambda: emu.pending_update_count == 0)
            await eventually(lambda: len(held(caplog)) >= 2, what="nothing was held")
            assert not [m for m in from_bot(emu, late)]

            await db_relay.restore()
            await redis_relay.restore()
            await eventually(lambda: len(from_bot(emu, late)) == 1, what="an update was lost")
            # The follow's confirmation, the case's card, and (a first follow, on UTC) the
            # time zone it set.
            await eventually(lambda: len(from_bot(emu, early)) == 4, what="an update was lost")

            async def ready() -> bool:
                return (await readiness(health))[0] == 200

            await eventually(ready, what="/readyz did not recover")
            await live.settled()
            assert len(from_bot(emu, early)) == 4 and len(from_bot(emu, late)) == 1
        async with storage.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Follow)) == 1
    finally:
        await through_relay.engine.dispose()
        await db_relay.stop()
        await redis_relay.stop()
