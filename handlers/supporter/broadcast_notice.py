"""A reader in discreet mode opens a broadcast from the neutral notice they got instead.

A text broadcast replaces the notice in place, so the notice's own end (the reader's
"delete alerts after N hours") applies to it. A photo cannot replace a text message (nor
can anything replace a notice Telegram no longer lets the bot edit): it comes as a new
message, given the same end, and the notice loses its button.
"""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import broadcast_views
from bot.presentation.callbacks import ShowBroadcastCb
from bot.services import broadcasts, panic
from bot.services.identity import Visitor


async def show_broadcast(
    callback: CallbackQuery,
    callback_data: ShowBroadcastCb,
    session: AsyncSession,
    visitor: Visitor,
    cipher: IdentityCipher,
    bot: Bot,
) -> None:
    person = visitor.person
    found = None
    if person is not None and person.id is not None:
        found = await broadcasts.for_reader(session, callback_data.id, person.id)
    if person is None or found is None:
        await callback.answer(
            _("This message is no longer available: it was withdrawn or is too old."),
            show_alert=True,
        )
        return
    broadcast, versions = found
    version = broadcast_views.version_of(broadcasts.pick_version(versions, visitor.chain))
    rendered = broadcast_views.message(version, broadcast.photo)
    notice = callback.message if isinstance(callback.message, Message) else None
    if rendered.photo is None and notice is not None:
        await notice.edit_text(rendered.text, reply_markup=rendered.markup)
        await callback.answer()
        return
    # A photo, or a notice too old to be edited: a message of its own.
    chat_id = callback.from_user.id
    if rendered.photo is not None:
        shown = await bot.send_photo(
            chat_id,
            rendered.photo,
            caption=rendered.text,
            reply_markup=rendered.markup,
            protect_content=person.protect_content,
        )
    else:
        shown = await bot.send_message(
            chat_id,
            rendered.text,
            reply_markup=rendered.markup,
            protect_content=person.protect_content,
        )
    if person.autodelete_hours:
        await panic.remember(
            session,
            cipher.index(chat_id),
            shown.message_id,
            lifetime=dt.timedelta(hours=person.autodelete_hours),
        )
    if notice is not None:
        await notice.edit_reply_markup(reply_markup=None)
    await callback.answer()


def router() -> Router:
    r = Router(name="broadcast-notice")
    r.callback_query.register(show_broadcast, ShowBroadcastCb.filter())
    return r
