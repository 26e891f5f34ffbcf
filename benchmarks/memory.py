"""Resident memory of the bot after many different people have each used it once.

The bot runs as its own process (`python -m bot run`), polling the emulator (this
process). After a warm-up (a hundred people open the menu, a card and /help, so that
what loads on first use has loaded), PEOPLE new people each send /start once, a hundred
at a time; the bot's resident memory (VmRSS) is read before and after, and once more
after as many again, to show whether it keeps growing. Prints the figures; asserts
nothing.

    .venv/bin/python -m benchmarks.memory [--people 10000] [--database-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.speed import ROOT, answer, unlimited_env
from benchmarks.spike import LANGUAGES, demo_storage
from bot.crypto import generate_key
from bot.emulator import EmulatedUser, Emulator
from bot.emulator.server import serve


def rss_mib(pid: int) -> float:
    """The process's resident memory in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def arrive(emulator: Emulator, count: int, text: str = "/start") -> None:
    """`count` new people each send `text` once, a hundred at a time."""
    waiting: asyncio.Queue[EmulatedUser] = asyncio.Queue()
    for n in range(count):
        waiting.put_nowait(emulator.add_user(LANGUAGES[n % len(LANGUAGES)]))

    async def worker() -> None:
        while not waiting.empty():
            await answer(emulator, waiting.get_nowait(), text)

    await asyncio.gather(*(worker() for _ in range(100)))


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="umid-memory-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'memory.sqlite3'}"
    emulator = Emulator(flood_limit=1_000_000, open_chats=True)
    server = await serve(emulator, 0, with_page=False)
    key = generate_key()
    await (await demo_storage(database_url, key, emulator.token, server.url)).engine.dispose()
    env = {
        **os.environ,
        "BOT_TOKEN": emulator.token,
        "TELEGRAM_API_URL": server.url,
        **unlimited_env(database_url, key),
    }
    bot = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env)
    try:
        while not any(name == "getUpdates" for name, _ in emulator.calls):
            await asyncio.sleep(0.05)
        started = rss_mib(bot.pid)
        warm = [emulator.add_user(LANGUAGES[i % len(LANGUAGES)]) for i in range(100)]
        for text in ("/start", "/case Tadzhimuratov", "/help", "/cases"):
            await asyncio.gather(*(answer(emulator, u, text) for u in warm))
        warmed = rss_mib(bot.pid)
        await arrive(emulator, args.people)
        after = rss_mib(bot.pid)
        await arrive(emulator, args.people)
        again = rss_mib(bot.pid)
    finally:
        bot.terminate()
        bot.wait(60)
        await server.stop()
    engine = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"\nresident memory of `python -m bot run` on {engine}, MiB")
    print(
        "| at start | after warm-up | + {n} people | + {n} more | growth per {n} |".format(
            n=f"{args.people:,}"
        )
    )
    print("|---|---|---|---|---|")
    print(
        f"| {started:.0f} | {warmed:.0f} | {after:.0f} | {again:.0f} "
        f"| {after - warmed:+.0f}, then {again - after:+.0f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--people", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
