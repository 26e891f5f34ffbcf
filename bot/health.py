"""/healthz, /readyz and /metrics, for whoever runs the bot (a proxy, systemd, Prometheus).

/healthz says the process answers. /readyz says it can do its work: the database answers,
Redis answers when one is configured, and the Bot API answers getMe (remembered briefly:
a probe every second must not become a request to Telegram every second). /metrics is the
process's registry (bot/metrics.py) with the outbox's depth read at the scrape.

They serve on the webhook server's port in webhook mode, and on HEALTH_PORT of their own
otherwise. Nothing here names a person; the answers are the checks' names and "ok" or
"failing", never an error's text (which may hold a URL with a password).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.metrics import Metrics
from bot.services import stats
from bot.storage import Storage

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Each check answers within this, or counts as failing: a probe must not hang.
CHECK_TIMEOUT = 3.0
# How long a successful getMe vouches for the Bot API.
TELEGRAM_FRESH = 15.0

Check = Callable[[], Awaitable[None]]


class Health:
    """The checks and the metrics of one running process."""

    def __init__(
        self,
        storage: Storage,
        metrics: Metrics,
        *,
        bot: Bot | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.storage = storage
        self.metrics = metrics
        self.bot = bot
        self.redis_url = redis_url
        self._redis: Redis | None = None
        self._telegram_ok_at = -float("inf")

    def checks(self) -> dict[str, Check]:
        found: dict[str, Check] = {"database": self._database}
        if self.redis_url:
            found["redis"] = self._redis_ping
        if self.bot is not None:
            found["telegram"] = self._telegram
        return found

    async def ready(self) -> dict[str, bool]:
        """Every check, run at once: True for those that answered in time."""
        checks = self.checks()
        results = await asyncio.gather(*(_within(check()) for check in checks.values()))
        return dict(zip(checks, results, strict=True))

    async def _database(self) -> None:
        async with self.storage.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _redis_ping(self) -> None:
        if self._redis is None:
            from redis.asyncio import Redis

            assert self.redis_url is not None
            self._redis = Redis.from_url(self.redis_url)
        await self._redis.ping()

    async def _telegram(self) -> None:
        if time.monotonic() - self._telegram_ok_at < TELEGRAM_FRESH:
            return
        assert self.bot is not None
        await self.bot.get_me()
        self._telegram_ok_at = time.monotonic()

    async def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    # -- HTTP ----------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        results = await self.ready()
        body = {name: "ok" if ok else "failing" for name, ok in results.items()}
        status = 200 if all(results.values()) else 503
        return web.Response(
            text=json.dumps(body) + "\n", status=status, content_type="application/json"
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self.storage.sessionmaker() as session:
                depth = await stats.outbox_depth(session)
            self.metrics.set_outbox(depth)
        except Exception:
            # The rest of the figures still matter when the database does not answer.
            log.warning("metrics: the outbox could not be counted")
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def serve(self, host: str, port: int) -> web.AppRunner:
        """Serve the three paths on a port of their own (polling mode, the worker)."""
        app = web.Application()
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("health and metrics on %s:%d", host, port)
        return runner


async def _within(check: Awaitable[Any]) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check
        return True
    except Exception:
        return False
