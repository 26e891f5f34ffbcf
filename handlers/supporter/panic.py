"""/panic and the person's own panic word: clear the chat of the bot's messages at once."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.middlewares import sent as sent_log
from bot.middlewares.sent import SentBatch
from bot.presentation import keyboards
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import SetCb
from bot.services import panic
from bot.services.identity import Visitor
from config import Settings
from handlers.common import show
from handlers.filters import NOT_COMMAND

BATCH = 100  # deleteMessages takes at most 100 ids


class PanicForm(StatesGroup):
    word = State()


async def clear_chat(
    message: Message,
    session: AsyncSession,
    visitor: Visitor,
    cipher: IdentityCipher,
    bot: Bot,
    settings: Settings,
    sent_batch: SentBatch,
) -> None:
    """Delete every message here that Telegram still lets the bot delete (the bot's and
    the person's own, of the last 48 hours); then a note that deletes itself and offers
    /forget."""
    chat_index = cipher.index(message.chat.id)
    # Ids other updates gathered a moment ago go to the database first.
    await sent_batch.flush_after(session)
    ids = await panic.take_deletable(session, chat_index, visitor.person, settings.delivery_lease)
    # This update's own messages (the /panic, say) go now and need no remembering.
    sent_log.discard(chat_index)
    ids.append(message.message_id)
    for start in range(0, len(ids), BATCH):
        try:
            await bot.delete_messages(message.chat.id, ids[start : start + BATCH])
        except TelegramAPIError:
            # Some were too old or gone already: deleting the rest still matters.
            for message_id in ids[start : start + BATCH]:
                try:
                    await bot.delete_message(message.chat.id, message_id)
                except TelegramAPIError:
                    continue
    notice = await message.answer(
        _(
            "🧹 Done: the messages in this chat are deleted, yours and the bot's. To delete "
            "everything the bot knows about you as well, send /forget. This note disappears "
            "in two minutes."
        )
    )
    await panic.remember(session, chat_index, notice.message_id, lifetime=panic.NOTICE_LIFETIME)


async def panic_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    cipher: IdentityCipher,
    bot: Bot,
    settings: Settings,
    sent_batch: SentBatch,
) -> None:
    await state.clear()
    await clear_chat(message, session, visitor, cipher, bot, settings, sent_batch)


class PanicWordMiddleware(BaseMiddleware):
    """Remembers each message a person sends (their own words can give them away too), and
    makes their panic word work anywhere, even in the middle of a dialogue."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        visitor: Visitor | None = data.get("visitor")
        cipher: IdentityCipher | None = data.get("cipher")
        if (
            isinstance(event, Message)
            and visitor is not None
            and cipher is not None
            and panic.is_panic_word(cipher, visitor.person_as_read, event.text)
        ):
            state: FSMContext | None = data.get("state")
            if state is not None:
                await state.clear()
            await clear_chat(
                event,
                data["session"],
                visitor,
                cipher,
                data["bot"],
                data["settings"],
                data["sent_batch"],
            )
            return None
        if isinstance(event, Message) and visitor is not None:
            # The identity middleware serves private chats only: the chat is the sender's.
            sent_log.note(visitor.index, event.message_id)
        return await handler(event, data)


def _word_menu(*, has_word: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✏️ Change the word") if has_word else _("✏️ Set a word"),
        callback_data=SetCb(field="panic", value="set"),
    )
    if has_word:
        kb.button(text=_("✖ Remove the word"), callback_data=SetCb(field="panic", value="off"))
    keyboards.back_to(kb, "safety")
    kb.adjust(1)
    return kb.as_markup()


def _word_text(*, has_word: bool) -> str:
    status = _("A panic word is set.") if has_word else _("No panic word is set.")
    return "\n\n".join(
        [
            _("<b>🆘 Panic</b>"),
            _(
                "Send /panic, or a word of your own that nobody would connect with this bot, "
                "and the bot at once deletes the messages of this chat that Telegram still "
                "lets it delete: yours and its own, of the last 48 hours. Only a keyed hash "
                "of your word is stored, never the word."
            ),
            status,
        ]
    )


async def word_menu(
    callback: CallbackQuery,
    callback_data: SetCb,
    state: FSMContext,
    visitor: Visitor,
    session: AsyncSession,
    cipher: IdentityCipher,
) -> None:
    person = await visitor.ensure()
    if callback_data.value == "set":
        await state.set_state(PanicForm.word)
        await show(
            callback,
            _(
                "Send the word or short phrase (3 to 50 characters). Your message with it "
                "will be deleted at once."
            ),
        )
        return
    if callback_data.value == "off":
        await panic.set_word(session, cipher, person, None)
        await show(callback, _word_text(has_word=False), _word_menu(has_word=False), _("Saved."))
        return
    await show(
        callback,
        _word_text(has_word=panic.has_word(person)),
        _word_menu(has_word=panic.has_word(person)),
    )


async def word_sent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    cipher: IdentityCipher,
    bot: Bot,
) -> None:
    text = message.text or ""
    if not panic.valid_word(text):
        await message.answer(_("Please send 3 to 50 characters, not a command."))
        return
    person = await visitor.ensure()
    await state.clear()
    await panic.set_word(session, cipher, person, text)
    # Too late or already gone: the word is saved all the same.
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_message(message.chat.id, message.message_id)
    await message.answer(_word_text(has_word=True), reply_markup=_word_menu(has_word=True))


def router() -> Router:
    """/panic and the panic-word settings; the word itself is caught by PanicWordMiddleware,
    which the dispatcher runs before any router."""
    r = Router(name="panic")
    r.message.register(panic_command, Command("panic"))
    r.message.register(word_sent, PanicForm.word, F.text, NOT_COMMAND)
    r.callback_query.register(word_menu, SetCb.filter(F.field == "panic"))
    return r
