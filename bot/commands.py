"""The command menu, registered with Telegram in every language we have."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from bot.i18n import telegram_language_code
from config.settings import SUPPORTED_LOCALES

SUPPORTER_COMMANDS = (
    ("start", __("Start and main menu")),
    ("cases", __("Browse prisoners' cases")),
    ("case", __("Find a case by name")),
    ("mycases", __("Cases you follow")),
    ("follow", __("Follow a case")),
    ("unfollow", __("Stop following a case")),
    ("letter", __("Write a letter")),
    ("check", __("Check a draft letter")),
    ("me", __("What you have done")),
    ("settings", __("Alerts and safety settings")),
    ("language", __("Change language")),
    ("privacy", __("What we store")),
    ("forget", __("Delete all your data")),
    ("panic", __("Delete the bot's messages in this chat now")),
    ("help", __("What the bot can do")),
)


def commands_for(i18n: I18n, locale: str) -> list[BotCommand]:
    # Called at start-up too, outside any update, so the i18n context is set here.
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=cmd, description=str(desc)) for cmd, desc in SUPPORTER_COMMANDS]


async def register(bot: Bot, i18n: I18n) -> None:
    """setMyCommands for the default list and for each language Telegram can key it by."""
    await bot.set_my_commands(commands_for(i18n, i18n.default_locale))
    for locale in SUPPORTED_LOCALES:
        code = telegram_language_code(locale)
        if code is not None:
            await bot.set_my_commands(commands_for(i18n, locale), language_code=code)


async def register_for_chat(bot: Bot, i18n: I18n, chat_id: int, locale: str) -> None:
    """A person who picked a language other than their app's sees the menu in theirs."""
    await bot.set_my_commands(
        commands_for(i18n, locale), scope=BotCommandScopeChat(chat_id=chat_id)
    )
