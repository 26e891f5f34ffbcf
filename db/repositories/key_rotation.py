"""The rows a rotation of DATA_KEY rewrites, read and written in batches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import (
    AuditEntry,
    Broadcast,
    CaseUpdate,
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
    session.add(KeyRotation(id=1, fingerprint=fingerprint))
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


async def rewrite(session: AsyncSession, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of {id, column: value, ...} of `model`, each updated by its primary key."""
    if rows:
        await session.execute(update(model), list(rows))


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


# Tables that name staff by a short keyed hash (an "actor"): the columns that hold one, and
# the KeyRotation column that keeps how far the table has been carried.
ACTOR_TABLES: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "audit": (AuditEntry, ("actor", "target"), "audit_done"),
    "broadcasts": (Broadcast, ("author", "approved_by"), "broadcasts_done"),
    "updates": (CaseUpdate, ("author",), "updates_done"),
}


async def actor_names(session: AsyncSession) -> set[str]:
    """Every value of those columns (audit targets included: hashes hide in some)."""
    found: set[str] = set()
    for model, columns, _progress in ACTOR_TABLES.values():
        for column in columns:
            found |= {str(v) for v in await distinct(session, getattr(model, column)) if v}
    return found


async def actor_rows(
    session: AsyncSession, table: str, after: int, limit: int
) -> list[tuple[Any, ...]]:
    """(id, *actor columns) of a table's rows after `after`, in id order."""
    model, columns, _progress = ACTOR_TABLES[table]
    rows = await session.execute(
        select(col(model.id), *(getattr(model, c) for c in columns))
        .where(col(model.id) > after)
        .order_by(col(model.id))
        .limit(limit)
    )
    return [tuple(row) for row in rows]


async def rewrite_actors(
    session: AsyncSession, table: str, rows: Sequence[Mapping[str, Any]], done: int
) -> None:
    """Rows of {id, column: value, ...}, and how far the table is carried, together."""
    model, _columns, progress = ACTOR_TABLES[table]
    await rewrite(session, model, rows)
    await session.execute(
        update(KeyRotation).where(col(KeyRotation.id) == 1).values({progress: done})
    )


async def carried_through(session: AsyncSession, table: str) -> int:
    """How far a table's actors have been carried (0: not begun)."""
    state = await session.get(KeyRotation, 1)
    return int(getattr(state, ACTOR_TABLES[table][2])) if state is not None else 0


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
