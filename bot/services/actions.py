"""Urgent actions: a call to act on a case before a deadline (published as a case update
of kind "action"), the supporters who say they did it, and the deadline as editors
type it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases, dates
from db.models import CaseUpdate, Person, UpdateKind
from db.repositories import updates as repo

# Long enough for a campaign, short enough to stay urgent.
MAX_AHEAD = dt.timedelta(days=90)
# An action needs time to be read and acted on.
MIN_AHEAD = dt.timedelta(hours=2)


class DeadlineError(ValueError):
    """A deadline that cannot be taken; `reason` is "format", "soon" or "far"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_deadline(text: str, tz: str, now: dt.datetime) -> dt.datetime:
    """A deadline typed as a date (the end of that day) or a date and a time (12.03.2025,
    12.03.2025 18:00, or ISO), in the zone `tz` (the court's, where the action is aimed);
    returned in UTC."""
    day = dates.parse_day(text)
    local = dt.datetime.combine(day, dt.time(23, 59)) if day else dates.parse_moment(text)
    if local is None:
        raise DeadlineError("format")
    at = local.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)
    if at < now + MIN_AHEAD:
        raise DeadlineError("soon")
    if at > now + MAX_AHEAD:
        raise DeadlineError("far")
    return at


async def latest(session: AsyncSession, case_id: int) -> CaseUpdate | None:
    """The case's newest urgent action, which further information follows up."""
    return await repo.latest_action(session, case_id)


async def mark_done(session: AsyncSession, person: Person, update_id: int) -> bool | None:
    """Record that the person did the urgent action: True the first time, False after;
    None if there is no such action on a case they may see (a forged button)."""
    action = await session.get(CaseUpdate, update_id)
    if action is None or action.kind != UpdateKind.ACTION or person.id is None:
        return None
    if await cases.visible_case(session, action.case_id) is None:
        return None
    return await repo.mark_taken(session, update_id, person.id, cases.today())
