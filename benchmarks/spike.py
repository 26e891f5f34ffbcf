"""A busy day against a Bot API that refuses anything over 30 messages a second.

300 people join at 12 a second (/start, then /follow); then a release goes out to those
300 followers while 60 more people open the bot and browse cases. The bot runs as its
own processes (`python -m bot run`, plus `python -m bot worker` for each further
process), as it would in production; the emulator and the people are this process.
Prints the figures; asserts nothing.

    .venv/bin/python -m benchmarks.spike                        # one process, SQLite
    .venv/bin/python -m benchmarks.spike --processes 3 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1/umid_bench \\
        --redis-url redis://127.0.0.1:6379/14                   # three, sharing Redis
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.crypto import generate_key
from bot.emulator import EmulatedUser, Emulator, flood_gate
from bot.emulator.server import serve
from bot.services import case_files, updates
from bot.storage import Storage, prepare
from config import load_settings
from db.repositories import cases as cases_repo

ROOT = Path(__file__).resolve().parent.parent
SLUG = "erzhan-elshibayev"
LANGUAGES = ("en", "ru", "kk", "ky", "tg", "tk", "uz")
REPLY_DEADLINE = 60.0
THINK = (1.0, 3.0)  # seconds a person takes to read an answer before the next step


class People:
    """The people's side: each message waits for its answer, and every wait is timed."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds to the answer)
        self.lost = 0

    async def say(self, user: EmulatedUser, text: str) -> None:
        self.emulator.skip_pending(user)
        started = time.monotonic()
        await self.emulator.send_text(user, text)
        try:
            await self.emulator.next_message(user, timeout=REPLY_DEADLINE)
        except (TimeoutError, AssertionError):
            self.lost += 1
            return
        self.latencies.append((started, time.monotonic() - started))


async def reset_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text

    from db.engine import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def demo_storage(database_url: str, key: str, token: str, api_url: str) -> Storage:
    """The database emptied, migrated and given the demo cases, under `key`."""
    await reset_database(database_url)
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        data_key=key,
        bot_token=SecretStr(token),
        telegram_api_url=api_url,
    )
    storage = await prepare(settings)
    demo = ROOT / "bot" / "data" / "demo_cases.yaml"
    async with storage.sessionmaker() as session, session.begin():
        await case_files.apply(session, case_files.parse(demo.read_text(encoding="utf-8")))
    return storage


async def reset_redis(url: str | None, bot_id: int) -> None:
    if not url:
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    keys = await redis.keys(f"umid:budget:{{{bot_id}}}:*")
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def start_bot(env: dict[str, str], command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot", command], cwd=ROOT, env=env)


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="umid-spike-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'spike.sqlite3'}"
    # The limit is enforced by the flood gate, a process of its own whose clock does not
    # stall for the people's work here (bot/emulator/flood_gate.py); the emulator lets
    # everything through.
    emulator = Emulator(flood_limit=1_000_000)
    server = await serve(emulator, 0, with_page=False)
    gate, gate_url = await asyncio.to_thread(flood_gate.start, server.url)
    key = generate_key()
    env = {
        **os.environ,
        "BOT_TOKEN": emulator.token,
        "TELEGRAM_API_URL": gate_url,
        "DATABASE_URL": database_url,
        "DATA_KEY": key,
        "DELIVERY_RATE": "30",
        "LOG_LEVEL": os.environ.get("SPIKE_LOG_LEVEL", "WARNING"),
        "THROTTLE_RATE": "1000",
        "THROTTLE_BURST": "1000",
        "REDIS_URL": args.redis_url or "",
    }
    storage = await demo_storage(database_url, key, emulator.token, server.url)
    await reset_redis(args.redis_url, emulator.bot_id)
    processes = [start_bot(env, "run")]
    processes += [start_bot(env, "worker") for _ in range(args.processes - 1)]
    people = People(emulator)
    try:
        while not any(name == "getUpdates" for name, _ in emulator.calls):
            await asyncio.sleep(0.05)

        # 1. People join at about 12 a second.
        joiners = [emulator.add_user(random.choice(LANGUAGES)) for _ in range(args.joins)]

        async def join(user: EmulatedUser) -> None:
            await people.say(user, "/start")
            await asyncio.sleep(random.uniform(*THINK))  # a person reads, then taps
            await people.say(user, f"/follow {SLUG}")

        started = time.monotonic()
        tasks = []
        for user in joiners:
            tasks.append(asyncio.create_task(join(user)))
            await asyncio.sleep(1 / args.join_rate)
        await asyncio.gather(*tasks)
        join_time = time.monotonic() - started
        joined_answers = len(people.latencies)
        join_latency = sorted(d for _, d in people.latencies)
        sent_before = emulator.sent_count

        # 2. A release to every follower while more people open the bot and browse.
        async with storage.sessionmaker() as session, session.begin():
            case = await cases_repo.by_slug(session, SLUG)
            assert case is not None
            await updates.publish(
                session,
                case,
                "status",
                {},
                new_status="released",
                actor="benchmark",
            )
        published = time.monotonic()
        sent_at_publish = emulator.sent_count
        browsers = [emulator.add_user(random.choice(LANGUAGES)) for _ in range(args.browsers)]

        async def browse(user: EmulatedUser) -> None:
            await asyncio.sleep(random.uniform(0, 3))  # they come over a few seconds
            for text in ("/start", "/cases", "/case Tadzhimuratov"):
                await people.say(user, text)
                await asyncio.sleep(random.uniform(*THINK))

        browsing = asyncio.gather(*(browse(user) for user in browsers))
        answers_before = len(people.latencies)

        def alerted() -> int:
            return sum(
                1
                for user in joiners
                if any(
                    m.from_bot and "🕊" in m.text
                    for m in emulator.messages(user, include_deleted=True)
                )
            )

        # The fan-out runs from the first alert to the last; before the first, another
        # process's worker notices the new deliveries on its next look at the outbox.
        first: tuple[float, int] | None = None
        while (done := alerted()) < len(joiners) and time.monotonic() - published < 300:
            if done and first is None:
                first = (time.monotonic(), emulator.sent_count - done)
            await asyncio.sleep(0.01)
        ended, sent_at_end = time.monotonic(), emulator.sent_count
        first = first or (published, sent_at_publish)
        fanout = ended - first[0]
        sent_in_fanout = sent_at_end - first[1]
        noticed = first[0] - published
        await browsing
        during = sorted(d for t, d in people.latencies[answers_before:] if t < ended)
        every = sorted(d for _, d in people.latencies)
        gated = await flood_gate.figures(gate_url)
    finally:
        gate.terminate()
        gate.wait()
        for proc in processes:
            proc.terminate()
        for proc in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        await server.stop()
        await storage.engine.dispose()

    def pct(values: list[float], q: int) -> str:
        if len(values) < 2:
            return "n/a"
        return f"{statistics.quantiles(values, n=100)[q - 1] * 1000:.0f} ms"

    where = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    sharing = " + Redis" if args.redis_url else ""
    print(f"{args.processes} process(es), {where}{sharing}; strict limit of 30/s")
    print(
        f"joins: {args.joins} at {args.join_rate}/s in {join_time:.1f}s; "
        f"{joined_answers} answers, p95 {pct(join_latency, 95)}; messages {sent_before}"
    )
    alerts = alerted()
    ideal = sent_in_fanout / 30
    print(
        f"fan-out: {alerts}/{len(joiners)} alerts in {fanout:.1f}s (the first {noticed:.1f}s "
        f"after publishing) with {sent_in_fanout} messages in all = {fanout / ideal:.3f} x "
        f"the 30/s minimum ({ideal:.1f}s)"
    )
    print(f"reply p95 during the fan-out: {pct(during, 95)} ({len(during)} replies)")
    print(f"all replies: p50 {pct(every, 50)}, p95 {pct(every, 95)}, p99 {pct(every, 99)}")
    print(f"replies lost: {people.lost}; 429s: {gated['refused']} (of {gated['passed']} passed)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spike")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--joins", type=int, default=300)
    parser.add_argument("--join-rate", type=float, default=12.0)
    parser.add_argument("--browsers", type=int, default=60)
    asyncio.run(main(parser.parse_args()))
