"""Cases, their per-language text and hearings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy import case as case_when
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import (
    ActionTaken,
    Case,
    CaseStatus,
    CaseText,
    Follow,
    Hearing,
    HearingStatus,
    LetterCount,
    Visibility,
)
from db.pg_driver import plain_read


def _public() -> ColumnElement[bool]:
    return col(Case.visibility) == Visibility.PUBLIC


async def by_slug(session: AsyncSession, slug: str) -> Case | None:
    stmt = plain_read(select(Case).where(col(Case.slug) == slug))
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_id(session: AsyncSession, case_id: int) -> Case | None:
    return await session.get(Case, case_id)


async def change_status(
    session: AsyncSession, case_id: int, old: CaseStatus, new: CaseStatus, now: dt.datetime
) -> bool:
    """Give the case the status `new` if it still has `old`: True if it did, False (and
    nothing written) if another transaction changed it since the caller read it.

    The check and the write are one statement, so nothing can come between them: on
    PostgreSQL a concurrent one waits for the row's lock and then re-checks the condition
    against the committed row; on SQLite it takes the database's write lock.
    """
    result = await session.execute(
        update(Case)
        .where(col(Case.id) == case_id, col(Case.status) == old)
        .values(status=new, updated_at=now)
        # Not "evaluate": it would give loaded copies the new status even when no row
        # matched. The caller sets its copy once it knows the change was made.
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


# Built once: every card a supporter opens asks it.
_READER_VIEW = plain_read(
    select(
        col(Case.visibility),
        exists()
        .where(
            col(Follow.case_id) == col(Case.id),
            col(Follow.person_id) == bindparam("person"),
        )
        .label("following"),
        exists()
        .where(
            col(ActionTaken.update_id) == bindparam("action"),
            col(ActionTaken.person_id) == bindparam("person"),
        )
        .label("taken"),
    ).where(col(Case.id) == bindparam("case"))
)


async def reader_view(
    session: AsyncSession, case_id: int, person_id: int | None, action_id: int | None
) -> tuple[Visibility, bool, bool] | None:
    """The case's visibility, whether the person follows it and whether they have taken
    the action `action_id`, in one statement; None if there is no such case."""
    row = (
        await session.execute(
            _READER_VIEW, {"case": case_id, "person": person_id, "action": action_id}
        )
    ).one_or_none()
    return (row[0], bool(row[1]), bool(row[2])) if row is not None else None


async def all_slugs(session: AsyncSession) -> dict[str, Case]:
    return {c.slug: c for c in (await session.execute(select(Case))).scalars()}


async def count_all(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Case))).scalar_one())


async def texts(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, dict[str, CaseText]]:
    out: dict[int, dict[str, CaseText]] = {cid: {} for cid in case_ids}
    if not case_ids:
        return out
    rows = await session.execute(
        plain_read(select(CaseText).where(col(CaseText.case_id).in_(case_ids)))
    )
    for text in rows.scalars():
        out[text.case_id][text.locale] = text
    return out


async def replace_texts(session: AsyncSession, case_id: int, new: list[CaseText]) -> None:
    await session.execute(delete(CaseText).where(col(CaseText.case_id) == case_id))
    session.add_all(new)


def _filters(country: str | None, status: str | None) -> ColumnElement[bool]:
    conds = [_public()]
    if country:
        conds.append(col(Case.country) == country)
    if status:
        conds.append(col(Case.status) == status)
    return and_(*conds)


async def count(session: AsyncSession, *, country: str | None, status: str | None) -> int:
    """How many public cases match the filters."""
    q = select(func.count()).select_from(Case).where(_filters(country, status))
    return int((await session.execute(plain_read(q))).scalar_one())


async def page(
    session: AsyncSession, *, country: str | None, status: str | None, offset: int, limit: int
) -> list[Case]:
    """Public cases matching the filters, in a stable order."""
    rows = await session.execute(
        plain_read(
            select(Case)
            .where(_filters(country, status))
            .order_by(col(Case.country), col(Case.slug))
            .offset(offset)
            .limit(limit)
        )
    )
    return list(rows.scalars())


async def country_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        plain_read(
            select(col(Case.country), func.count()).where(_public()).group_by(col(Case.country))
        )
    )
    return {country: int(n) for country, n in rows.all()}


async def search(
    session: AsyncSession, patterns: list[list[str]], limit: int, *, public_only: bool = True
) -> list[Case]:
    """Cases whose search key holds, for every word, one of its patterns: public ones
    only, unless staff are looking (they must find hidden and archived cases too)."""
    conds = [
        or_(*(col(Case.search_key).like(f"%{p}%") for p in alternatives))
        for alternatives in patterns
    ]
    if public_only:
        conds.append(_public())
    rows = await session.execute(
        plain_read(select(Case).where(*conds).order_by(col(Case.slug)).limit(limit))
    )
    return list(rows.scalars())


async def followers(session: AsyncSession, case_id: int) -> int:
    q = select(func.count()).select_from(Follow).where(col(Follow.case_id) == case_id)
    return int((await session.execute(plain_read(q))).scalar_one())


async def letters_total(session: AsyncSession, case_id: int, kind: str | None = None) -> int:
    q = select(func.coalesce(func.sum(col(LetterCount.count)), 0)).where(
        col(LetterCount.case_id) == case_id
    )
    if kind:
        q = q.where(col(LetterCount.kind) == kind)
    return int((await session.execute(plain_read(q))).scalar_one())


async def hearings(session: AsyncSession, case_id: int) -> list[Hearing]:
    rows = await session.execute(
        select(Hearing).where(col(Hearing.case_id) == case_id).order_by(col(Hearing.starts_at))
    )
    return list(rows.scalars())


async def next_hearing(session: AsyncSession, case_id: int, now: dt.datetime) -> Hearing | None:
    rows = await session.execute(
        plain_read(
            select(Hearing)
            .where(
                col(Hearing.case_id) == case_id,
                col(Hearing.status) == HearingStatus.SCHEDULED,
                col(Hearing.starts_at) >= now,
            )
            .order_by(col(Hearing.starts_at))
            .limit(1)
        )
    )
    return rows.scalar_one_or_none()


async def least_written(
    session: AsyncSession,
    statuses: Sequence[str],
    since: dt.date,
    limit: int,
    *,
    kind: str | None = None,
    accepting: bool = False,
) -> list[tuple[Case, int]]:
    """Public cases in the given statuses with their letters since `since` (of one kind, if
    given), the fewest first; with `accepting`, only cases whose facility passes letters on.

    Those a card can be posted to now (letters reach them, and a safe address is known)
    come before the rest, so a short list is not filled with people nobody can write to."""
    recent = select(col(LetterCount.case_id), func.sum(LetterCount.count).label("n")).where(
        col(LetterCount.day) >= since
    )
    if kind is not None:
        recent = recent.where(col(LetterCount.kind) == kind)
    counted = recent.group_by(col(LetterCount.case_id)).subquery()
    n = func.coalesce(counted.c.n, 0)
    postable = and_(
        col(Case.accepts_letters).is_(True),
        col(Case.prison_address).is_not(None),
        col(Case.prison_address) != "",
    )
    query = (
        select(Case, n)
        .outerjoin(counted, counted.c.case_id == col(Case.id))
        .where(_public(), col(Case.status).in_(statuses))
        .order_by(case_when((postable, 0), else_=1), n, col(Case.slug))
        .limit(limit)
    )
    if accepting:
        query = query.where(col(Case.accepts_letters).is_(True))
    rows = await session.execute(query)
    return [(case, int(count)) for case, count in rows.all()]


async def with_letter_dates(session: AsyncSession, statuses: Sequence[str]) -> list[Case]:
    """Public cases in these statuses, passing letters on, with a birthday or an expected
    release on record."""
    rows = await session.execute(
        select(Case).where(
            _public(),
            col(Case.status).in_(statuses),
            col(Case.accepts_letters).is_(True),
            or_(col(Case.born_on).is_not(None), col(Case.release_expected_on).is_not(None)),
        )
    )
    return list(rows.scalars())


async def hearing_by_id(session: AsyncSession, hearing_id: int) -> Hearing | None:
    return await session.get(Hearing, hearing_id)
