"""/me: what the supporter has done, for their eyes only."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation import keyboards, views
from bot.presentation.callbacks import MenuCb
from bot.services import my_record
from bot.services.identity import Visitor
from handlers.common import show


async def _render(event: Message | CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    record = await my_record.of(session, visitor.person)
    await show(event, views.my_record(record), keyboards.my_record())


async def me_command(message: Message, session: AsyncSession, visitor: Visitor) -> None:
    await _render(message, session, visitor)


async def me_button(callback: CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    await _render(callback, session, visitor)


def router() -> Router:
    r = Router(name="me")
    r.message.register(me_command, Command("me"))
    r.callback_query.register(me_button, MenuCb.filter(F.to == "me"))
    return r
