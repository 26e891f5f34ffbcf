"""What no other router took: unknown commands, stickers and media, stale buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _


async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know this command. Send /help to see what I can do."))


async def not_text(message: Message) -> None:
    await message.answer(_("I can only read text. Send a name to search, or /help."))


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is no longer valid."))


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="fallback")
    r.message.register(unknown_command, F.text.startswith("/"))
    r.message.register(not_text)
    r.callback_query.register(stale_button)
    return r
