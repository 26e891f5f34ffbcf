"""Case updates (status changes, news, urgent actions and their further information),
their per-language texts, and who marked an urgent action done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import ActionTaken, CaseUpdate, CaseUpdateText, FamilyMember, Person, UpdateKind
from db.pg_driver import plain_read
from db.repositories.upsert import insert_ignore


async def add(session: AsyncSession, update: CaseUpdate, texts: dict[str, str]) -> CaseUpdate:
    """Store an update with its texts; the update gets its id."""
    session.add(update)
    await session.flush()
    assert update.id is not None
    session.add_all(
        CaseUpdateText(update_id=update.id, locale=locale, text=text)
        for locale, text in texts.items()
    )
    await session.flush()
    return update


async def texts(session: AsyncSession, update_id: int) -> dict[str, str]:
    """The update's text in each language it was written in."""
    rows = await session.execute(
        plain_read(
            select(col(CaseUpdateText.locale), col(CaseUpdateText.text)).where(
                col(CaseUpdateText.update_id) == update_id
            )
        )
    )
    return {locale: text for locale, text in rows.all()}


async def of_case(session: AsyncSession, case_id: int) -> list[CaseUpdate]:
    """Every update of a case, oldest first."""
    rows = await session.execute(
        select(CaseUpdate)
        .where(col(CaseUpdate.case_id) == case_id)
        .order_by(col(CaseUpdate.created_at), col(CaseUpdate.id))
    )
    return list(rows.scalars())


async def latest_public_with_text(session: AsyncSession, case_id: int) -> CaseUpdate | None:
    """The newest update everyone may read that has something written in it; an urgent
    action is not news (the card shows it apart while it is open)."""
    written = exists().where(col(CaseUpdateText.update_id) == col(CaseUpdate.id))
    rows = await session.execute(
        plain_read(
            select(CaseUpdate)
            .where(
                col(CaseUpdate.case_id) == case_id,
                col(CaseUpdate.family_only).is_(False),
                col(CaseUpdate.kind) != UpdateKind.ACTION,
                written,
            )
            .order_by(col(CaseUpdate.created_at).desc(), col(CaseUpdate.id).desc())
            .limit(1)
        )
    )
    return rows.scalar_one_or_none()


async def is_family(session: AsyncSession, case_id: int, person_id: int) -> bool:
    return await session.get(FamilyMember, (person_id, case_id)) is not None


async def latest_action(session: AsyncSession, case_id: int) -> CaseUpdate | None:
    """The case's newest urgent action, if it has one."""
    rows = await session.execute(
        plain_read(
            select(CaseUpdate)
            .where(col(CaseUpdate.case_id) == case_id, col(CaseUpdate.kind) == UpdateKind.ACTION)
            .order_by(col(CaseUpdate.created_at).desc(), col(CaseUpdate.id).desc())
            .limit(1)
        )
    )
    return rows.scalar_one_or_none()


async def actions_ending(
    session: AsyncSession, after: dt.datetime, until: dt.datetime
) -> list[CaseUpdate]:
    """Urgent actions whose deadline falls in (after, until]."""
    rows = await session.execute(
        select(CaseUpdate).where(
            col(CaseUpdate.kind) == UpdateKind.ACTION,
            col(CaseUpdate.deadline) > after,
            col(CaseUpdate.deadline) <= until,
        )
    )
    return list(rows.scalars())


async def mark_taken(session: AsyncSession, update_id: int, person_id: int, day: dt.date) -> bool:
    """Record that the person did the action; False if they had already said so."""
    return await insert_ignore(
        session,
        ActionTaken,
        {"update_id": update_id, "person_id": person_id, "created_on": day},
        ["update_id", "person_id"],
    )


async def has_taken(session: AsyncSession, update_id: int, person_id: int) -> bool:
    return await session.get(ActionTaken, (update_id, person_id)) is not None


async def takers(session: AsyncSession, update_id: int) -> list[int]:
    """Active people who marked the action done."""
    rows = await session.execute(
        select(col(ActionTaken.person_id))
        .join(Person, col(Person.id) == col(ActionTaken.person_id))
        .where(col(ActionTaken.update_id) == update_id, col(Person.active).is_(True))
    )
    return list(rows.scalars())


async def taken_by(session: AsyncSession, person_id: int) -> int:
    """How many urgent actions the person marked done."""
    rows = await session.execute(
        select(func.count()).select_from(ActionTaken).where(col(ActionTaken.person_id) == person_id)
    )
    return int(rows.scalar_one())


async def by_id(session: AsyncSession, update_id: int) -> CaseUpdate | None:
    return await session.get(CaseUpdate, update_id)
