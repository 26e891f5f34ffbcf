"""Kill -9 the delivery worker at random moments; after restarts everyone has the
message, and the only duplicates are what was in flight at each kill."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from bot.crypto import IdentityCipher
from bot.emulator import Emulator
from bot.emulator.server import serve
from bot.services import case_files, identity
from db.models import DeliveryState
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from db.repositories import outbox as outbox_repo
from tests.conftest import ROOT, SMALL_CASES

RECIPIENTS = 1500
RATE = 300
KILLS = 3
SENDERS = 16


async def test_worker_survives_sigkill(settings, storage, small_cases, sqlite_file: Path):
    emulator = Emulator(flood_limit=1_000_000)
    server = await serve(emulator, 0, with_page=False)
    cipher = IdentityCipher(settings.key_bytes)
    users = []
    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "test-detained")
        assert case is not None and case.id is not None
        for _ in range(RECIPIENTS):
            user = emulator.add_user("en")
            user.started = True
            person = await identity.ensure(session, cipher, user.id, "en")
            assert person.id is not None
            await follows_repo.add(session, person.id, case.id)
            users.append(user)
    released = SMALL_CASES.read_text(encoding="utf-8").replace(
        "status: detained\n    detained_on", "status: released\n    detained_on"
    )
    async with storage.sessionmaker() as session, session.begin():
        await case_files.apply(session, case_files.parse(released))

    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_KEY=settings.data_key.get_secret_value() if settings.data_key else "",
        DATABASE_URL=settings.database_url,
        BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=server.url,
        DELIVERY_RATE=str(RATE),
        DELIVERY_LEASE_SECONDS="2",
        LOG_LEVEL="WARNING",
    )

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"], cwd=sqlite_file.parent, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def sent() -> int:
        return sum(1 for name, _ in emulator.calls if name == "sendMessage")

    rng = random.Random(42)
    try:
        for _ in range(KILLS):
            proc = start()
            before = sent()
            while sent() == before:  # wait until this worker is really sending
                assert proc.poll() is None, "the worker exited on its own"
                await asyncio.sleep(0.05)
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc = start()
        for _ in range(1200):
            async with storage.sessionmaker() as session:
                if not await outbox_repo.has_pending(session):
                    break
            await asyncio.sleep(0.1)
        proc.terminate()
        proc.wait(timeout=30)
    finally:
        await server.stop()

    counts = [sum(1 for m in emulator.messages(u) if m.from_bot) for u in users]
    assert min(counts) == 1, "somebody was skipped"
    duplicates = sum(c - 1 for c in counts)
    # In flight at a kill: what the senders hold plus results not yet committed.
    bound = KILLS * (SENDERS + RATE // 10)
    print(f"\ncrash test: {RECIPIENTS} recipients, {KILLS} kills, {duplicates} duplicates")
    assert duplicates <= bound
    async with storage.sessionmaker() as session:
        states = await outbox_repo.counts(session, "case:1:status")
    assert states == {DeliveryState.SENT: RECIPIENTS}
