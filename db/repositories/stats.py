"""Counts for staff: never a person, only how many."""

from __future__ import annotations

import datetime as dt

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


SENT = DeliveryState.SENT.value
FAILED = DeliveryState.FAILED.value
