"""Small helpers shared by routers: showing a screen from a button or a command."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

MAX_ARGUMENT = 100


async def show(
    event: Message | CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    notice: str | None = None,
) -> None:
    """A command answers with a new message; a button edits the message it belongs to.

    A button's query is answered exactly once, with `notice` as its toast if given.
    """
    if isinstance(event, Message):
        if notice:
            await event.answer(notice)
        await event.answer(text, reply_markup=markup)
        return
    message = event.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            # A second press of the same button changes nothing; that is not an error.
            if "not modified" not in exc.message:
                await message.answer(text, reply_markup=markup)
    elif event.from_user is not None and event.bot is not None:
        await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
    await event.answer(notice)
