"""Updates a second on PostgreSQL: one instance, then two behind nginx, in the same run.

Each round starts `python -m bot run` processes in webhook mode on one PostgreSQL
database and one Redis, nginx in front of them with the shipped site
(deploy/nginx/umid.conf, on free ports, without TLS), and the emulator posting every
update to nginx, as Telegram does. People (this process) each send their messages one
after another, waiting for every answer, all at once: the figure is answered updates a
second once the bot is saturated. The send budget is lifted to 1000 a second: this is the
bot's own speed, not Telegram's limit. Prints the figures; asserts nothing.

    .venv/bin/python -m benchmarks.instances \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1/umid_bench \\
        --redis-url redis://127.0.0.1:6379/14

The database (it must exist) is emptied first. Needs nginx (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.spike import LANGUAGES, demo_storage, reset_redis
from bot.crypto import generate_key
from bot.emulator import EmulatedUser, Emulator
from bot.emulator.server import serve
from tests.e2e import nginx_site
from tests.e2e.local import answers, free_port

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("/help", "/cases", "/case Tadzhimuratov", "/mycases")


async def person(emulator: Emulator, user: EmulatedUser, rounds: int) -> list[float]:
    latencies = []
    for _ in range(rounds):
        for text in STEPS:
            emulator.skip_pending(user)
            started = time.perf_counter()
            await emulator.send_text(user, text)
            await emulator.next_message(user, timeout=60)
            latencies.append(time.perf_counter() - started)
    return latencies


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU time the whole machine has spent busy (Linux)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


Figures = tuple[float, float, float, float, float, float]


async def one_round(args: argparse.Namespace, instances: int) -> Figures:
    """Answered updates a second, median and 99th percentile latency in ms, and the CPU
    seconds per answered update spent by the bots, by this process (the emulator and the
    people) and by everything else (PostgreSQL, Redis, nginx)."""
    folder = Path(tempfile.mkdtemp(prefix=f"umid-instances-{instances}-"))
    emulator = Emulator(
        token=f"{random.randrange(10**9, 10**10)}:BENCH", flood_limit=1_000_000, open_chats=True
    )
    server = await serve(emulator, 0, with_page=False)
    key = generate_key()
    await (await demo_storage(args.database_url, key, emulator.token, server.url)).engine.dispose()
    await reset_redis(args.redis_url, emulator.bot_id)

    proxy, ports = free_port(), [free_port() for _ in range(instances)]
    nginx = subprocess.Popen(nginx_site.prepare(folder, proxy, ports))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "HEALTH_"))},
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": emulator.token,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DATA_KEY": key,
        "WEBHOOK_URL": f"http://127.0.0.1:{proxy}",
        "WEBHOOK_SECRET": "benchmark-secret",
        "DELIVERY_RATE": "1000",
        "CHAT_SEND_INTERVAL": "0.001",
        "THROTTLE_RATE": "1000",
        "THROTTLE_BURST": "1000",
        # Pacing's precision is the spike benchmark's subject: here a slot reached up to
        # 100 ms late is still used, instead of being asked for again from Redis.
        "SEND_MARGIN": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    bots = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=folder,
            env={
                **env,
                "WEBHOOK_PORT": str(port),
                "WEBHOOK_REGISTER": "true" if n == 0 else "false",
            },
        )
        for n, port in enumerate(ports)
    ]
    try:
        for port in ports:
            while not await answers(f"http://127.0.0.1:{port}/healthz"):
                await asyncio.sleep(0.1)
        while not emulator.webhook_url:
            await asyncio.sleep(0.1)
        users = [emulator.add_user(random.choice(LANGUAGES)) for _ in range(args.people)]
        # Everyone has opened the bot before the clock starts.
        await asyncio.gather(*(person_start(emulator, u) for u in users))
        started = time.perf_counter()
        bots_before = sum(cpu_seconds(b.pid) for b in bots)
        own_before, all_before = time.process_time(), busy_seconds()
        timed = await asyncio.gather(*(person(emulator, u, args.rounds) for u in users))
        elapsed = time.perf_counter() - started
        bots_cpu = sum(cpu_seconds(b.pid) for b in bots) - bots_before
        own_cpu = time.process_time() - own_before
        rest_cpu = busy_seconds() - all_before - bots_cpu - own_cpu
    finally:
        for bot in bots:
            bot.terminate()
        for bot in bots:
            bot.wait(30)
        nginx.terminate()
        nginx.wait(10)
        await server.stop()
    latencies = sorted(x for person_times in timed for x in person_times)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    n = len(latencies)
    return (
        n / elapsed,
        statistics.median(latencies) * 1000,
        p99 * 1000,
        bots_cpu / n * 1000,
        own_cpu / n * 1000,
        rest_cpu / n * 1000,
    )


async def person_start(emulator: Emulator, user: EmulatedUser) -> None:
    await emulator.send_text(user, "/start")
    await emulator.next_message(user, timeout=60)


async def main(args: argparse.Namespace) -> None:
    figures: dict[int, Figures] = {}
    for instances in (1, 2):
        figures[instances] = await one_round(args, instances)
    one = figures[1][0]
    print(f"\n{args.people} people, {len(STEPS) * args.rounds} messages each, PostgreSQL + Redis")
    print(
        "| instances | answered updates/s | median ms | p99 ms | × one "
        "| CPU ms per update: bots / emulator and people / PostgreSQL, Redis, nginx |"
    )
    print("|---|---|---|---|---|---|")
    for instances, (rate, median, p99, bots, own, rest) in figures.items():
        print(
            f"| {instances} | {rate:.0f} | {median:.0f} | {p99:.0f} | {rate / one:.2f} "
            f"| {bots:.1f} / {own:.1f} / {rest:.1f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1/umid_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
