"""Three instances behind nginx, on one PostgreSQL database and one Redis, the way
deploy/nginx/umid.conf sets them up: Telegram (the emulator) posts every update to nginx,
which spreads them round-robin.

Every reply and alert arrives once; a dialogue goes on when its steps land on different
instances; the shared send budget meets a strict 30 a second; and when the scheduler's
leader is killed with SIGKILL, another instance leads within 40 s and the reminder that
fell due meanwhile still goes, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.emulator import EmulatedUser, Emulator, flood_gate
from bot.emulator.server import serve
from bot.services import hearings
from db.repositories import cases as cases_repo
from db.repositories import outbox as outbox_repo
from db.types import utcnow
from tests.conftest import PG_URL
from tests.e2e import nginx_site
from tests.e2e.local import answers, bot_env, free_port
from tests.e2e.nginx_site import NGINX
from tests.e2e.talk import ANSWER_TIMEOUT, eventually, from_bot, say

REDIS_URL = os.environ.get("TEST_REDIS_URL")
SECRET = "nginx-test_secret"
INSTANCES = 3
PEOPLE = 9

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: TEST_DATABASE_URL is not set"),
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: TEST_REDIS_URL is not set"),
    pytest.mark.skipif(NGINX is None, reason="needs nginx (Debian's package: nginx)"),
]


@dataclass
class Instance:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    emulator: Emulator
    gate_url: str
    instances: list[Instance]


async def metrics_of(instance: Instance) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(f"{instance.base}/metrics") as r:
        body = await r.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


async def leader(instances: list[Instance]) -> Instance | None:
    for instance in instances:
        if (
            instance.process.poll() is None
            and (await metrics_of(instance)).get(("umid_leader", ())) == 1.0
        ):
            return instance
    return None


@pytest.fixture
async def stack(settings, storage, small_cases, tmp_path: Path) -> AsyncIterator[Stack]:
    assert NGINX is not None and REDIS_URL is not None
    # A bot of its own: the send budget in Redis is keyed by the bot.
    emulator = Emulator(token=f"{random.randrange(10**9, 10**10)}:NGINX", flood_limit=10**6)
    server = await serve(emulator, 0, with_page=False)
    gate, gate_url = await asyncio.to_thread(flood_gate.start, server.url, 30)
    proxy_port = free_port()
    ports = [free_port() for _ in range(INSTANCES)]
    nginx = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        nginx_site.prepare(tmp_path, proxy_port, ports),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = bot_env(
        settings,
        REDIS_URL=REDIS_URL,
        BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=gate_url,
        WEBHOOK_URL=f"http://127.0.0.1:{proxy_port}",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        # Several processes share two cores here: the margin a network would need, wider.
        SEND_MARGIN="0.05",
    )
    instances = []
    for number, port in enumerate(ports):
        log = tmp_path / f"instance-{number}.log"
        own = {"WEBHOOK_PORT": str(port), "WEBHOOK_REGISTER": "true" if number == 0 else "false"}
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env={**env, **own},
            stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        instances.append(Instance(port, process, log))
    try:
        for instance in instances:
            await eventually(
                partial(answers, f"{instance.base}/healthz"),
                timeout=60,
                what=f"an instance did not start (its output: {instance.log})",
            )
        await eventually(lambda: bool(emulator.webhook_url), what="no webhook was set")
        assert nginx.poll() is None, (tmp_path / "error.log").read_text()
        yield Stack(emulator, gate_url, instances)
    finally:
        for instance in instances:
            if instance.process.poll() is None:
                instance.process.terminate()
        for instance in instances:
            await asyncio.to_thread(instance.process.wait, 30)
        nginx.terminate()
        await asyncio.to_thread(nginx.wait, 10)
        gate.terminate()
        await asyncio.to_thread(gate.wait)
        await server.stop()


async def test_three_instances_behind_nginx(stack: Stack, storage):
    emu = stack.emulator
    people = [emu.add_user(random.choice(["en", "ru", "uz"])) for _ in range(PEOPLE)]
    replies: dict[int, int] = {user.id: 0 for user in people}

    async def reply(user: EmulatedUser, text: str) -> str:
        replies[user.id] += 1
        return (await say(emu, user, text)).text

    # Joining, at the same time.
    async def join(user: EmulatedUser) -> None:
        await reply(user, "/start")
        await reply(user, "/follow test-detained")
        replies[user.id] += 1  # the case's card comes after the confirmation
        if user.language_code != "uz":
            # A first follow from someone on their language's zone outside the region
            # (Moscow, UTC) sets the case's, and says so.
            replies[user.id] += 1
        await eventually(lambda: len(from_bot(emu, user)) == replies[user.id])

    await asyncio.gather(*(join(user) for user in people))

    # A two-step dialogue, one person after another: round-robin gives the second step
    # to another instance than the first.
    for user in people:
        asked = await reply(user, "/check")
        checked = await reply(user, "Dear friend, we think of you every day.")
        assert checked != asked
    handled = [await metrics_of(i) for i in stack.instances]
    assert all(m[("umid_updates_total", (("type", "message"),))] > 0 for m in handled)

    # The leader plans (after its grace); then it is killed, with a reminder due soon.
    async def led(instances: list[Instance]) -> bool:
        return await leader(instances) is not None

    await eventually(lambda: led(stack.instances), timeout=60, what="nobody led")
    first = await leader(stack.instances)
    assert first is not None
    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "test-detained")
        assert case is not None
        due = utcnow() + dt.timedelta(seconds=10)
        await hearings.schedule(
            session, case, due + dt.timedelta(hours=2), "Asia/Tashkent", "City court", "trial",
            "test",
        )  # fmt: skip
    first.process.send_signal(signal.SIGKILL)
    killed_at = asyncio.get_running_loop().time()
    await asyncio.to_thread(first.process.wait)
    assert utcnow() < due, "the reminder fell due before the leader was killed"
    alive = [i for i in stack.instances if i is not first]

    # People go on talking: nginx leaves the dead instance out.
    for user in people:
        await reply(user, "/help")

    await eventually(lambda: led(alive), timeout=45, what="nobody took the lead")
    took = asyncio.get_running_loop().time() - killed_at
    print(f"\nnginx test: a new leader {took:.1f} s after SIGKILL")
    assert took <= 40

    # The reminder due while nobody led reaches every follower, once.
    expected = {user.id: replies[user.id] + 1 for user in people}
    await eventually(
        lambda: all(len(from_bot(emu, u)) >= expected[u.id] for u in people),
        timeout=ANSWER_TIMEOUT + 40,
        what="a reminder or a reply did not arrive",
    )

    async def drained() -> bool:
        async with storage.sessionmaker() as session:
            return not await outbox_repo.has_due(session, utcnow() + dt.timedelta(hours=1))

    await eventually(drained, what="the outbox did not drain")
    got = {u.id: len(from_bot(emu, u)) for u in people}
    assert got == expected
    assert (await flood_gate.figures(stack.gate_url))["refused"] == 0
    calls = [name for name, _ in emu.calls]
    assert calls.count("setWebhook") == 1 and "deleteWebhook" not in calls
    # nginx gave what the dead instance could not take to another: Telegram never had
    # to send an update again.
    assert emu.webhook_retries == 0
    for instance in alive:
        figures = await metrics_of(instance)
        assert figures[("umid_lost_replies_total", ())] == 0
