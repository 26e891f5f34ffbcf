""" "⚠️ Report an inaccuracy" under a case card: a supporter tells the editors, in a short
text, what is wrong or out of date. It joins the editors' moderation queue beside the
families' reports, sealed like them; the supporter's identity never reaches the editors.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CaseAction, CaseCb
from bot.services import cases, reports
from bot.services.cases import CardFacts
from bot.services.identity import Visitor
from db.models import ReportKind
from handlers.common import show
from handlers.filters import NOT_COMMAND
from handlers.supporter.cases import render_card


class InaccuracyForm(StatesGroup):
    text = State()  # data: {"case": id}


def _back(case_id: int, label: str, action: CaseAction = "view") -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=label, callback_data=CaseCb(action=action, id=case_id))
    return kb.as_markup()


async def start(
    callback: CallbackQuery,
    callback_data: CaseCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    case = await cases.visible_case(session, callback_data.id)
    if case is None or case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    person = await visitor.ensure()
    assert person.id is not None
    if await reports.over_daily_limit(session, person.id):
        await callback.answer(views.report_limit_text(reports.DAILY_LIMIT), show_alert=True)
        return
    texts = await cases.texts_for(session, case.id)
    name = cases.pick_text(texts, visitor.chain).name
    await state.set_state(InaccuracyForm.text)
    await state.set_data({"case": case.id})
    lines = [
        _("<b>⚠️ Report an inaccuracy</b>"),
        _("About: {name}").format(name=escape(name)),
        "",
        _(
            "What is wrong or out of date on this card? Write it in one message of up to "
            "{limit} characters; a source helps the editors check it."
        ).format(limit=views.number(reports.MAX_INACCURACY)),
        _(
            "Please leave out your own name and contacts: the editors do not need them and "
            "never see who wrote."
        ),
    ]
    await show(callback, "\n".join(lines), _back(case.id, _("✖ Stop"), "wrong-stop"))


async def stop(
    callback: CallbackQuery,
    callback_data: CaseCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    await state.clear()
    if not await render_card(callback, session, visitor, callback_data.id, card_facts=card_facts):
        await show(callback, _("This case is not available."))


async def text_sent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    cipher: IdentityCipher,
) -> None:
    case_id = int((await state.get_data()).get("case", 0))
    person = await visitor.ensure()
    assert person.id is not None
    if await cases.visible_case(session, case_id) is None:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    try:
        await reports.submit(
            session,
            cipher,
            person.id,
            case_id,
            message.text or "",
            None,
            kind=ReportKind.INACCURACY,
        )
    except reports.ReportError as exc:
        if exc.reason == "long":
            await message.answer(
                _(
                    "That is longer than {limit} characters. Please shorten it and send it again."
                ).format(limit=views.number(reports.MAX_INACCURACY))
            )
            return
        await state.clear()
        if exc.reason == "limit":
            await message.answer(views.report_limit_text(reports.DAILY_LIMIT))
        else:
            await message.answer(_("Nothing was sent: the message was empty."))
        return
    await state.clear()
    await message.answer(
        _(
            "Thank you. The editors will check it and correct the card if needed. If they "
            "have a question or an answer for you, it will come here, from the campaign team."
        ),
        reply_markup=_back(case_id, _("« Back to the case")),
    )


async def not_text(message: Message) -> None:
    await message.answer(_("Please describe the inaccuracy in a text message."))


def router() -> Router:
    r = Router(name="inaccuracy")
    r.callback_query.register(start, CaseCb.filter(F.action == "wrong"))
    r.callback_query.register(stop, CaseCb.filter(F.action == "wrong-stop"))
    r.message.register(text_sent, InaccuracyForm.text, F.text, NOT_COMMAND)
    r.message.register(not_text, InaccuracyForm.text, ~F.text)
    return r
