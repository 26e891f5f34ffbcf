"""Counts for staff: never a person, only how many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Case, Delivery, DeliveryState, Follow, LetterCount, Person


async def people_by_locale(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(col(Person.locale), func.count())
        .where(col(Person.active).is_(True))
        .group_by(col(Person.locale))
    )
    return {loc: int(n) for loc, n in rows.all()}


async def follows_by_country(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(col(Case.country), func.count())
        .join(Follow, col(Follow.case_id) == col(Case.id))
        .group_by(col(Case.country))
    )
    return {country: int(n) for country, n in rows.all()}


async def per_case(session: AsyncSession) -> list[tuple[int, int, int]]:
    """(case id, followers, letters) for every case, most followed first."""
    follows = (
        select(col(Follow.case_id), func.count().label("n"))
        .group_by(col(Follow.case_id))
        .subquery()
    )
    letters = (
        select(col(LetterCount.case_id), func.sum(LetterCount.count).label("n"))
        .group_by(col(LetterCount.case_id))
        .subquery()
    )
    rows = await session.execute(
        select(col(Case.id), func.coalesce(follows.c.n, 0), func.coalesce(letters.c.n, 0))
        .outerjoin(follows, follows.c.case_id == col(Case.id))
        .outerjoin(letters, letters.c.case_id == col(Case.id))
        .order_by(func.coalesce(follows.c.n, 0).desc(), col(Case.slug))
    )
    return [(int(i), int(f), int(n)) for i, f, n in rows.all()]


async def letters_per_week(session: AsyncSession, since: dt.date) -> dict[dt.date, int]:
    """Letters recorded per week (keyed by its Monday), from `since` on."""
    rows = await session.execute(
        select(col(LetterCount.day), func.sum(col(LetterCount.count)))
        .where(col(LetterCount.day) >= since)
        .group_by(col(LetterCount.day))
    )
    return _by_week((day, int(n)) for day, n in rows.all())


async def follows_per_week(session: AsyncSession, since: dt.date) -> dict[dt.date, int]:
    """Follows started per week (keyed by its Monday), from `since` on; a follow ended
    since then is no longer counted, as there is no row left to count."""
    rows = await session.execute(
        select(col(Follow.created_on), func.count())
        .where(col(Follow.created_on) >= since)
        .group_by(col(Follow.created_on))
    )
    return _by_week((day, int(n)) for day, n in rows.all())


def _by_week(per_day: Iterable[tuple[dt.date, int]]) -> dict[dt.date, int]:
    # Weeks are made here rather than in SQL: SQLite and PostgreSQL have no date function
    # in common that truncates to a week.
    out: dict[dt.date, int] = {}
    for day, n in per_day:
        monday = day - dt.timedelta(days=day.weekday())
        out[monday] = out.get(monday, 0) + n
    return out


async def deliveries_since(
    session: AsyncSession, since: dt.datetime, *, broadcasts: bool
) -> dict[str, int]:
    """Deliveries by state: of broadcasts (batch `broadcast:<id>`), or of alerts (the rest,
    leaving out the staff's own approval notices)."""
    about_broadcasts = col(Delivery.batch).like("broadcast:%")
    kind = (
        and_(about_broadcasts, col(Delivery.batch).not_like("broadcast:%:%"))
        if broadcasts
        else not_(about_broadcasts)
    )
    rows = await session.execute(
        select(col(Delivery.state), func.count())
        .where(col(Delivery.created_at) >= since, kind)
        .group_by(col(Delivery.state))
    )
    return {state: int(n) for state, n in rows.all()}


SENT = DeliveryState.SENT
FAILED = DeliveryState.FAILED
