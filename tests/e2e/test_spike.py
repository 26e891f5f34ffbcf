"""A busy day against a Bot API that refuses anything over 30 messages a second: people
join while a release goes out to every follower, and nobody's reply or alert is lost,
in one process and in two sharing the send budget through Redis."""

from __future__ import annotations

import asyncio
import os
import random

import pytest
from sqlalchemy import func, select

from bot.delivery.engine import DeliveryEngine
from bot.emulator import EmulatedUser, Emulator, flood_gate
from bot.i18n import make_i18n
from bot.pacing import build_budget
from bot.presentation.screens import delivery_screens
from bot.services import updates
from db.models import Follow
from db.repositories import cases as cases_repo
from tests.e2e.conftest import running_bot
from tests.e2e.talk import eventually, from_bot, say

REDIS_URL = os.environ.get("TEST_REDIS_URL")
SLUG = "erzhan-elshibayev"
JOINING, BROWSING = 36, 18


@pytest.mark.parametrize("sharing", ["one process", "two processes on Redis"])
async def test_a_busy_day_loses_nothing_and_meets_no_flood_limit(
    settings, storage, demo_cases, sharing
):
    on_redis = sharing != "one process"
    if on_redis and not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    # A bot of its own: parallel tests share the Redis database, and the budget is keyed
    # by the bot.
    # Telegram's 30 a second, with no slack, is kept by the flood gate in front of it.
    emulator = Emulator(token=f"{random.randrange(10**9, 10**10)}:SPIKE", flood_limit=10**6)
    # The bot shares its event loop and cores with the people and the other tests here,
    # so its requests leave less evenly than a bot's own process sends them: the margin
    # is wider than the 1% meant for a network.
    overrides: dict[str, object] = {"send_margin": 0.05}
    if on_redis:
        overrides["redis_url"] = REDIS_URL
    async with running_bot(
        settings, storage, emulator=emulator, strict_limit=30, **overrides
    ) as live:
        emu = live.emulator
        other: DeliveryEngine | None = None
        if on_redis:
            # Another instance's delivery engine, with a budget object of its own.
            budget = build_budget(live.settings)
            other = DeliveryEngine.build(
                live.settings, storage, make_i18n(), delivery_screens, budget=budget
            )
            await other.start(with_scheduler=False)
        try:
            replies: list[str] = []

            async def join(user: EmulatedUser) -> None:
                replies.append((await say(emu, user, "/start")).text)
                replies.append((await say(emu, user, f"/follow {SLUG}")).text)

            async def browse(user: EmulatedUser) -> None:
                for command in ("/start", "/cases", "/help"):
                    replies.append((await say(emu, user, command)).text)

            # People join at about 12 a second.
            joiners = [emu.add_user(random.choice(["en", "ru", "kk"])) for _ in range(JOINING)]
            joining = []
            for user in joiners:
                joining.append(asyncio.create_task(join(user)))
                await asyncio.sleep(1 / 12)  # the arrival rate of the load, not a wait
            await asyncio.gather(*joining)
            async with storage.sessionmaker() as session:
                follows = await session.scalar(select(func.count()).select_from(Follow))
            assert follows == JOINING
            await live.settled()  # every answer to the joiners is in their chats
            before = {user.id: len(from_bot(emu, user)) for user in joiners}
            assert all(count >= 2 for count in before.values())  # a welcome and a follow

            # A release goes out to all of them while more people open the bot.
            async with storage.sessionmaker() as session, session.begin():
                case = await cases_repo.by_slug(session, SLUG)
                assert case is not None
                await updates.publish(
                    session,
                    case,
                    "status",
                    {},
                    new_status="released",
                    actor="test",
                )
            live.running.engine.worker.wake()
            browsers = [emu.add_user("en") for _ in range(BROWSING)]
            await asyncio.gather(*(browse(user) for user in browsers))

            def alerts(user: EmulatedUser) -> int:
                return len(from_bot(emu, user)) - before[user.id]

            await eventually(lambda: all(alerts(user) for user in joiners), timeout=60)
            if other is not None:
                await eventually(lambda: other.worker.idle)
            await live.settled()
        finally:
            if other is not None:
                await other.stop()
                await other.worker.budget.close()

        assert len(replies) == 2 * JOINING + 3 * BROWSING  # every reply arrived
        assert all(alerts(user) == 1 for user in joiners)  # each alert, once
        assert live.gate_url is not None
        assert (await flood_gate.figures(live.gate_url))["refused"] == 0
        assert live.running.budget.stats.lost_replies == 0
