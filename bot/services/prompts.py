"""Birthday and release prompts: a week before a prisoner's birthday their followers
(and supporters who asked for every birthday) are invited to send a card; a week before
an expected release, followers are invited to write a welcome-home note.

Each prompt arrives at 10:00 in the reader's own time zone. The planner writes them to
the outbox up to two days ahead, holding each until its moment, and runs every hour;
the dedupe keys make every run after the first change nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import enqueue
from bot.delivery.specs import BirthdaySpec, ReleaseSoonSpec
from bot.services.cases import IN_CUSTODY
from db.models import Case
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo

LOCAL_HOUR = 10
AHEAD = dt.timedelta(days=7)
# Planned this far ahead; a prompt missed while the bot was down still goes this late.
HORIZON = dt.timedelta(days=2)
LOOKBACK = dt.timedelta(hours=12)


def birthday_in(year: int, born: dt.date) -> dt.date:
    """The birthday in a given year; 29 February falls on the 28th in other years."""
    try:
        return born.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def local_moment(day: dt.date, tz: str) -> dt.datetime:
    """LOCAL_HOUR on `day` in the zone `tz`, in UTC."""
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = dt.datetime.combine(day, dt.time(LOCAL_HOUR), tzinfo=zone)
    return local.astimezone(dt.UTC)


async def _plan_one(
    session: AsyncSession,
    case: Case,
    kind: Literal["birthday", "release_soon"],
    day: dt.date,
    readers: list[tuple[int, str]],
    now: dt.datetime,
) -> int:
    assert case.id is not None
    by_moment: dict[dt.datetime, list[int]] = defaultdict(list)
    for person_id, tz in readers:
        moment = local_moment(day - AHEAD, tz)
        if now - LOOKBACK <= moment <= now + HORIZON:
            by_moment[moment].append(person_id)
    # Not gathered into digests (their `digest` is False): a card has to be posted in time.
    spec: BirthdaySpec | ReleaseSoonSpec = (
        BirthdaySpec(case_id=case.id, day=day)
        if kind == "birthday"
        else ReleaseSoonSpec(case_id=case.id, day=day)
    )
    added = 0
    for moment, people in by_moment.items():
        added += await enqueue(
            session,
            person_ids=people,
            spec=spec,
            batch=f"case:{case.id}:{kind}",
            key=f"{kind}:{case.id}:{day.isoformat()}",
            not_before=moment,
        )
    return added


def _near(day: dt.date, now: dt.datetime) -> bool:
    # Time zones span a day either way of UTC; the per-reader check is exact.
    prompt = day - AHEAD
    return now.date() - dt.timedelta(days=2) <= prompt <= now.date() + dt.timedelta(days=3)


async def plan(session: AsyncSession, now: dt.datetime) -> int:
    """Write the birthday and release prompts whose moment is near; returns how many."""
    added = 0
    for case in await cases_repo.with_letter_dates(session, IN_CUSTODY):
        if case.id is None:
            continue
        if case.born_on is not None:
            for year in (now.year, now.year + 1):
                day = birthday_in(year, case.born_on)
                if _near(day, now):
                    readers = await follows_repo.follower_zones(
                        session, case.id, with_opted_in=True
                    )
                    added += await _plan_one(session, case, "birthday", day, readers, now)
        release = case.release_expected_on
        if release is not None and _near(release, now):
            readers = await follows_repo.follower_zones(session, case.id)
            added += await _plan_one(session, case, "release_soon", release, readers, now)
    return added
