"""The send budget shared through Redis: several processes keep one schedule, and the
budget rides out Redis going away and coming back."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
from typing import TYPE_CHECKING

import pytest

from bot.pacing import Lane, Limits
from bot.pacing.gcra import Verdict

if TYPE_CHECKING:
    from bot.pacing.redis_budget import RedisBudget

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)
LIMITS = Limits(rate=30.0, chat_interval=1.0, chat_burst=3)
STEP = LIMITS.interval(False)


def budget_on(url: str, bot_id: int) -> RedisBudget:
    from redis.asyncio import Redis

    from bot.pacing.redis_budget import RedisBudget

    redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return RedisBudget(
        redis, LIMITS, bot_id=bot_id, chat_key=lambda chat: f"h{chat * 7919}", fallback_rate=5.0
    )


@pytest.fixture
async def bot_id():
    """A bot of its own per test: parallel tests share the Redis database."""
    from redis.asyncio import Redis

    bot = random.randrange(10**9, 10**10)
    yield bot
    redis = Redis.from_url(str(REDIS_URL))
    keys = await redis.keys(f"umid:budget:{{{bot}}}:*")
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_two_processes_keep_one_schedule(bot_id):
    first, second = budget_on(str(REDIS_URL), bot_id), budget_on(str(REDIS_URL), bot_id)
    try:
        waits = []
        for i in range(10):
            budget = first if i % 2 else second
            verdict, wait = await budget._decide(
                Lane.INTERACTIVE, 100 + i, paid=False, max_wait=60.0
            )
            assert verdict is Verdict.GO
            waits.append(wait)
        # One evenly spaced queue, whichever process asked (Redis's clock moves a little).
        gaps = [b - a for a, b in itertools.pairwise(waits)]
        assert all(STEP * 0.5 < gap < STEP * 1.5 for gap in gaps), gaps
        # Bulk in either process waits until the queued replies have had their slots.
        verdict, wait = await first._decide(Lane.BULK, 500, paid=False, max_wait=60.0)
        assert verdict is Verdict.BUSY and wait > 8 * STEP
    finally:
        await first.close()
        await second.close()


async def test_a_chat_and_a_pause_are_shared(bot_id):
    from redis.asyncio import Redis

    first, second = budget_on(str(REDIS_URL), bot_id), budget_on(str(REDIS_URL), bot_id)
    try:
        for _ in range(3):
            assert (await first._decide(Lane.INTERACTIVE, 42, paid=False, max_wait=9))[0] == 1
        # The other process sees that chat's burst used up.
        verdict, later = await second._decide(Lane.BULK, 42, paid=False, max_wait=9)
        if verdict is Verdict.BUSY:  # behind the three replies' slots first
            await asyncio.sleep(later)
            verdict, later = await second._decide(Lane.BULK, 42, paid=False, max_wait=9)
        assert verdict is Verdict.CHAT_BUSY and 0.5 < later <= 1.0
        # A flood wait seen by one process pauses the other.
        await first.pause(3.0)
        for lane in Lane:
            verdict, wait = await second._decide(lane, 43, paid=False, max_wait=9)
            assert verdict is Verdict.BUSY and 2.5 < wait <= 3.0
        # Chats are named by a keyed hash, never by their id.
        redis = Redis.from_url(str(REDIS_URL))
        keys = [
            k.decode() if isinstance(k, bytes) else k
            for k in await redis.keys(f"umid:budget:{{{bot_id}}}:*")
        ]
        await redis.aclose()
        assert f"umid:budget:{{{bot_id}}}:chat:h{42 * 7919}" in keys
        assert not any(k.endswith(":42") for k in keys)
    finally:
        await first.close()
        await second.close()


class Proxy:
    """A TCP relay to the real Redis that can be cut and restored, like a network would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.links):
            writer.close()
        await self.server.wait_closed()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_redis_going_away_pauses_bulk_and_slows_replies_then_recovers(bot_id, caplog):
    from redis.asyncio import Redis

    caplog.set_level(logging.WARNING, logger="bot.pacing.redis_budget")
    port = Redis.from_url(str(REDIS_URL)).connection_pool.connection_kwargs.get("port", 6379)
    database = str(REDIS_URL).rsplit("/", 1)[-1]
    proxy = Proxy(int(port))
    await proxy.start()
    budget = budget_on(f"redis://127.0.0.1:{proxy.port}/{database}", bot_id)
    budget.RETRY_EVERY = 0.0  # every call tries Redis again: no waiting in this test
    try:
        assert (await budget._decide(Lane.BULK, 1, paid=False, max_wait=9))[0] is Verdict.GO
        await proxy.cut()
        # Replies go on, paced by this process at the fallback rate (5/s here).
        waits = []
        for chat in range(3):
            verdict, wait = await budget._decide(Lane.INTERACTIVE, chat, paid=False, max_wait=9)
            assert verdict is Verdict.GO
            waits.append(wait)
        assert budget.degraded
        assert waits[2] == pytest.approx(2 * LIMITS.window / 5.0, abs=0.05)
        # Bulk waits: the outbox keeps what it has not sent.
        verdict, _ = await budget._decide(Lane.BULK, 9, paid=False, max_wait=9)
        assert verdict is Verdict.BUSY
        assert len([r for r in caplog.records if "unreachable" in r.message]) == 1
        # Redis is back: a following call finds it (the first may still meet a connection
        # the cut broke), and says so once.
        await proxy.start()
        for _ in range(3):
            await budget._decide(Lane.BULK, 9, paid=False, max_wait=9)
            if not budget.degraded:
                break
        assert not budget.degraded, "the budget did not find Redis again"
        assert any("is back" in r.message for r in caplog.records)
    finally:
        await budget.close()
        await proxy.cut()
