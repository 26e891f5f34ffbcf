"""Reports people send to the campaign, and the editors' queue of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import FamilyMember, Report, ReportStatus


async def add(session: AsyncSession, report: Report) -> Report:
    """Store a report; it gets its id."""
    session.add(report)
    await session.flush()
    return report


async def by_id(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def sent_since(session: AsyncSession, person_id: int, since: dt.datetime) -> int:
    """How many reports the person has sent since `since`, whatever became of them."""
    rows = await session.execute(
        select(func.count())
        .select_from(Report)
        .where(col(Report.person_id) == person_id, col(Report.created_at) >= since)
    )
    return int(rows.scalar_one())


async def waiting(
    session: AsyncSession, statuses: Sequence[str], limit: int
) -> tuple[list[Report], int]:
    """The oldest reports in one of `statuses` (at most `limit`), and how many there are."""
    where = col(Report.status).in_(list(statuses))
    rows = await session.execute(
        select(Report).where(where).order_by(col(Report.created_at), col(Report.id)).limit(limit)
    )
    total = await session.execute(select(func.count()).select_from(Report).where(where))
    return list(rows.scalars()), int(total.scalar_one())


async def mark_read(session: AsyncSession, report_id: int, now: dt.datetime) -> bool:
    """New -> read, once: True only for the call that made the change, so two editors
    opening it at the same moment tell the sender once."""
    result = await session.execute(
        update(Report)
        .where(col(Report.id) == report_id, col(Report.status) == ReportStatus.NEW)
        .values(status=ReportStatus.READ, read_at=now)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def set_status(session: AsyncSession, report_id: int, status: str) -> bool:
    result = await session.execute(
        update(Report).where(col(Report.id) == report_id).values(status=status)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def family_case_ids(session: AsyncSession, person_id: int) -> list[int]:
    """The cases the person is a family member of, lowest id first."""
    rows = await session.execute(
        select(col(FamilyMember.case_id))
        .where(col(FamilyMember.person_id) == person_id)
        .order_by(col(FamilyMember.case_id))
    )
    return list(rows.scalars())


async def is_family_anywhere(session: AsyncSession, person_id: int) -> bool:
    rows = await session.execute(
        select(col(FamilyMember.case_id)).where(col(FamilyMember.person_id) == person_id).limit(1)
    )
    return rows.first() is not None
