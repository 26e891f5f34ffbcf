"""Messages the bot may still delete: the panic command's memory, 48 hours long."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Delivery, Person, SentMessage
from db.repositories.upsert import insert_for, insert_ignore


async def record(
    session: AsyncSession,
    chat_index: bytes,
    message_id: int,
    sent_at: dt.datetime,
    delete_at: dt.datetime | None = None,
) -> None:
    await insert_ignore(
        session,
        SentMessage,
        {
            "chat_index": chat_index,
            "message_id": message_id,
            "sent_at": sent_at,
            "delete_at": delete_at,
        },
        ["chat_index", "message_id"],
    )


async def record_many(
    session: AsyncSession, messages: list[tuple[bytes, int]], sent_at: dt.datetime
) -> None:
    """Several messages at once; those known already are left as they are.

    One statement with the rows as its parameters: a statement with the rows written into
    it (multi-row VALUES) is compiled anew for every batch, and that compilation was a
    third of a busy bot's CPU."""
    rows = [
        {"chat_index": chat, "message_id": mid, "sent_at": sent_at, "delete_at": None}
        for chat, mid in dict.fromkeys(messages)
    ]
    table = SentMessage.__table__  # type: ignore[attr-defined]
    stmt: Any = insert_for(session, table)
    await session.execute(
        stmt.on_conflict_do_nothing(index_elements=["chat_index", "message_id"]), rows
    )


async def set_delete_at(
    session: AsyncSession, chat_index: bytes, message_id: int, at: dt.datetime | None
) -> None:
    await session.execute(
        update(SentMessage)
        .where(col(SentMessage.chat_index) == chat_index, col(SentMessage.message_id) == message_id)
        .values(delete_at=at)
    )


async def deletable(
    session: AsyncSession, chat_index: bytes, person_id: int | None, since: dt.datetime
) -> list[int]:
    """Ids of the bot's messages in the chat sent after `since`: replies and alerts."""
    ids = set(
        (
            await session.execute(
                select(col(SentMessage.message_id)).where(
                    col(SentMessage.chat_index) == chat_index, col(SentMessage.sent_at) >= since
                )
            )
        ).scalars()
    )
    if person_id is not None:
        ids.update(
            m
            for m in (
                await session.execute(
                    select(col(Delivery.message_id)).where(
                        col(Delivery.person_id) == person_id,
                        col(Delivery.message_id).is_not(None),
                        col(Delivery.sent_at) >= since,
                    )
                )
            ).scalars()
            if m is not None
        )
    return sorted(ids)


async def forget_chat(session: AsyncSession, chat_index: bytes, person_id: int | None) -> None:
    """The chat is cleared (or the person leaves): nothing of its messages stays."""
    await session.execute(delete(SentMessage).where(col(SentMessage.chat_index) == chat_index))
    if person_id is not None:
        await session.execute(
            update(Delivery)
            .where(col(Delivery.person_id) == person_id, col(Delivery.message_id).is_not(None))
            .values(message_id=None, delete_at=None)
        )


async def due(
    session: AsyncSession, now: dt.datetime, limit: int
) -> list[tuple[bytes, int, bytes]]:
    """(chat index, message id, the person's encrypted id) of messages due for deletion."""
    rows = await session.execute(
        select(col(SentMessage.chat_index), col(SentMessage.message_id), col(Person.tg_cipher))
        .join(Person, col(Person.tg_index) == col(SentMessage.chat_index))
        .where(col(SentMessage.delete_at) <= now)
        .limit(limit)
    )
    return [(bytes(i), int(m), bytes(c)) for i, m, c in rows.all()]


async def drop(session: AsyncSession, chat_index: bytes, message_id: int) -> None:
    await session.execute(
        delete(SentMessage).where(
            col(SentMessage.chat_index) == chat_index, col(SentMessage.message_id) == message_id
        )
    )


async def expire(session: AsyncSession, before: dt.datetime) -> int:
    """Past Telegram's 48 hours the ids are of no use: replies' rows go, and alerts' message
    ids are let go (which also lets the outbox purge those rows)."""
    gone = await session.execute(delete(SentMessage).where(col(SentMessage.sent_at) < before))
    await session.execute(
        update(Delivery)
        .where(
            col(Delivery.message_id).is_not(None),
            col(Delivery.delete_at).is_(None),
            col(Delivery.sent_at) < before,
        )
        .values(message_id=None)
    )
    return int(cast(CursorResult[Any], gone).rowcount or 0)
