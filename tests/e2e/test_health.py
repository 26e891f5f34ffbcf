"""Health and metrics, scraped from a running bot in polling mode (a port of their own)
and in webhook mode (the webhook server's port): alive, ready, and figures that name no
person and no case."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.health import Health
from bot.metrics import Metrics
from bot.storage import build_storage
from tests.e2e.conftest import Live, running_bot
from tests.e2e.local import free_port
from tests.e2e.talk import eventually

SECRET = "health-test_secret"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


async def talk_and_scrape(live: Live, base: str, demo_cases) -> None:
    emu = live.emulator
    user = emu.add_user("ru", "Дильноза")
    status, body = await get(f"{base}/healthz")
    assert (status, body) == (200, "ok\n")

    await emu.send_text(user, "/start")
    await emu.next_message(user)
    await emu.send_text(user, f"/case {demo_cases.created[0]}")
    await emu.next_message(user)

    status, body = await get(f"{base}/readyz")
    assert status == 200, body
    assert '"database": "ok"' in body and '"telegram": "ok"' in body

    async def leading() -> bool:
        found = samples((await get(f"{base}/metrics"))[1])
        return found.get(("umid_leader", ())) == 1.0

    await eventually(leading, what="this instance never led")
    status, body = await get(f"{base}/metrics")
    assert status == 200
    found = samples(body)
    assert found[("umid_updates_total", (("type", "message"),))] >= 2
    assert found[("umid_handler_seconds_count", (("type", "message"),))] >= 2
    assert found[("umid_sends_total", (("lane", "interactive"),))] >= 2
    assert ("umid_flood_waits_total", ()) in found
    assert ("umid_lost_replies_total", ()) in found
    for state in ("pending", "held", "paused"):
        assert ("umid_outbox_deliveries", (("state", state),)) in found
    # Not "job": Prometheus keeps that label for its own scrape jobs.
    assert any(
        name == "umid_scheduler_job_runs_total" and [k for k, _ in labels] == ["task"]
        for name, labels in found
    )
    # Nothing that names a person or a case.
    for personal in (str(user.id), "Дильноза", *demo_cases.created):
        assert personal not in body


async def test_polling_bot_serves_health_and_metrics_on_a_port_of_their_own(
    settings, storage, demo_cases
):
    port = free_port()
    async with running_bot(settings, storage, health_port=port) as live:
        await talk_and_scrape(live, f"http://127.0.0.1:{port}", demo_cases)


async def test_webhook_bot_serves_them_beside_the_webhook(settings, storage, demo_cases):
    port = free_port()
    async with running_bot(
        settings,
        storage,
        webhook_url=f"http://127.0.0.1:{port}",
        webhook_port=port,
        webhook_secret=SecretStr(SECRET),
    ) as live:
        assert live.emulator.webhook_url.endswith("/webhook")
        await talk_and_scrape(live, f"http://127.0.0.1:{port}", demo_cases)


async def test_not_ready_while_the_database_or_redis_does_not_answer(settings):
    # Port 1 refuses at once: the database and Redis are down.
    down = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}
    )
    storage = build_storage(down)
    health = Health(storage, Metrics(), redis_url="redis://127.0.0.1:1/0")
    try:
        assert await health.ready() == {"database": False, "redis": False}
    finally:
        await health.close()
        await storage.engine.dispose()


async def test_one_instance_registers_the_webhook_and_none_deletes_it(
    settings, storage, demo_cases
):
    ports = free_port(), free_port()
    url = f"http://127.0.0.1:{ports[0]}"
    secret = SecretStr(SECRET)
    async with running_bot(
        settings, storage, webhook_url=url, webhook_port=ports[0], webhook_secret=secret
    ) as live:
        emu = live.emulator
        async with running_bot(
            settings,
            storage,
            emulator=emu,
            webhook_url=url,
            webhook_port=ports[1],
            webhook_secret=secret,
            webhook_register=False,
        ):
            assert [name for name, _ in emu.calls].count("setWebhook") == 1
        # The second instance stopped: the webhook still leads to the first, which answers.
        user = emu.add_user("en")
        await emu.send_text(user, "/start")
        assert "Umid" in (await emu.next_message(user)).text
    assert emu.webhook_url == f"http://127.0.0.1:{ports[0]}/webhook"
    assert "deleteWebhook" not in [name for name, _ in emu.calls]
