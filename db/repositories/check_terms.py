"""The letter checker's words and phrases, per language; editors keep the list."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import CheckTerm, CheckTermSeed


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


async def keys(session: AsyncSession) -> set[tuple[str, str]]:
    """(locale, term) of every stored term."""
    rows = await session.execute(select(col(CheckTerm.locale), col(CheckTerm.term)))
    return {(locale, term) for locale, term in rows.all()}


async def seed_versions(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(CheckTermSeed))
    return {r.locale: r.version for r in rows.scalars()}


async def set_seed_version(session: AsyncSession, locale: str, version: int) -> None:
    """Record that the language has had its shipped list up to `version`."""
    row = await session.get(CheckTermSeed, locale)
    if row is None:
        session.add(CheckTermSeed(locale=locale, version=version))
    elif row.version < version:
        row.version = version
    await session.flush()
