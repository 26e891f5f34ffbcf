"""What the end-to-end tests and the benchmarks need to run the bot's own processes on
this machine: a free port, whether a URL answers, and a bot process's environment."""

from __future__ import annotations

import os
import socket

import aiohttp

from config import Settings
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def answers(url: str) -> bool:
    """Whether `url` answers 200 (a health check, say) right now."""
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


def bot_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `python -m bot ...` process on the test's database and key,
    without this machine's own webhook and health settings."""
    assert settings.data_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "HEALTH_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_KEY=settings.data_key.get_secret_value(),
        DATABASE_URL=settings.database_url,
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env
