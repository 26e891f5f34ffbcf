"""The first step of the staff dialogues that work on one case: ask for it, find it."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation import views
from bot.services import case_editing, cases
from bot.services.identity import Visitor
from handlers.common import MAX_ARGUMENT, show


def question() -> str:
    return _("Which case? Send the person's name or the case's slug.")


async def ask(
    event: Message | CallbackQuery, state: FSMContext, step: State, markup: InlineKeyboardMarkup
) -> None:
    """Start afresh at the dialogue's case step."""
    await state.clear()
    await state.set_state(step)
    await show(event, question(), markup)


async def find_one(
    message: Message,
    query: str,
    state: FSMContext,
    step: State,
    markup: InlineKeyboardMarkup,
    session: AsyncSession,
    visitor: Visitor,
    *,
    hidden_too: bool = False,
) -> int | None:
    """The id of the one case `query` names; otherwise say how many matched, ask for a
    more exact name and stay at the case step."""
    query = query[:MAX_ARGUMENT]
    if hidden_too:
        ids = [m.id for m in await case_editing.find_any(session, query, visitor.chain)]
    else:
        ids = [s.id for s in await cases.find(session, query, visitor.chain)]
    if len(ids) == 1:
        return ids[0]
    await state.set_state(step)
    await message.answer(
        views.search_header(cases.normalise_query(query), len(ids))
        + "\n"
        + _("Send a more exact name or the case's slug."),
        reply_markup=markup,
    )
    return None
