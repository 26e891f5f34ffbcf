"""/stats for every staff role: counts only, never a person."""

from __future__ import annotations

import datetime as dt
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LANGUAGE_NAMES
from bot.middlewares.identity import Visitor
from bot.services import cases
from db.models import StaffRole
from db.repositories import cases as cases_repo
from db.repositories import stats as repo
from db.types import utcnow
from handlers import views
from handlers.callbacks import StaffCb
from handlers.common import show
from handlers.filters import HasRole

MAX_CASES = 15


async def stats_command(message: Message, session: AsyncSession, visitor: Visitor) -> None:
    await message.answer(await _stats_text(session, visitor))


async def stats_button(callback: CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    await show(callback, await _stats_text(session, visitor))


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
