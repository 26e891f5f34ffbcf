"""/start, /help and /language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.crypto import IdentityCipher
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import keyboards, views
from bot.presentation.callbacks import LangCb, MenuCb
from bot.services import identity, preferences
from bot.services.cases import CardFacts
from bot.services.identity import Visitor
from handlers.common import show
from handlers.supporter.cases import open_case_by_slug


async def start(
    message: Message,
    command: CommandObject,
    visitor: Visitor,
    session: AsyncSession,
    card_facts: CardFacts,
) -> None:
    returning = await identity.greet(session, await visitor.ensure())
    link = command.args or ""
    if link.startswith("case-") and await open_case_by_slug(
        message, link.removeprefix("case-"), visitor, session, card_facts=card_facts
    ):
        return
    await message.answer(
        views.welcome(returning=returning, family=visitor.family),
        reply_markup=keyboards.main_menu(family=visitor.family),
    )


async def here(callback: CallbackQuery) -> None:
    """A page indicator: answered, and nothing changes."""
    await callback.answer()


async def menu(callback: CallbackQuery, visitor: Visitor) -> None:
    await show(
        callback,
        views.welcome(returning=None, family=visitor.family),
        keyboards.main_menu(family=visitor.family),
    )


def _help(visitor: Visitor) -> str:
    return views.help_text(role=visitor.role, family=visitor.family)


async def help_command(message: Message, visitor: Visitor) -> None:
    await message.answer(_help(visitor), reply_markup=keyboards.back_to_menu())


async def help_button(callback: CallbackQuery, visitor: Visitor) -> None:
    await show(callback, _help(visitor), keyboards.back_to_menu())


def _language_prompt() -> str:
    return _("Choose your language:")


async def language_command(message: Message, visitor: Visitor) -> None:
    await message.answer(_language_prompt(), reply_markup=keyboards.languages(visitor.locale))


async def language_button(callback: CallbackQuery, visitor: Visitor) -> None:
    await show(callback, _language_prompt(), keyboards.languages(visitor.locale))


async def choose_language(
    callback: CallbackQuery,
    callback_data: LangCb,
    visitor: Visitor,
    session: AsyncSession,
    i18n: I18n,
    cipher: IdentityCipher,
) -> None:
    person = await visitor.ensure()
    if not await preferences.set_locale(session, person, callback_data.locale):
        await callback.answer(_("This button is no longer valid."))
        return
    visitor.locale = callback_data.locale
    if callback.bot is not None:
        await commands.refresh_for(callback.bot, i18n, session, cipher, person)
    with i18n.use_locale(callback_data.locale):
        text = _("Language changed to {language}.").format(
            language=LANGUAGE_NAMES[callback_data.locale]
        )
        await show(
            callback,
            f"{text}\n\n{views.welcome(returning=None, family=visitor.family)}",
            keyboards.main_menu(family=visitor.family),
        )


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="start")
    r.message.register(start, CommandStart())
    r.callback_query.register(menu, MenuCb.filter(F.to == "start"))
    r.callback_query.register(here, MenuCb.filter(F.to == "here"))
    r.message.register(help_command, Command("help"))
    r.callback_query.register(help_button, MenuCb.filter(F.to == "help"))
    r.message.register(language_command, Command("language"))
    r.callback_query.register(language_button, MenuCb.filter(F.to == "language"))
    r.callback_query.register(choose_language, LangCb.filter())
    return r
