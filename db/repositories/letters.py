"""Letter templates, the once-per-person record of a letter, and anonymous counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import AddressWait, Case, LetterAction, LetterCount, LetterTemplate
from db.repositories.upsert import insert_for, insert_ignore


async def templates(session: AsyncSession, kind: str, locale: str) -> list[LetterTemplate]:
    rows = await session.execute(
        select(LetterTemplate)
        .where(col(LetterTemplate.kind) == kind, col(LetterTemplate.locale) == locale)
        .order_by(col(LetterTemplate.variant))
    )
    return list(rows.scalars())


async def all_templates(session: AsyncSession) -> dict[tuple[str, int, str], LetterTemplate]:
    """Every stored template by (kind, variant, locale)."""
    rows = await session.execute(select(LetterTemplate))
    return {(str(t.kind), t.variant, t.locale): t for t in rows.scalars()}


async def has_recorded(session: AsyncSession, person_id: int, case_id: int, kind: str) -> bool:
    return await session.get(LetterAction, (person_id, case_id, kind)) is not None


async def record(
    session: AsyncSession, person_id: int, case_id: int, kind: str, today: dt.date
) -> bool:
    """Record a sent letter once and bump the anonymous daily counter; False if known."""
    new = await insert_ignore(
        session,
        LetterAction,
        {"person_id": person_id, "case_id": case_id, "kind": kind, "created_on": today},
        ["person_id", "case_id", "kind"],
    )
    if not new:
        return False
    stmt: Any = insert_for(session, LetterCount).values(
        case_id=case_id, kind=kind, day=today, count=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["case_id", "kind", "day"], set_={"count": col(LetterCount.count) + 1}
    )
    await session.execute(stmt)
    return True


async def withdraw(session: AsyncSession, person_id: int, since: dt.date) -> int:
    """Take the person's letters recorded on `since` or later back out of the daily
    counters; how many there were."""
    rows = await session.execute(
        select(
            col(LetterAction.case_id), col(LetterAction.kind), col(LetterAction.created_on)
        ).where(col(LetterAction.person_id) == person_id, col(LetterAction.created_on) >= since)
    )
    marks = [{"c": c, "k": k, "d": d} for c, k, d in rows.all()]
    if marks:
        table: Any = LetterCount.__table__  # type: ignore[attr-defined]
        stmt = (
            update(table)
            .where(
                table.c.case_id == bindparam("c"),
                table.c.kind == bindparam("k"),
                table.c.day == bindparam("d"),
                table.c.count > 0,
            )
            .values(count=table.c.count - 1)
        )
        await session.execute(stmt, marks)
    return len(marks)


async def cases_written(
    session: AsyncSession, person_id: int, kind: str, since: dt.date
) -> set[int]:
    """Cases the person recorded a letter of this kind to since the given day."""
    rows = await session.execute(
        select(col(LetterAction.case_id)).where(
            col(LetterAction.person_id) == person_id,
            col(LetterAction.kind) == kind,
            col(LetterAction.created_on) >= since,
        )
    )
    return set(rows.scalars())


async def of_person(session: AsyncSession, person_id: int) -> list[tuple[int, str, str]]:
    """(case id, letter kind, the case's status now) of every letter the person recorded."""
    rows = await session.execute(
        select(col(LetterAction.case_id), col(LetterAction.kind), col(Case.status))
        .join(Case, col(Case.id) == col(LetterAction.case_id))
        .where(col(LetterAction.person_id) == person_id)
    )
    return [(int(c), str(k), str(s)) for c, k, s in rows.all()]


async def writers(session: AsyncSession, case_id: int, kind: str) -> list[int]:
    """People who recorded a letter of this kind to the case, at any time."""
    rows = await session.execute(
        select(col(LetterAction.person_id)).where(
            col(LetterAction.case_id) == case_id, col(LetterAction.kind) == kind
        )
    )
    return list(rows.scalars())


async def is_waiting(session: AsyncSession, person_id: int, case_id: int) -> bool:
    return await session.get(AddressWait, (person_id, case_id)) is not None


async def wait(session: AsyncSession, person_id: int, case_id: int, today: dt.date) -> bool:
    """Ask to hear when the case has an address; False if already asked."""
    return await insert_ignore(
        session,
        AddressWait,
        {"person_id": person_id, "case_id": case_id, "created_on": today},
        ["person_id", "case_id"],
    )


async def unwait(session: AsyncSession, person_id: int, case_id: int) -> None:
    await session.execute(
        delete(AddressWait).where(
            col(AddressWait.person_id) == person_id, col(AddressWait.case_id) == case_id
        )
    )


async def waiters(session: AsyncSession, case_id: int) -> list[int]:
    """People waiting to hear that the case has an address for letters."""
    rows = await session.execute(
        select(col(AddressWait.person_id)).where(col(AddressWait.case_id) == case_id)
    )
    return list(rows.scalars())


async def clear_waits(session: AsyncSession, case_id: int) -> None:
    await session.execute(delete(AddressWait).where(col(AddressWait.case_id) == case_id))
