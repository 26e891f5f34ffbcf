"""Interactive speed: Umid beside a bare aiogram echo bot, measured in the same run.

Each bot runs as its own process, polling the emulator (this process) over loopback.
Saturation: PEOPLE people each send their messages one after another, waiting for every
answer, all at once; the figure is answered updates a second. Both bots run from the
start, and each round measures the bare bot and then Umid on every workload, so that
each ratio compares two figures taken seconds apart (the speed of a virtual machine
drifts by a third within a minute); the table gives the medians over the rounds, and the
lowest and highest ratio. Latency: one message every 10 ms (100 updates a second, each
from the next person) for the given seconds; the figure is the 99th percentile from
sending to the answer. The send budget is lifted: this is the bot's own speed, not
Telegram's limit. Prints the figures; asserts nothing.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.spike import LANGUAGES, demo_storage
from bot.crypto import generate_key
from bot.emulator import EmulatedUser, Emulator
from bot.emulator.server import RunningEmulator, serve
from bot.heap import settle

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {"/help": "/help", "case card": "/case Tadzhimuratov"}


@dataclass
class Figures:
    """One saturated round of one bot (latency is measured apart, for Umid alone)."""

    saturation: float  # answered updates a second
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
    # The emulator lives in this process and keeps every message it has seen: a full
    # collection of that heap stalled it for 150 ms in the middle of a measurement, and
    # every answer then waiting counted as the bot's. Measure the bot, not this process.
    settle()
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


@dataclass
class Running:
    """One bot process, its emulator and the people who talk to it."""

    name: str
    bot: subprocess.Popen[bytes]
    emulator: Emulator
    server: RunningEmulator
    people: list[EmulatedUser]


async def start(
    name: str, command: list[str], env: dict[str, str], emulator: Emulator, server: RunningEmulator,
    args: argparse.Namespace,
) -> Running:  # fmt: skip
    bot = subprocess.Popen(command, cwd=ROOT, env=env)
    while not any(method == "getUpdates" for method, _ in emulator.calls):
        await asyncio.sleep(0.05)
    people = [emulator.add_user(LANGUAGES[i % len(LANGUAGES)]) for i in range(args.people)]
    await asyncio.gather(*(answer(emulator, u, "/start") for u in people))
    return Running(name, bot, emulator, server, people)


async def saturated(running: Running, text: str, each: int) -> Figures:
    """Answered updates a second at saturation, and the CPU each took."""
    before = cpu_seconds(running.bot.pid)
    rate = await saturation(running.emulator, running.people, text, each)
    after = cpu_seconds(running.bot.pid)
    count = len(running.people) * each
    cpu = 1000 * (after - before) / count if before is not None and after is not None else None
    return Figures(rate, cpu)


@contextmanager
def paused(running: Running, args: argparse.Namespace) -> Iterator[None]:
    """The other bot stopped while one is measured: even idle, Umid's delivery engine and
    scheduler wake up, and either bot's polling would take CPU from the one measured.
    (Not under --profile: the process started is py-spy's.)"""
    if not args.profile:
        running.bot.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        if not args.profile:
            running.bot.send_signal(signal.SIGCONT)


async def stop(running: Running, profiled: bool) -> None:
    # py-spy writes its profile on an interrupt, and passes it on to the bot.
    running.bot.send_signal(signal.SIGINT if profiled else signal.SIGTERM)
    await asyncio.to_thread(running.bot.wait, 60)
    await running.server.stop()


def umid_command(args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "bot", "run"]
    if not args.profile:
        return command
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return [spy, "record", "--format", "raw", "--rate", "200", "--nonblocking",
            "-o", args.profile, "--", *command]  # fmt: skip


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="umid-speed-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{folder / 'speed.sqlite3'}"
    workloads = [name for name in WORKLOADS if not args.only or name in args.only]
    bots: dict[str, Running] = {}
    try:
        for who in ("bare aiogram", "Umid"):
            emulator = Emulator(flood_limit=1_000_000, open_chats=True)
            server = await serve(emulator, 0, with_page=False)
            env = {**os.environ, "BOT_TOKEN": emulator.token, "TELEGRAM_API_URL": server.url}
            if who == "Umid":
                key = generate_key()
                storage = await demo_storage(database_url, key, emulator.token, server.url)
                await storage.engine.dispose()
                env |= unlimited_env(database_url, key)
                command = umid_command(args)
            else:
                command = [sys.executable, "-m", "benchmarks.bare_echo"]
            bots[who] = await start(who, command, env, emulator, server, args)
        bare_bot, umid_bot = bots["bare aiogram"], bots["Umid"]
        rounds: dict[str, list[tuple[Figures, Figures]]] = {name: [] for name in workloads}
        for _ in range(args.rounds):
            for name in workloads:
                with paused(umid_bot, args):
                    bare = await saturated(bare_bot, WORKLOADS[name], args.each)
                with paused(bare_bot, args):
                    umid = await saturated(umid_bot, WORKLOADS[name], args.each)
                rounds[name].append((bare, umid))
        with paused(bare_bot, args):
            p99 = {
                name: await paced(umid_bot.emulator, umid_bot.people, WORKLOADS[name], args.seconds)
                for name in workloads
            }
    finally:
        for running in bots.values():
            await stop(running, bool(args.profile) and running.name == "Umid")
    engine = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(
        f"\n{args.people} people; saturation: {args.rounds} rounds of {args.each} messages "
        f"each, the two bots alternately; latency: 100 updates/s for {args.seconds:.0f} s; "
        f"Umid on {engine}"
    )
    print(
        "| workload | Umid updates/s | bare aiogram updates/s | ratio (lowest-highest) "
        "| Umid p99 at 100/s | CPU per update, Umid / bare |"
    )
    print("|---|---|---|---|---|---|")
    for name in workloads:
        pairs = rounds[name]
        ratios = sorted(umid.saturation / bare.saturation for bare, umid in pairs)
        umid_cpu = median([umid.cpu_ms for _, umid in pairs])
        bare_cpu = median([bare.cpu_ms for bare, _ in pairs])
        cpu = f"{umid_cpu:.1f} / {bare_cpu:.1f} ms" if umid_cpu and bare_cpu else "-"
        print(
            f"| {name} | {statistics.median(u.saturation for _, u in pairs):.0f} "
            f"| {statistics.median(b.saturation for b, _ in pairs):.0f} "
            f"| {statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f}) "
            f"| {p99[name]:.0f} ms | {cpu} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--each", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", action="append", choices=list(WORKLOADS))
    parser.add_argument("--profile", default=None, metavar="FILE")
    asyncio.run(main(parser.parse_args()))
