"""Case updates (status changes and news) and their per-language texts."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import CaseUpdate, CaseUpdateText, FamilyMember


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
        select(col(CaseUpdateText.locale), col(CaseUpdateText.text)).where(
            col(CaseUpdateText.update_id) == update_id
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
    """The newest update everyone may read that has something written in it."""
    written = exists().where(col(CaseUpdateText.update_id) == col(CaseUpdate.id))
    rows = await session.execute(
        select(CaseUpdate)
        .where(
            col(CaseUpdate.case_id) == case_id,
            col(CaseUpdate.family_only).is_(False),
            written,
        )
        .order_by(col(CaseUpdate.created_at).desc(), col(CaseUpdate.id).desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def is_family(session: AsyncSession, case_id: int, person_id: int) -> bool:
    return await session.get(FamilyMember, (person_id, case_id)) is not None
