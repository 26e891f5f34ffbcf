"""/privacy and /forget."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.middlewares.sent import SentBatch
from bot.presentation import keyboards, views
from bot.presentation.callbacks import ForgetCb, MenuCb
from bot.services import privacy
from bot.services.identity import Visitor
from handlers.common import show


def _forget_question() -> str:
    return _(
        "<b>Delete everything about you?</b>\n\n"
        "This removes your settings, the cases you follow and your recorded letters, and "
        "you will receive no more alerts. Anonymous counters stay. This cannot be undone."
    )


async def privacy_command(message: Message) -> None:
    await message.answer(views.privacy_text(), reply_markup=keyboards.privacy())


async def privacy_button(callback: CallbackQuery) -> None:
    await show(callback, views.privacy_text(), keyboards.privacy())


async def forget_command(message: Message) -> None:
    await message.answer(_forget_question(), reply_markup=keyboards.forget_confirm())


async def forget_button(callback: CallbackQuery) -> None:
    await show(callback, _forget_question(), keyboards.forget_confirm())


async def forget_answer(
    callback: CallbackQuery,
    callback_data: ForgetCb,
    session: AsyncSession,
    visitor: Visitor,
    state: FSMContext,
    bot: Bot,
    cipher: IdentityCipher,
    sent_batch: SentBatch,
) -> None:
    if not callback_data.confirm:
        await show(callback, _("Nothing was deleted."), keyboards.back_to_menu())
        return
    # A dialogue's step and what was typed into it (a draft, a report) go too, wherever
    # the dialogue state is kept (in Redis it would outlive the rows).
    await state.clear()
    # Ids of this chat still on their way to the database would outlive its rows: they
    # land before the delete.
    await sent_batch.flush_after(session)
    await privacy.forget_here(session, cipher, bot, callback.from_user.id, visitor.person)
    visitor.person = None
    await show(
        callback,
        _(
            "Done. Everything we knew about you is deleted. You can also delete this chat. "
            "If you come back with /start, you will begin anew."
        ),
    )


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="privacy")
    r.message.register(privacy_command, Command("privacy"))
    r.callback_query.register(privacy_button, MenuCb.filter(F.to == "privacy"))
    r.message.register(forget_command, Command("forget"))
    r.callback_query.register(forget_button, MenuCb.filter(F.to == "forget"))
    r.callback_query.register(forget_answer, ForgetCb.filter())
    return r
