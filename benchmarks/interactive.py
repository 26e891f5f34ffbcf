"""How fast the bot answers people: many supporters at once, over real HTTP, against the
local emulator. Prints throughput and latency percentiles; asserts nothing.

    .venv/bin/python -m benchmarks.interactive [--people 200] [--rounds 3] \
        [--database-url postgresql+asyncpg://...]

On PostgreSQL the database named is emptied first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from benchmarks.spike import reset_database
from bot.crypto import IdentityCipher, generate_key
from bot.emulator import Emulator
from bot.emulator.server import serve
from bot.runner import run
from bot.sandbox import seed
from bot.storage import prepare
from config import load_settings

STEPS = ("/start", "/cases", "/case Tadzhimuratov", "/letter Elshibayev", "/mycases")


async def one_person(emulator: Emulator, language: str, rounds: int) -> list[float]:
    person = emulator.add_user(language)
    latencies = []
    for _ in range(rounds):
        for text in STEPS:
            started = time.perf_counter()
            await emulator.send_text(person, text)
            await emulator.next_message(person, timeout=60)
            latencies.append(time.perf_counter() - started)
    return latencies


async def main(people: int, rounds: int, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="umid-bench-"))
    if database_url:
        await reset_database(database_url)
    else:
        database_url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    # Open chats: the sandbox's relative persona is sent the demo hearing's reminders.
    emulator = Emulator(flood_limit=1_000_000, strict_unknown_parameters=True, open_chats=True)
    server = await serve(emulator, 0, with_page=False)
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        data_key=generate_key(),
        bot_token=SecretStr(emulator.token),
        telegram_api_url=server.url,
        throttle_rate=1000,
        throttle_burst=1000,
        # The bot's own speed against a server without limits: Telegram's 30/s and a
        # chat's one a second are the spike benchmark's subject, not this one's.
        delivery_rate=1000,
        chat_send_interval=0.001,
        log_level="WARNING",
    )
    storage = await prepare(settings)
    await seed(storage, IdentityCipher(settings.key_bytes))
    task = asyncio.create_task(run(settings, storage=storage, handle_signals=False))
    while not any(name == "getUpdates" for name, _ in emulator.calls):
        await asyncio.sleep(0.01)
    languages = ["en", "ru", "kk", "ky", "tg", "tk", "uz"]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(one_person(emulator, languages[i % len(languages)], rounds) for i in range(people))
    )
    elapsed = time.perf_counter() - started
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await server.stop()
    await storage.engine.dispose()

    latencies = sorted(x for r in results for x in r)
    count = len(latencies)
    q = statistics.quantiles(latencies, n=100)
    engine = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"people={people} rounds={rounds} updates={count} elapsed={elapsed:.2f}s ({engine})")
    print(f"throughput: {count / elapsed:.1f} answered updates/s")
    print(
        f"latency ms: p50={q[49] * 1000:.1f} p90={q[89] * 1000:.1f} "
        f"p99={q[98] * 1000:.1f} max={latencies[-1] * 1000:.1f}"
    )
    print(f"emulator problems: {len(emulator.problems)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.people, args.rounds, args.database_url))
