"""A relative joins a case: the invitation link (/start fam-CODE) or /join CODE."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.services import families
from bot.services.identity import Visitor
from db.models import Case, Person


def not_valid() -> str:
    """The one answer for a wrong, used or expired code, and for a sender refused for
    trying too often: nothing to learn by guessing."""
    minutes = int(families.JOIN_WINDOW.total_seconds() // 60)
    return ngettext(
        "This invitation does not work. It may be mistyped, used already or expired: please "
        "ask the person who gave it to you for a new one. After several tries, wait "
        "{minutes} minute before trying again.",
        "This invitation does not work. It may be mistyped, used already or expired: please "
        "ask the person who gave it to you for a new one. After several tries, wait "
        "{minutes} minutes before trying again.",
        minutes,
    ).format(minutes=views.number(minutes))


def joined(name: str, person: Person) -> str:
    """What a relative is told once they are in: what comes, who can see them, how to
    change or leave it."""
    hours = person.autodelete_hours or families.RELATIVE_AUTODELETE_HOURS
    return "\n\n".join(
        [
            _("<b>You are now connected to the case of {name}.</b>").format(name=escape(name)),
            _(
                "From now on you will receive every update on this case, including news "
                "meant for the family only."
            ),
            _("Other supporters can never see who the family members are."),
            ngettext(
                "To keep you safer, the bot's messages to you are now discreet (no name in "
                "the notification), protected from forwarding and saving, and deleted "
                "{hours} hour after they arrive.",
                "To keep you safer, the bot's messages to you are now discreet (no name in "
                "the notification), protected from forwarding and saving, and deleted "
                "{hours} hours after they arrive.",
                hours,
            ).format(hours=views.number(hours)),
            _(
                "You can change this in /settings. To leave and delete everything the bot "
                "knows about you, send /forget."
            ),
        ]
    )


async def _join(
    message: Message,
    code: str,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    i18n: I18n,
) -> None:
    async def attempt() -> Case | None:
        return await families.redeem(session, cipher, code, visitor.ensure)

    # Only private chats are served, so the chat's id is the sender's.
    case = await families.limited(session, cipher, message.chat.id, attempt)
    if case is None or visitor.person is None:
        await message.answer(not_valid())
        return
    name = await families.case_name(session, case, visitor.chain)
    # It names the prisoner in a relative's chat: protected from the start, like what follows.
    await message.answer(joined(name, visitor.person), protect_content=True)
    if message.bot is not None:
        # /report is in their menu from now on.
        await commands.refresh_for(message.bot, i18n, session, cipher, visitor.person)


async def start_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    i18n: I18n,
) -> None:
    await _join(message, families.parse_code(command.args or ""), session, cipher, visitor, i18n)


async def join_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    i18n: I18n,
) -> None:
    if not (command.args or "").strip():
        await message.answer(_("Send /join followed by the invitation code you were given."))
        return
    await _join(message, families.parse_code(command.args or ""), session, cipher, visitor, i18n)


def router() -> Router:
    """Open to everyone: the code is the only key, and guessing is limited."""
    r = Router(name="family-join")
    r.message.register(
        start_link, CommandStart(deep_link=True, magic=F.args.startswith(families.INVITE_PREFIX))
    )
    r.message.register(join_command, Command("join"))
    return r
