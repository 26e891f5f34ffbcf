"""A paced request leaves the send budget when its bytes are written: a stall of the
event loop between the budget and the socket does not bunch requests together."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from aiogram import Bot
from aiohttp import ClientSession, TraceConfig, TraceRequestChunkSentParams, web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.client import build_bot
from bot.json_session import JsonBodySession
from bot.pacing import LocalBudget, limits_from
from config import Settings

MESSAGE = {"message_id": 7, "date": 1, "chat": {"id": 42, "type": "private"}, "text": "hi"}


async def answer(_: web.Request) -> web.Response:
    return web.json_response({"ok": True, "result": MESSAGE})


@pytest.fixture
async def api() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


class Wire:
    """When each request's first bytes went, and a stall of the event loop for the
    first request, after the budget let it go and before its bytes are written."""

    def __init__(self, stall: float) -> None:
        self.stall = stall
        self.written: list[float] = []
        self.trace = TraceConfig()
        self.trace.on_request_headers_sent.append(self._headers)
        self.trace.on_request_chunk_sent.append(self._chunk)

    async def _headers(self, _s: ClientSession, _c: SimpleNamespace, _p: object) -> None:
        if self.stall:
            # Runs before the task that writes the body: the loop (or the process) is
            # held up just there, as a busy machine does.
            asyncio.get_running_loop().call_soon(time.sleep, self.stall)
            self.stall = 0.0

    async def _chunk(
        self, _s: ClientSession, _c: SimpleNamespace, _p: TraceRequestChunkSentParams
    ) -> None:
        self.written.append(time.monotonic())


async def test_a_stall_before_the_socket_does_not_bunch_requests(settings: Settings, api: str):
    paced = settings.model_copy(
        update={"telegram_api_url": api, "delivery_rate": 4.0, "send_margin": 0.0}
    )
    budget = LocalBudget(limits_from(paced))
    bot: Bot = build_bot(paced, budget=budget, remember=False)
    wire = Wire(stall=0.4)  # longer than a slot (0.25 s)
    assert isinstance(bot.session, JsonBodySession)
    bot.session.trace_configs.append(wire.trace)
    try:
        await asyncio.gather(bot.send_message(1, "first"), bot.send_message(2, "second"))
    finally:
        await bot.session.close()
    first, second = wire.written
    # The second went half a slot after the first really went, not when the first was
    # let go by the budget.
    assert second - first >= 0.5 * budget.limits.interval(False) - 0.001


REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)
async def test_a_request_held_up_past_its_shared_slot_takes_a_new_one(settings: Settings, api: str):
    # Two processes on one schedule in Redis (a bot of its own: parallel tests share it).
    token = f"{random.randrange(10**9, 10**10)}:DEPART"
    shared = settings.model_copy(
        update={
            "telegram_api_url": api,
            "bot_token": SecretStr(token),
            "delivery_rate": 4.0,
            "send_margin": 0.0,
            "redis_url": REDIS_URL,
        }
    )
    bots = [build_bot(shared, remember=False) for _ in range(2)]
    wire = Wire(stall=0.4)  # the first request's process is held up past its slot
    for bot in bots:
        assert isinstance(bot.session, JsonBodySession)
        bot.session.trace_configs.append(wire.trace)
    try:
        await asyncio.gather(bots[0].send_message(1, "first"), bots[1].send_message(2, "second"))
    finally:
        for bot in bots:
            await bot.session.close()
        redis = Redis.from_url(str(REDIS_URL))
        if keys := await redis.keys(f"umid:budget:{{{token.split(':')[0]}}}:*"):
            await redis.delete(*keys)
        await redis.aclose()
    first, second = sorted(wire.written)
    # Sent when it was let go, the held-up one would have reached Telegram 0.1 s before
    # the other process's next slot.
    assert second - first >= 0.25 - 0.01
