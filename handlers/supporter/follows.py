"""/follow and /unfollow, by command and by button."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation import keyboards, views
from bot.presentation.callbacks import CaseCb
from bot.services import follows
from bot.services.cases import CardFacts
from bot.services.follows import FollowResult
from bot.services.identity import Visitor
from handlers.supporter.cases import render_card, resolve_one


def _feedback(result: FollowResult) -> str:
    return {
        FollowResult.FOLLOWED: _("⭐ You now follow this case. You will hear about its news."),
        FollowResult.ALREADY: _("You already follow this case."),
        FollowResult.UNFOLLOWED: _("You no longer follow this case."),
        FollowResult.NOT_FOLLOWING: _("You were not following this case."),
        FollowResult.NO_CASE: _("This case is not available."),
    }[result]


async def _zone_note(
    session: AsyncSession, visitor: Visitor, result: FollowResult, case_id: int
) -> str | None:
    """After a first follow, the time zone it set for the reader, to tell them."""
    if result is not FollowResult.FOLLOWED or visitor.person is None:
        return None
    zone = await follows.adopt_zone(session, visitor.person, case_id)
    if zone is None:
        return None
    return views.zone_adopted(zone)


async def _resolve(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> int | None:
    """The one case a command names, or None after telling the person what went wrong."""
    if not command.args:
        await message.answer(
            _("Add a name after the command, for example: /{command} Tadzhimuratov").format(
                command=command.command
            )
        )
        return None
    return await resolve_one(message, session, visitor, command.args, card_facts)


async def follow_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    case_id = await _resolve(message, command, session, visitor, card_facts)
    if case_id is not None:
        result = await follows.follow(session, await visitor.ensure(), case_id)
        zone = await _zone_note(session, visitor, result, case_id)
        # The card's counts come partly from memory, cleared when this commits.
        await session.commit()
        await render_card(
            message, session, visitor, case_id, _feedback(result), card_facts=card_facts
        )
        if zone is not None:
            await message.answer(zone, reply_markup=keyboards.zone_confirm())


async def unfollow_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    case_id = await _resolve(message, command, session, visitor, card_facts)
    if case_id is not None:
        result = await follows.unfollow(session, visitor.person, case_id)
        await message.answer(_feedback(result))


async def follow_button(
    callback: CallbackQuery,
    callback_data: CaseCb,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    zone = None
    if callback_data.action == "follow":
        result = await follows.follow(session, await visitor.ensure(), callback_data.id)
        zone = await _zone_note(session, visitor, result, callback_data.id)
    else:
        result = await follows.unfollow(session, visitor.person, callback_data.id)
    if result is FollowResult.NO_CASE:
        await callback.answer(_feedback(result), show_alert=True)
        return
    # The card's counts come partly from memory, cleared when this commits.
    await session.commit()
    await render_card(
        callback, session, visitor, callback_data.id, _feedback(result), card_facts=card_facts
    )
    if zone is not None and isinstance(callback.message, Message):
        # A message, not the toast: a toast holds 200 characters and vanishes.
        await callback.message.answer(zone, reply_markup=keyboards.zone_confirm())


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="follows")
    r.message.register(follow_command, Command("follow"))
    r.message.register(unfollow_command, Command("unfollow"))
    r.callback_query.register(follow_button, CaseCb.filter(F.action.in_({"follow", "unfollow"})))
    return r
