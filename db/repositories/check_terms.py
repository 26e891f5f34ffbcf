"""The letter checker's words and phrases, per language; editors keep the list."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import CheckTerm


async def for_locales(session: AsyncSession, locales: Collection[str]) -> list[CheckTerm]:
    if not locales:
        return []
    rows = await session.execute(
        select(CheckTerm)
        .where(col(CheckTerm.locale).in_(list(locales)))
        .order_by(col(CheckTerm.locale), col(CheckTerm.term))
    )
    return list(rows.scalars())


async def for_locale(session: AsyncSession, locale: str) -> list[CheckTerm]:
    """One language's terms, alphabetically (an exception next to the term it excepts)."""
    rows = await session.execute(
        select(CheckTerm).where(col(CheckTerm.locale) == locale).order_by(col(CheckTerm.term))
    )
    return list(rows.scalars())


async def counts(session: AsyncSession) -> dict[str, int]:
    """How many terms each language has (languages without any are absent)."""
    rows = await session.execute(
        select(col(CheckTerm.locale), func.count()).group_by(col(CheckTerm.locale))
    )
    return {locale: int(n) for locale, n in rows.all()}


async def get(session: AsyncSession, locale: str, term: str) -> CheckTerm | None:
    return await session.get(CheckTerm, (locale, term))


async def put(
    session: AsyncSession, locale: str, term: str, reason: str, advice: str | None
) -> bool:
    """Add a term or change the one already there; True if it is new."""
    row = await session.get(CheckTerm, (locale, term))
    if row is None:
        session.add(CheckTerm(locale=locale, term=term, reason=reason, advice=advice))
        await session.flush()
        return True
    row.reason = reason
    row.advice = advice
    await session.flush()
    return False


async def add_all(session: AsyncSession, rows: list[CheckTerm]) -> None:
    session.add_all(rows)
    await session.flush()


async def remove(session: AsyncSession, locale: str, term: str) -> bool:
    result = await session.execute(
        delete(CheckTerm).where(col(CheckTerm.locale) == locale, col(CheckTerm.term) == term)
    )
    return bool(getattr(result, "rowcount", 0))
