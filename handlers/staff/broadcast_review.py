"""Broadcasts that wait for approval: a second staff member reviews one and approves or
declines it.

A broadcast to everyone, or to more people than the threshold, is stored as "awaiting"
by the /broadcast dialogue (handlers/staff/broadcast_compose.py) and goes nowhere until
someone other than its author approves it here. The reviewer sees the same preview the
author saw, made by `send_preview`.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import broadcast_views as bviews
from bot.presentation import composer_views as cviews
from bot.presentation.callbacks import BroadcastCb
from bot.services import broadcasts, staff
from bot.services.broadcasts import BroadcastError, Draft, Version
from bot.services.identity import Visitor
from config import Settings
from db.models import BroadcastStatus
from handlers.common import show
from handlers.filters import BROADCASTERS
from handlers.staff.broadcast_control import load


async def send_preview(
    bot: Bot,
    chat_id: int,
    versions: dict[str, Version],
    photo: str | None,
    choice: tuple[str, InlineKeyboardMarkup],
) -> None:
    """Each version as its readers will get it, under a line that names its language;
    then, below them where the reader now is, the `choice` to make (text and buttons)."""
    for locale, version in versions.items():
        await bot.send_message(
            chat_id, _("👁 Preview: {language}").format(language=LANGUAGE_NAMES[locale])
        )
        rendered = bviews.message(version, photo)
        if rendered.photo:
            await bot.send_photo(
                chat_id, rendered.photo, caption=rendered.text, reply_markup=rendered.markup
            )
        else:
            await bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)
    text, markup = choice
    await bot.send_message(chat_id, text, reply_markup=markup)


async def review(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    session: AsyncSession,
    visitor: Visitor,
    bot: Bot,
) -> None:
    broadcast = await load(callback, session, callback_data.id)
    if broadcast is None or broadcast.id is None:
        return
    if broadcast.status != BroadcastStatus.AWAITING:
        await callback.answer(_("This broadcast is no longer waiting for approval."))
        return
    person = visitor.person
    if person is None or person.id == broadcast.author_id:
        await callback.answer(
            _("A broadcast needs someone other than its author to approve it."), show_alert=True
        )
        return
    versions = {
        loc: bviews.version_of(v)
        for loc, v in (await broadcasts.versions_of(session, broadcast.id)).items()
    }
    audience = Draft(broadcast.audience, broadcast.audience_value)
    names = await broadcasts.case_names(session, audience, visitor.chain)
    choice = cviews.review(broadcast, names, visitor.timezone)
    await send_preview(bot, callback.from_user.id, versions, broadcast.photo, choice)
    await callback.answer()


async def decide(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    settings: Settings,
) -> None:
    broadcast = await load(callback, session, callback_data.id)
    person = visitor.person
    if broadcast is None or person is None or person.id is None:
        return
    actor = staff.actor_of(cipher, person.id)
    try:
        if callback_data.action == "approve":
            started = await broadcasts.approve(
                session,
                broadcast,
                approver_id=person.id,
                actor=actor,
                paid=settings.paid_broadcasts,
            )
            text = (
                _("Approved. Broadcast #{id} is on its way.")
                if started
                else _("Approved. Broadcast #{id} goes out at its set time.")
            ).format(id=broadcast.id)
        else:
            await broadcasts.reject(session, broadcast, approver_id=person.id, actor=actor)
            text = _("Declined. Broadcast #{id} will not be sent.").format(id=broadcast.id)
    except BroadcastError as exc:
        await callback.answer(
            _("A broadcast needs someone other than its author to approve it.")
            if exc.reason == "own"
            else _("This broadcast is no longer waiting for approval."),
            show_alert=True,
        )
        return
    await show(callback, text)


def router() -> Router:
    """Admins and broadcasters only (the service refuses an author approving their own)."""
    r = Router(name="staff-broadcast-review")
    r.callback_query.filter(BROADCASTERS)
    r.callback_query.register(review, BroadcastCb.filter(F.action == "review"))
    r.callback_query.register(decide, BroadcastCb.filter(F.action.in_({"approve", "reject"})))
    return r
