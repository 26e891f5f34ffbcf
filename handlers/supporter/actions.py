""" "✅ I did it" under an urgent action: counted once, so the reminder spares the person
and the further information reaches them."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation.alert_views import action_buttons
from bot.presentation.callbacks import ActionCb
from bot.services import actions, updates
from bot.services.cases import CardFacts
from bot.services.identity import Visitor
from handlers.supporter.cases import render_card


async def did_it(
    callback: CallbackQuery,
    callback_data: ActionCb,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    person = await visitor.ensure()
    outcome = await actions.mark_done(session, person, callback_data.id)
    if outcome is None:
        await callback.answer(_("This button is no longer valid."))
        return
    thanks = (
        _("Thank you! When there is news of this action, you will hear it here.")
        if outcome
        else _("You have already marked it done. Thank you!")
    )
    action = await updates.by_id(session, callback_data.id)
    if callback_data.card and action is not None:
        # Pressed on the case card: the card shows it done, the thanks come as a toast.
        await render_card(callback, session, visitor, action.case_id, thanks, card_facts=card_facts)
        return
    await callback.answer(thanks, show_alert=outcome)
    if outcome and action is not None and isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=action_buttons(callback_data.id, action.case_id, done=True)
        )


def router() -> Router:
    r = Router(name="actions")
    r.callback_query.register(did_it, ActionCb.filter())
    return r
