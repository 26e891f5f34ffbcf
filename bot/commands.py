"""The command menu and the bot's description, registered with Telegram in every language
we have."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import telegram_language_code
from bot.services import reports, staff
from config.settings import SUPPORTED_LOCALES
from db.models import Person, StaffRole

log = logging.getLogger(__name__)

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
    ("panic", __("Delete the bot's messages now")),
    ("help", __("What the bot can do")),
)


_EDITORS = frozenset({StaffRole.ADMIN, StaffRole.EDITOR})
_BROADCASTERS = frozenset({StaffRole.ADMIN, StaffRole.BROADCASTER})
_EVERY_ROLE = frozenset(StaffRole)

# Each staff command and the roles whose menu shows it (the handlers check the role
# again: the menu only helps people find what they may use).
STAFF_COMMANDS = (
    ("admin", __("Staff menu"), _EVERY_ROLE),
    ("newcase", __("Add a case"), _EDITORS),
    ("editcase", __("Edit a case"), _EDITORS),
    ("hearing", __("Add or move a hearing"), _EDITORS),
    ("update", __("Publish news of a case"), _EDITORS),
    ("reports", __("Reports from families"), _EDITORS),
    ("family", __("Invite a relative"), _EDITORS),
    ("invites", __("Pending invitations"), _EDITORS),
    ("checkwords", __("Words the letter check flags"), _EDITORS),
    ("broadcast", __("Send a broadcast"), _BROADCASTERS),
    ("stats", __("Statistics"), _EVERY_ROLE),
    ("staff", __("Staff and their roles"), frozenset({StaffRole.ADMIN})),
    ("invite", __("Invite a staff member"), frozenset({StaffRole.ADMIN})),
    ("audit", __("Audit log"), frozenset({StaffRole.ADMIN})),
)
FAMILY_COMMANDS = (("report", __("Send news of your relative")),)


def commands_for(
    i18n: I18n, locale: str, *, role: str | None = None, family: bool = False
) -> list[BotCommand]:
    """The menu of a person with this role (if any), a relative's if `family`: theirs
    first, then a supporter's."""
    chosen = [(cmd, desc) for cmd, desc, roles in STAFF_COMMANDS if role in roles]
    if family:
        chosen.extend(FAMILY_COMMANDS)
    chosen.extend(SUPPORTER_COMMANDS)
    # Called at start-up too, outside any update, so the i18n context is set here.
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=cmd, description=str(desc)) for cmd, desc in chosen]


# What an empty chat with the bot shows above its START button, and its profile line.
DESCRIPTION = __(
    "Umid means “hope”. Follow the cases of prisoners of conscience in Central Asia, write "
    "them letters and cards, and hear about hearings and releases. We keep as little about "
    "you as we can, and /forget deletes it."
)
SHORT_DESCRIPTION = __("Letters and news for prisoners of conscience in Central Asia.")


async def register(bot: Bot, i18n: I18n) -> None:
    """setMyCommands, setMyDescription and setMyShortDescription for the default language
    and for each language Telegram can key them by."""
    await _register_in(bot, i18n, i18n.default_locale, None)
    for locale in SUPPORTED_LOCALES:
        code = telegram_language_code(locale)
        if code is not None:
            await _register_in(bot, i18n, locale, code)


async def _register_in(bot: Bot, i18n: I18n, locale: str, code: str | None) -> None:
    await bot.set_my_commands(commands_for(i18n, locale), language_code=code)
    with i18n.context(), i18n.use_locale(locale):
        description, short = str(DESCRIPTION), str(SHORT_DESCRIPTION)
    await bot.set_my_description(description, language_code=code)
    await bot.set_my_short_description(short, language_code=code)


async def register_for_chat(
    bot: Bot,
    i18n: I18n,
    chat_id: int,
    locale: str,
    *,
    role: str | None = None,
    family: bool = False,
) -> None:
    """The menu of one chat: in the language the person chose, with what their role and
    their family link let them use. Called when any of these changes; /forget removes it."""
    await bot.set_my_commands(
        commands_for(i18n, locale, role=role, family=family),
        scope=BotCommandScopeChat(chat_id=chat_id),
    )


async def refresh_for(
    bot: Bot, i18n: I18n, session: AsyncSession, cipher: IdentityCipher, person: Person
) -> None:
    """Set a person's chat menu to what their role and family link allow now: after a
    role is granted or revoked, a relative joins or is unlinked, or the language changes."""
    if person.id is None:
        return
    role = await staff.role_of(session, person.id)
    family = await reports.may_report(session, person.id)
    try:
        await register_for_chat(
            bot, i18n, cipher.decrypt_id(person.tg_cipher), person.locale, role=role, family=family
        )
    except TelegramAPIError:
        # They blocked the bot or deleted the chat: their next /start finds the menu.
        log.info("command menu not set: the chat is not reachable")
