"""/stats for every staff role: counts only, never a person."""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LANGUAGE_NAMES
from bot.middlewares.identity import Visitor
from bot.presentation import views
from bot.presentation.callbacks import StaffCb
from bot.services import cases, stats_chart
from db.models import StaffRole
from db.repositories import cases as cases_repo
from db.repositories import stats as repo
from db.types import utcnow
from handlers.common import show
from handlers.filters import HasRole

MAX_CASES = 15


async def stats_command(message: Message, session: AsyncSession, visitor: Visitor) -> None:
    await message.answer(await _stats_text(session, visitor))
    await message.answer_photo(await _chart(session, visitor))


async def stats_button(callback: CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    await show(callback, await _stats_text(session, visitor))
    chart = await _chart(session, visitor)
    if isinstance(callback.message, Message):
        await callback.message.answer_photo(chart)
    elif callback.from_user is not None and callback.bot is not None:
        await callback.bot.send_photo(callback.from_user.id, chart)


async def _chart(session: AsyncSession, visitor: Visitor) -> BufferedInputFile:
    """The chart of letters and follows per week and per case: counts and case names only."""
    today = cases.today()
    since = stats_chart.monday_of(today) - dt.timedelta(weeks=stats_chart.WEEKS - 1)
    weeks = stats_chart.week_series(
        await repo.letters_per_week(session, since),
        await repo.follows_per_week(session, since),
        today,
    )
    top = (await repo.per_case(session))[: stats_chart.MAX_CASES]
    texts = await cases_repo.texts(session, [cid for cid, _f, _l in top])
    bars = [
        stats_chart.CaseBar(
            name=cases.pick_text(texts[cid], visitor.chain).name if texts.get(cid) else "?",
            follows=followers,
            letters=letters,
        )
        for cid, followers, letters in top
    ]
    # Formatters bound to the locale now: the drawing runs in a worker thread.
    words = stats_chart.ChartWords(
        title_weeks=_("Letters and follows per week"),
        title_cases=_("Letters and follows per case (top 10)"),
        letters=_("Letters"),
        follows=_("Follows"),
        week_label=partial(format_date, format="d MMM", locale=visitor.locale),
        number=partial(format_decimal, locale=visitor.locale),
    )
    png = await asyncio.to_thread(stats_chart.render, weeks, bars, words)
    return BufferedInputFile(png, "stats.png")


async def _stats_text(session: AsyncSession, visitor: Visitor) -> str:
    people = await repo.people_by_locale(session)
    countries = await repo.follows_by_country(session)
    per_case = await repo.per_case(session)
    since = utcnow() - dt.timedelta(days=30)
    alerts = await repo.deliveries_since(session, since, broadcasts=False)
    broadcasts = await repo.deliveries_since(session, since, broadcasts=True)
    texts = await cases_repo.texts(session, [cid for cid, _f, _l in per_case[:MAX_CASES]])
    lines = [
        _("<b>Statistics</b>"),
        "",
        _("Supporters: {count}").format(count=views.number(sum(people.values()))),
    ]
    lines += [
        f"  {LANGUAGE_NAMES.get(loc, loc)}: {views.number(n)}" for loc, n in sorted(people.items())
    ]
    lines += ["", _("Follows by country:")]
    lines += [
        f"  {views.country_label(c)}: {views.number(n)}" for c, n in sorted(countries.items())
    ]
    lines += ["", _("Cases (followers · letters):")]
    for case_id, followers, letters in per_case[:MAX_CASES]:
        name = cases.pick_text(texts[case_id], visitor.chain).name if texts.get(case_id) else "?"
        lines.append(f"  {escape(name)}: {views.number(followers)} · {views.number(letters)}")
    lines += [
        "",
        _("Alerts in the last 30 days: {sent} delivered, {failed} not delivered.").format(
            sent=views.number(alerts.get(repo.SENT, 0)),
            failed=views.number(alerts.get(repo.FAILED, 0)),
        ),
        _("Broadcasts in the last 30 days: {sent} delivered, {failed} not delivered.").format(
            sent=views.number(broadcasts.get(repo.SENT, 0)),
            failed=views.number(broadcasts.get(repo.FAILED, 0)),
        ),
    ]
    return "\n".join(lines)


def router() -> Router:
    r = Router(name="staff-stats")
    every_role = HasRole(*(role.value for role in StaffRole))
    r.message.register(stats_command, Command("stats"), every_role)
    r.callback_query.register(stats_button, StaffCb.filter(F.action == "stats"), every_role)
    return r
