"""The panic command's message memory is written in batches: a write that fails is kept
for the next, and what is left at shutdown is written."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.middlewares import sent
from bot.services import panic
from db.models import SentMessage

CHAT = b"c" * 32


async def _count(storage) -> int:
    async with storage.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(SentMessage)) or 0)


async def test_a_failed_write_is_kept_and_written_at_close(storage, monkeypatch):
    real = panic.remember_many
    tries: list[int] = []

    async def fail_once(session: AsyncSession, messages: list[tuple[bytes, int]]) -> None:
        tries.append(len(messages))
        if len(tries) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        await real(session, messages)

    monkeypatch.setattr(panic, "remember_many", fail_once)
    batch = sent.SentBatch(storage.sessionmaker, delay=3600)
    batch.add([(CHAT, 1), (CHAT, 2)])
    await batch.flush()
    assert batch.pending == 2 and await _count(storage) == 0
    batch.add([(CHAT, 3)])
    await batch.close()
    assert tries == [2, 3] and batch.pending == 0 and await _count(storage) == 3


async def test_the_same_message_twice_is_one_row(storage):
    batch = sent.SentBatch(storage.sessionmaker, delay=3600)
    batch.add([(CHAT, 7)])
    await batch.flush()
    batch.add([(CHAT, 7), (CHAT, 7)])
    await batch.close()
    assert await _count(storage) == 1


async def test_a_long_outage_gives_up_the_oldest(storage, monkeypatch):
    monkeypatch.setattr(sent, "BATCH_LIMIT", 3)
    batch = sent.SentBatch(storage.sessionmaker, delay=3600)
    batch.add([(CHAT, n) for n in range(5)])
    assert batch.pending == 3
    await batch.close()
    async with storage.sessionmaker() as s:
        kept = set(await s.scalars(select(col(SentMessage.message_id))))
    assert kept == {2, 3, 4}
