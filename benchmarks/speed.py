"""Interactive speed: Umid beside a bare aiogram echo bot, measured in the same run.

Each bot runs as its own process, polling the emulator (this process) over loopback.
Saturation: PEOPLE people each send their messages one after another, waiting for every
answer, all at once; the figure is answered updates a second. Latency: one message every
10 ms (100 updates a second, each from the next person) for the given seconds; the
figure is the 99th percentile from sending to the answer. The send budget is lifted: this
is the bot's own speed, not Telegram's limit. Prints the figures; asserts nothing.

    .venv/bin/python -m benchmarks.speed [--database-url postgresql+asyncpg://...]

With `--profile FILE`, Umid runs under py-spy (installed by hand: a tool, not a
dependency) and its collapsed stacks are written to FILE (`--only /help` narrows the run
to one workload); `python -m benchmarks.profile_top FILE` lists the costliest frames.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.spike import LANGUAGES, demo_storage
from bot.crypto import generate_key
from bot.emulator import EmulatedUser, Emulator
from bot.emulator.server import serve

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {"/help": "/help", "case card": "/case Tadzhimuratov"}


@dataclass
class Figures:
    saturation: float  # answered updates a second
    p99_ms: float  # at 100 updates a second
    cpu_ms: float | None  # the bot process's CPU per update at saturation (Linux only)


def cpu_seconds(pid: int) -> float | None:
    """The CPU time a process has used so far, from /proc (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    # utime and stime, the 14th and 15th fields of the line (counted from the pid).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def answer(emulator: Emulator, user: EmulatedUser, text: str) -> float:
    emulator.skip_pending(user)
    started = time.perf_counter()
    await emulator.send_text(user, text)
    await emulator.next_message(user, timeout=120)
    return time.perf_counter() - started


async def saturation(emulator: Emulator, people: list[EmulatedUser], text: str, each: int) -> float:
    async def person(user: EmulatedUser) -> None:
        for _ in range(each):
            await answer(emulator, user, text)

    started = time.perf_counter()
    await asyncio.gather(*(person(u) for u in people))
    return len(people) * each / (time.perf_counter() - started)


async def paced(emulator: Emulator, people: list[EmulatedUser], text: str, seconds: float) -> float:
    """The 99th percentile latency in ms with one message every 10 ms, each from a person
    who has no answer outstanding (a bot that cannot keep up runs out of such people, and
    then the pace slows and the latency shows it)."""
    loop = asyncio.get_running_loop()
    idle: asyncio.Queue[EmulatedUser] = asyncio.Queue()
    for user in people:
        idle.put_nowait(user)

    async def one(user: EmulatedUser) -> float:
        try:
            return await answer(emulator, user, text)
        finally:
            idle.put_nowait(user)

    start = loop.time()
    waits: list[asyncio.Task[float]] = []
    for n in range(int(seconds * 100)):
        await asyncio.sleep(max(0.0, start + n / 100 - loop.time()))
        waits.append(asyncio.create_task(one(await idle.get())))
    latencies = sorted(await asyncio.gather(*waits))
    return statistics.quantiles(latencies, n=100)[98] * 1000


def unlimited_env(database_url: str, key: str) -> dict[str, str]:
    """A bot process's settings for measuring its own speed: the send budget, the spacing
    per chat and the throttle lifted, quiet logs, no Redis."""
    return {
        "DATABASE_URL": database_url,
        "DATA_KEY": key,
        "THROTTLE_RATE": "1000",
        "THROTTLE_BURST": "1000",
        "DELIVERY_RATE": "1000",
        "CHAT_SEND_INTERVAL": "0.001",
        "SEND_MARGIN": "0.2",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
    }


async def measure(
    command: list[str], env: dict[str, str], emulator: Emulator, args: argparse.Namespace
) -> dict[str, Figures]:
    bot = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        while not any(name == "getUpdates" for name, _ in emulator.calls):
            await asyncio.sleep(0.05)
        people = [emulator.add_user(LANGUAGES[i % len(LANGUAGES)]) for i in range(args.people)]
        await asyncio.gather(*(answer(emulator, u, "/start") for u in people))
        found = {}
        for name, text in WORKLOADS.items():
            if args.only and name not in args.only:
                continue
            before = cpu_seconds(bot.pid)
            rate = await saturation(emulator, people, text, args.each)
            after = cpu_seconds(bot.pid)
            cpu = (
                1000 * (after - before) / (len(people) * args.each)
                if before is not None and after is not None
                else None
            )
            p99 = await paced(emulator, people, text, args.seconds)
            found[name] = Figures(rate, p99, cpu)
        return found
    finally:
        # py-spy writes its profile on an interrupt, and passes it on to the bot.
        bot.send_signal(signal.SIGINT if args.profile else signal.SIGTERM)
        bot.wait(60)


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="umid-speed-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'speed.sqlite3'}"
    results: dict[str, dict[str, Figures]] = {}
    for who in ("bare aiogram", "Umid"):
        emulator = Emulator(flood_limit=1_000_000, open_chats=True)
        server = await serve(emulator, 0, with_page=False)
        env = {**os.environ, "BOT_TOKEN": emulator.token, "TELEGRAM_API_URL": server.url}
        if who == "Umid":
            key = generate_key()
            storage = await demo_storage(database_url, key, emulator.token, server.url)
            await storage.engine.dispose()
            env |= unlimited_env(database_url, key)
            command = [sys.executable, "-m", "bot", "run"]
            if args.profile:
                spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
                if spy is None:
                    raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
                command = [
                    spy,
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    "200",
                    "--nonblocking",
                    "-o",
                    args.profile,
                    "--",
                    *command,
                ]
        else:
            command = [sys.executable, "-m", "benchmarks.bare_echo"]
        try:
            results[who] = await measure(command, env, emulator, args)
        finally:
            await server.stop()
    engine = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(
        f"\n{args.people} people; saturation: {args.each} messages each; "
        f"latency: 100 updates/s for {args.seconds:.0f} s; Umid on {engine}"
    )
    print(
        "| workload | Umid updates/s | bare aiogram updates/s | ratio | Umid p99 at 100/s "
        "| CPU per update, Umid / bare |"
    )
    print("|---|---|---|---|---|---|")
    bare = next(iter(results["bare aiogram"].values()))
    anchor = bare.saturation
    for name in WORKLOADS:
        if name not in results["Umid"]:
            continue
        umid = results["Umid"][name]
        cpu = (
            f"{umid.cpu_ms:.1f} / {bare.cpu_ms:.1f} ms"
            if umid.cpu_ms is not None and bare.cpu_ms is not None
            else "-"
        )
        print(
            f"| {name} | {umid.saturation:.0f} | {anchor:.0f} | {umid.saturation / anchor:.2f} "
            f"| {umid.p99_ms:.0f} ms | {cpu} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--each", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", action="append", choices=list(WORKLOADS))
    parser.add_argument("--profile", default=None, metavar="FILE")
    asyncio.run(main(parser.parse_args()))
