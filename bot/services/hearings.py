"""Scheduling, moving and cancelling hearings, with the alerts that follow and an audit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import alerts, staff
from bot.services.cases import COURT_TIMEZONES
from db.models import Case, Hearing, HearingKind, HearingStatus
from db.repositories import cases as cases_repo
from db.types import utcnow

MAX_COURT = 300


class HearingError(ValueError):
    """A hearing that cannot be: in the past, or with a court name too long."""


def court_time(case: Case, day: dt.date, at: dt.time) -> tuple[dt.datetime, str]:
    """The UTC moment of a local date and time at the case's court, and its zone."""
    tz = COURT_TIMEZONES[case.country]
    local = dt.datetime.combine(day, at).replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC), tz


def _check(starts: dt.datetime, court: str) -> None:
    if starts <= utcnow():
        raise HearingError("past")
    if not court.strip() or len(court) > MAX_COURT:
        raise HearingError("court")


async def schedule(
    session: AsyncSession,
    case: Case,
    starts: dt.datetime,
    tz: str,
    court: str,
    kind: str,
    actor: str,
) -> Hearing:
    """A new hearing; its reminders are planned by the scheduler at the lead times."""
    _check(starts, court)
    assert case.id is not None
    hearing = Hearing(
        case_id=case.id,
        starts_at=starts,
        timezone=tz,
        court=court.strip(),
        kind=HearingKind(kind) if kind in set(HearingKind) else HearingKind.OTHER,
    )
    session.add(hearing)
    await session.flush()
    await staff.audit(session, actor, "hearing.schedule", f"case:{case.slug}")
    return hearing


async def move(session: AsyncSession, hearing: Hearing, starts: dt.datetime, actor: str) -> Hearing:
    """Move a hearing: unsent reminders are withdrawn, those reminded are told the new
    time, and reminders for the new time are planned afresh."""
    _check(starts, hearing.court)
    await alerts.hearing_withdrawn(session, hearing, moved_to=starts)
    hearing.starts_at = starts
    hearing.updated_at = utcnow()
    await session.flush()
    await staff.audit(session, actor, "hearing.move", f"hearing:{hearing.id}")
    return hearing


async def cancel(session: AsyncSession, hearing: Hearing, actor: str) -> None:
    """Cancel a hearing: unsent reminders are withdrawn and those reminded are told."""
    if hearing.status == HearingStatus.CANCELLED:
        return
    await alerts.hearing_withdrawn(session, hearing, moved_to=None)
    hearing.status = HearingStatus.CANCELLED
    hearing.updated_at = utcnow()
    await staff.audit(session, actor, "hearing.cancel", f"hearing:{hearing.id}")


async def by_id(session: AsyncSession, hearing_id: int) -> Hearing | None:
    """A hearing, in any status."""
    return await cases_repo.hearing_by_id(session, hearing_id)


async def of_case(session: AsyncSession, case_id: int) -> list[Hearing]:
    """Every hearing of a case, the earliest first."""
    return await cases_repo.hearings(session, case_id)
