"""The rows a rotation of DATA_KEY rewrites, read and written in batches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import (
    AuditEntry,
    Delivery,
    JoinAttempt,
    KeyCheck,
    KeyRotation,
    Person,
    Report,
    SentMessage,
)
from db.repositories import invites


async def state(session: AsyncSession) -> KeyRotation | None:
    return await session.get(KeyRotation, 1)


async def begin(session: AsyncSession, fingerprint: bytes) -> None:
    session.add(KeyRotation(id=1, fingerprint=fingerprint, audit_done=0))
    await session.flush()


async def finish(session: AsyncSession, fingerprint: bytes) -> None:
    """The database is on the new key: its fingerprint replaces the old one."""
    await session.execute(
        update(KeyCheck).where(col(KeyCheck.id) == 1).values(fingerprint=fingerprint)
    )
    await session.execute(delete(KeyRotation))


async def people(
    session: AsyncSession, after: int, limit: int
) -> list[tuple[int, bytes, bytes | None, bool]]:
    """(id, id ciphertext, sealed panic word, whether an old-form panic word is set)."""
    rows = await session.execute(
        select(
            col(Person.id),
            col(Person.tg_cipher),
            col(Person.panic_seal),
            col(Person.panic_hash).is_not(None),
        )
        .where(col(Person.id) > after)
        .order_by(col(Person.id))
        .limit(limit)
    )
    return [(int(i), bytes(c), bytes(s) if s is not None else None, bool(h)) for i, c, s, h in rows]


async def rewrite_people(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of {id, tg_index, tg_cipher, panic_seal, panic_hash}, by primary key."""
    if rows:
        await session.execute(update(Person), list(rows))


async def distinct(session: AsyncSession, column: Any) -> set[Any]:
    return set((await session.execute(select(column).distinct())).scalars())


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


async def rename(session: AsyncSession, model: Any, column: str, mapping: Mapping[Any, Any]) -> int:
    """Replace each old value of `column` by its new one; the number of values."""
    if not mapping:
        return 0
    table = _table(model)
    stmt = (
        update(table)
        .where(table.c[column] == bindparam("old_value"))
        .values({column: bindparam("new_value")})
    )
    await session.execute(stmt, [{"old_value": o, "new_value": n} for o, n in mapping.items()])
    return len(mapping)


async def drop(session: AsyncSession, model: Any, column: str, values: Iterable[Any]) -> int:
    """Delete the rows whose `column` holds one of `values`; how many values there were."""
    chosen = list(values)
    table = _table(model)
    for start in range(0, len(chosen), 500):
        await session.execute(delete(table).where(table.c[column].in_(chosen[start : start + 500])))
    return len(chosen)


async def rename_creators(session: AsyncSession, mapping: Mapping[str, str]) -> None:
    for model in invites.MODELS:
        await rename(session, model, "created_by", mapping)


async def attempt_senders(session: AsyncSession) -> set[bytes]:
    return {bytes(v) for v in await distinct(session, col(JoinAttempt.who))}


async def message_chats(session: AsyncSession) -> set[bytes]:
    return {bytes(v) for v in await distinct(session, col(SentMessage.chat_index))}


async def audit_names(session: AsyncSession) -> set[str]:
    """Every actor of the audit log, and every target (short hashes hide in some)."""
    actors = await distinct(session, col(AuditEntry.actor))
    targets = await distinct(session, col(AuditEntry.target))
    return {str(a) for a in actors} | {str(t) for t in targets if t is not None}


async def audit_entries(
    session: AsyncSession, after: int, limit: int
) -> list[tuple[int, str, str | None]]:
    rows = await session.execute(
        select(col(AuditEntry.id), col(AuditEntry.actor), col(AuditEntry.target))
        .where(col(AuditEntry.id) > after)
        .order_by(col(AuditEntry.id))
        .limit(limit)
    )
    return [(int(i), str(a), t) for i, a, t in rows]


async def rewrite_audit(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]], done: int
) -> None:
    """Rows of {id, actor, target}, and how far the audit log is carried, together."""
    if rows:
        await session.execute(update(AuditEntry), list(rows))
    await session.execute(
        update(KeyRotation).where(col(KeyRotation.id) == 1).values(audit_done=done)
    )


async def reports(
    session: AsyncSession, after: int, limit: int
) -> list[tuple[int, bytes, bytes | None]]:
    rows = await session.execute(
        select(col(Report.id), col(Report.body), col(Report.attachment))
        .where(col(Report.id) > after)
        .order_by(col(Report.id))
        .limit(limit)
    )
    return [(int(i), bytes(b), bytes(a) if a is not None else None) for i, b, a in rows]


async def rewrite_reports(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(update(Report), list(rows))


async def deliveries_of(
    session: AsyncSession, marker: str, after: int, limit: int
) -> list[tuple[int, str]]:
    """Outbox rows whose spec mentions `marker` (a kind that carries sealed content)."""
    rows = await session.execute(
        select(col(Delivery.id), col(Delivery.spec))
        .where(col(Delivery.id) > after, col(Delivery.spec).contains(marker))
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    return [(int(i), str(s)) for i, s in rows]


async def rewrite_deliveries(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(update(Delivery), list(rows))
