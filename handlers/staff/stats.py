"""/stats for every staff role: counts only, never a person."""

from __future__ import annotations

import asyncio
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
from bot.presentation import views
from bot.presentation.callbacks import StaffCb
from bot.services import stats, stats_chart
from bot.services.identity import Visitor
from handlers.common import show
from handlers.filters import EVERY_ROLE


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
    weeks, bars = await stats.chart_data(session, visitor.chain)
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
    figures = await stats.overview(session, visitor.chain)
    people = figures.people_by_locale
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
        f"  {views.country_label(c)}: {views.number(n)}"
        for c, n in sorted(figures.follows_by_country.items())
    ]
    lines += ["", _("Cases (followers · letters):")]
    lines += [
        f"  {escape(c.name)}: {views.number(c.followers)} · {views.number(c.letters)}"
        for c in figures.cases
    ]
    lines += [
        "",
        _("Alerts in the last 30 days: {sent} delivered, {failed} not delivered.").format(
            sent=views.number(figures.alerts.sent), failed=views.number(figures.alerts.failed)
        ),
        _("Broadcasts in the last 30 days: {sent} delivered, {failed} not delivered.").format(
            sent=views.number(figures.broadcasts.sent),
            failed=views.number(figures.broadcasts.failed),
        ),
    ]
    return "\n".join(lines)


def router() -> Router:
    r = Router(name="staff-stats")
    r.message.filter(EVERY_ROLE)
    r.callback_query.filter(EVERY_ROLE)
    r.message.register(stats_command, Command("stats"))
    r.callback_query.register(stats_button, StaffCb.filter(F.action == "stats"))
    return r
