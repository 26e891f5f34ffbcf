"""Broadcasts while they go: the list of those waiting and running, the live progress
message, and pause, resume and cancel.

Apart from the /broadcast dialogue (handlers/staff/broadcast_compose.py): these buttons
act on a stored broadcast by its id, from any message and at any time, so they belong to
no dialogue step. The progress message is posted here and kept up to date by the delivery
engine (bot/delivery/monitor.py).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import broadcast_views as bviews
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import BroadcastCb
from bot.services import broadcasts, staff
from bot.services.broadcasts import BroadcastError
from bot.services.identity import Visitor
from db.models import Broadcast, BroadcastStatus
from handlers.common import show
from handlers.filters import BROADCASTERS


async def load(
    callback: CallbackQuery, session: AsyncSession, broadcast_id: int
) -> Broadcast | None:
    """The broadcast a button names, or None after telling the presser the button is stale."""
    broadcast = await broadcasts.by_id(session, broadcast_id)
    if broadcast is None:
        await callback.answer(_("This button is no longer valid."))
    return broadcast


async def post_progress(
    bot: Bot, session: AsyncSession, broadcast: Broadcast, chat_id: int
) -> None:
    """The message that keeps itself up to date (the delivery engine edits it)."""
    assert broadcast.id is not None
    rendered = bviews.progress_message(broadcast.id, await broadcasts.report(session, broadcast))
    sent = await bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)
    broadcast.progress_message_id = sent.message_id


async def control(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    broadcast = await load(callback, session, callback_data.id)
    if broadcast is None or broadcast.id is None or visitor.person is None:
        return
    if callback_data.action == "cancel":
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("⏹ Yes, cancel the rest"),
            callback_data=BroadcastCb(action="cancel-yes", id=broadcast.id),
        )
        kb.button(
            text=_("« Keep sending"), callback_data=BroadcastCb(action="show", id=broadcast.id)
        )
        kb.adjust(1)
        await show(
            callback,
            _("Cancel broadcast #{id}? Nobody who has not received it yet will get it.").format(
                id=broadcast.id
            ),
            kb.as_markup(),
        )
        return
    actor = staff.actor_of(cipher, visitor.person.id)
    action = {
        "pause": broadcasts.pause,
        "resume": broadcasts.resume,
        "cancel-yes": broadcasts.cancel,
    }.get(callback_data.action)
    if action is not None:
        try:
            await action(session, broadcast, actor)
        except BroadcastError:
            await callback.answer(_("This button is no longer valid."))
            return
    report = await broadcasts.report(session, broadcast)
    rendered = bviews.progress_message(broadcast.id, report)
    await show(callback, rendered.text, rendered.markup)


async def listing(callback: CallbackQuery, session: AsyncSession) -> None:
    live = await broadcasts.unfinished(session)
    if not live:
        await callback.answer(_("No broadcast is waiting or running."), show_alert=True)
        return
    lines = [_("<b>Broadcasts waiting and running</b>"), ""]
    kb = InlineKeyboardBuilder()
    for broadcast in live:
        assert broadcast.id is not None
        lines.append(
            _("#{id}: {status}; recipients: {count}; {when}").format(
                id=broadcast.id,
                status=bviews.status_label(broadcast.status),
                count=views.number(broadcast.recipients),
                when=views.moment(broadcast.send_at, "UTC"),
            )
        )
        if broadcast.status == BroadcastStatus.AWAITING:
            kb.button(
                text=_("🔎 Review #{id}").format(id=broadcast.id),
                callback_data=BroadcastCb(action="review", id=broadcast.id),
            )
        kb.button(
            text=_("📊 #{id}").format(id=broadcast.id),
            callback_data=BroadcastCb(action="show", id=broadcast.id),
        )
    # The list is opened from the first screen of /broadcast, and Back leads there again.
    kb.button(text=_("« Back"), callback_data=BroadcastCb(action="new"))
    kb.adjust(1)
    await show(callback, "\n".join(lines), kb.as_markup())


def router() -> Router:
    """Admins and broadcasters only: to anyone else these buttons are stale ones."""
    r = Router(name="staff-broadcast-control")
    r.callback_query.filter(BROADCASTERS)
    r.callback_query.register(listing, BroadcastCb.filter(F.action == "list"))
    actions = {"pause", "resume", "cancel", "cancel-yes", "show"}
    r.callback_query.register(control, BroadcastCb.filter(F.action.in_(actions)))
    return r
