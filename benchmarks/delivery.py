"""The delivery engine against the emulator (run in its own process, as Telegram would be).

Prints, and asserts nothing:
  1. messages per second with limits off (the engine must not be the bottleneck),
  2. the achieved rate and 429s with a strict 30/s limit over a minute (bot/emulator/flood_gate.py),
  3. peak memory of the worker for 10k and 100k recipients,
  4. the time from a hearing's reminder moment to the last reminder enqueued for 10k.

    .venv/bin/python -m benchmarks.delivery [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import col

from bot.crypto import IdentityCipher, generate_key
from bot.delivery.outbox import enqueue
from bot.delivery.specs import StatusSpec
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.emulator import flood_gate
from bot.i18n import make_i18n
from bot.presentation.alert_views import AlertRenderer
from bot.scheduler import Planner
from bot.services.case_files import apply, parse
from bot.storage import Storage, prepare
from config import Settings, load_settings
from db.models import Delivery, Follow, Hearing, Person
from db.types import utcnow

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "cases_small.yaml"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def start_emulator(
    flood_limit: int, strict: bool = False
) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.emulator",
            "--port",
            "0",
            "--open-chats",
            "--lean",
            "--no-page",
            "--flood-limit",
            str(flood_limit),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    url, token = proc.stdout.readline().split()
    return proc, url, token


async def setup(folder: Path, url: str, token: str, people: int) -> tuple[Settings, Storage, int]:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / f'bench-{people}.sqlite3'}",
        data_key=generate_key(),
        bot_token=token,
        telegram_api_url=url,
        log_level="WARNING",
    )
    storage = await prepare(settings)
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as session, session.begin():
        await apply(session, parse(CASES.read_text(encoding="utf-8")))
    async with storage.sessionmaker() as session, session.begin():
        base = 5_000_000_000
        for start in range(0, people, 5000):
            rows = [
                {
                    "tg_index": cipher.index(base + i),
                    "tg_cipher": cipher.encrypt_id(base + i),
                    "locale": "en",
                    "timezone": "UTC",
                    "delivery": "instant",
                    "digest_hour": 9,
                    "discreet": False,
                    "protect_content": True,
                    "active": True,
                    "created_on": dt.date.today(),
                }
                for i in range(start, min(people, start + 5000))
            ]
            await session.execute(insert(Person), rows)
        await session.execute(
            insert(Follow).from_select(
                ["person_id", "case_id", "created_on"],
                select(col(Person.id), 1, func.current_date()),
            )
        )
    return settings, storage, people


def worker(settings: Settings, storage: Storage, rate: float, senders: int) -> DeliveryWorker:
    from bot.client import build_bot
    from bot.pacing import Lane, Limits, LocalBudget

    renderer = AlertRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    config = WorkerConfig(senders=senders, batch=500, idle_sleep=0.05)
    budget = LocalBudget(Limits(rate=rate))
    return DeliveryWorker(
        build_bot(settings, budget=budget, lane=Lane.BULK),
        storage.sessionmaker,
        IdentityCipher(settings.key_bytes),
        renderer,
        budget,
        config,
    )


async def broadcast(storage: Storage, key: str) -> None:
    async with storage.sessionmaker() as session, session.begin():
        ids = list((await session.execute(select(col(Person.id)))).scalars())
        await enqueue(
            session,
            person_ids=[i for i in ids if i],
            spec=StatusSpec(case_id=1, old_status="detained", new_status="released"),
            batch=key,
            key=key,
        )


async def drain(w: DeliveryWorker) -> tuple[float, int]:
    base = rss()
    peak = base
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss())
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    await w.run(until_idle=True)
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    await w.bot.session.close()
    return elapsed, peak - base


async def sent_span(storage: Storage, batch: str) -> tuple[int, float]:
    async with storage.sessionmaker() as session:
        first, last, n = (
            await session.execute(
                select(func.min(Delivery.sent_at), func.max(Delivery.sent_at), func.count()).where(
                    col(Delivery.batch) == batch, col(Delivery.state) == "sent"
                )
            )
        ).one()
    if isinstance(first, str):
        first, last = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    return int(n), (last - first).total_seconds()


async def main(quick: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="umid-delivery-"))
    proc, url, token = start_emulator(flood_limit=1_000_000)
    try:
        # 1 and 3: limits off, 10k and 100k recipients
        for people in (10_000, 100_000) if not quick else (10_000,):
            settings, storage, _ = await setup(folder, url, token, people)
            await broadcast(storage, f"bench:{people}")
            w = worker(settings, storage, rate=1_000_000, senders=64)
            elapsed, peak = await drain(w)
            print(
                f"limits off: {people} recipients in {elapsed:.1f}s = "
                f"{w.stats.sent / elapsed:.0f} msg/s; worker peak memory +{peak / 2**20:.1f} MiB"
            )
            if people == 10_000:
                # 4: a hearing whose 2-hour reminder moment is now, 10k followers
                async with storage.sessionmaker() as session, session.begin():
                    hearing = (await session.execute(select(Hearing))).scalars().first()
                    assert hearing is not None
                    hearing.starts_at = utcnow() + dt.timedelta(hours=2)
                planner = Planner(
                    settings, storage.sessionmaker, w.bot, IdentityCipher(settings.key_bytes)
                )
                started = time.perf_counter()
                added = await planner.reminders(hearing.starts_at - dt.timedelta(hours=2))
                print(
                    f"reminders: {added} enqueued {time.perf_counter() - started:.2f}s "
                    "after the reminder moment"
                )
            await storage.engine.dispose()
    finally:
        proc.terminate()
        proc.wait()

    # 2: a limit of 30/s with no slack at all, kept by a flood gate in a process of its own
    # (see bot/emulator/flood_gate.py: the emulator's clock would stall for its own work)
    proc, url, token = start_emulator(flood_limit=1_000_000)
    gate, gate_url = await asyncio.to_thread(flood_gate.start, url)
    try:
        seconds = 15 if quick else 60
        settings, storage, _ = await setup(folder, gate_url, token, 30 * seconds)
        await broadcast(storage, "paced")
        w = worker(settings, storage, rate=30, senders=16)
        elapsed, _ = await drain(w)
        n, span = await sent_span(storage, "paced")
        refused = (await flood_gate.figures(gate_url))["refused"]
        print(
            f"30/s limit: {n} messages over {span:.1f}s = {(n - 1) / span:.2f} msg/s "
            f"({(n - 1) / span / 30:.1%} of the limit), 429s: {refused}"
        )
        await storage.engine.dispose()
    finally:
        gate.terminate()
        gate.wait()
        proc.terminate()
        proc.wait()
    await asyncio.to_thread(shutil.rmtree, folder, True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10k only, 15 s of pacing")
    asyncio.run(main(parser.parse_args().quick))
