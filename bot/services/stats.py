"""/stats: the campaign's figures for staff, counts only, never a person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases, stats_chart
from db.models import DeliveryState
from db.repositories import cases as cases_repo
from db.repositories import outbox as outbox_repo
from db.repositories import stats as repo
from db.types import utcnow

MAX_CASES = 15
WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class CaseFigures:
    name: str
    followers: int
    letters: int


@dataclass(frozen=True)
class Delivered:
    sent: int
    failed: int


@dataclass(frozen=True)
class Overview:
    """Supporters by language, follows by country, the most followed cases, and what the
    outbox delivered in the last 30 days."""

    people_by_locale: dict[str, int]
    follows_by_country: dict[str, int]
    cases: list[CaseFigures]
    alerts: Delivered
    broadcasts: Delivered


async def _named(
    session: AsyncSession, rows: Sequence[tuple[int, int, int]], chain: Sequence[str]
) -> list[CaseFigures]:
    texts = await cases_repo.texts(session, [case_id for case_id, _f, _l in rows])
    return [
        CaseFigures(
            name=cases.pick_text(texts[case_id], chain).name if texts.get(case_id) else "?",
            followers=followers,
            letters=letters,
        )
        for case_id, followers, letters in rows
    ]


async def overview(
    session: AsyncSession, chain: Sequence[str], now: dt.datetime | None = None
) -> Overview:
    """The figures /stats shows, case names in the reader's language."""
    since = (now or utcnow()) - WINDOW
    alerts = await repo.deliveries_since(session, since, broadcasts=False)
    broadcasts = await repo.deliveries_since(session, since, broadcasts=True)
    return Overview(
        people_by_locale=await repo.people_by_locale(session),
        follows_by_country=await repo.follows_by_country(session),
        cases=await _named(session, (await repo.per_case(session))[:MAX_CASES], chain),
        alerts=Delivered(alerts.get(repo.SENT, 0), alerts.get(repo.FAILED, 0)),
        broadcasts=Delivered(broadcasts.get(repo.SENT, 0), broadcasts.get(repo.FAILED, 0)),
    )


async def chart_data(
    session: AsyncSession, chain: Sequence[str]
) -> tuple[list[stats_chart.WeekPoint], list[stats_chart.CaseBar]]:
    """Letters and follows per week (the last WEEKS weeks) and per case (the top ones)."""
    today = cases.today()
    since = stats_chart.monday_of(today) - dt.timedelta(weeks=stats_chart.WEEKS - 1)
    weeks = stats_chart.week_series(
        await repo.letters_per_week(session, since),
        await repo.follows_per_week(session, since),
        today,
    )
    top = await _named(session, (await repo.per_case(session))[: stats_chart.MAX_CASES], chain)
    bars = [stats_chart.CaseBar(name=c.name, follows=c.followers, letters=c.letters) for c in top]
    return weeks, bars


# Deliveries still to go: what an operator alerts on when it grows. Sent, failed and
# skipped rows are history, and counting them would read the whole table every scrape.
WAITING = (DeliveryState.PENDING, DeliveryState.HELD, DeliveryState.PAUSED)


async def outbox_depth(session: AsyncSession) -> dict[str, int]:
    """Deliveries waiting in the outbox, by state (every state in WAITING, zero included)."""
    counts = await outbox_repo.depth(session, WAITING)
    return {state.value: counts.get(state.value, 0) for state in WAITING}
