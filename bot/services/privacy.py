"""Forgetting a person: every row of theirs, and the bytes with it.

The letter counters are anonymous and stay, but only for letters recorded before the
window in which "write to someone who needs it" compares cases (30 days). More recent
ones are taken back out: otherwise "I sent it" and /forget, over and over, would let one
person raise a case's count without end and steer the picker away from it. Nothing of
the person is kept to achieve this; their own rows say what to take back, just before
they are deleted.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommandScopeChat
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.crypto import IdentityCipher
from bot.services import cases, staff
from bot.services.matching import WINDOW
from db.engine import checkpoint
from db.models import Person
from db.repositories import letters, outbox, people


async def erase_from_chat(bot: Bot, chat_id: int, message_ids: list[int]) -> None:
    """Best effort, before the rows go: delete the alerts we sent (Telegram allows it for
    48 hours) and the chat's own command menu, so the chat shows less of us."""
    for start in range(0, len(message_ids), 100):
        with contextlib.suppress(TelegramAPIError):
            await bot.delete_messages(chat_id, message_ids[start : start + 100])
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))


async def forget_here(
    session: AsyncSession,
    cipher: IdentityCipher,
    bot: Bot,
    chat_id: int,
    person: Person | None,
) -> None:
    """/forget from the person's chat: the alerts still deletable there and the chat's
    command menu go first (best effort, while their ids are still known), then every
    row, as `forget` does."""
    if person is not None and person.id is not None:
        await erase_from_chat(bot, chat_id, await outbox.message_ids_of(session, person.id))
    await forget(session, cipher, person)


async def forget(session: AsyncSession, cipher: IdentityCipher, person: Person | None) -> None:
    """Delete everything the bot holds about the person and commit at once.

    Anonymous counters they contributed to stay, except for letters of the last 30 days
    (see the module's docstring). Invitations they made (as staff) that are still
    pending are spent: nobody could revoke them any more. On SQLite secure_delete zeroes
    the freed pages and the WAL is checkpointed and truncated, so no copy lingers on disk.
    """
    if person is None or person.id is None:
        return
    await letters.withdraw(session, person.id, cases.today() - WINDOW)
    await staff.departed(session, cipher, person.id)
    await people.delete_everything(session, person.id)
    await session.commit()
    bind = session.bind
    if isinstance(bind, AsyncEngine):
        await checkpoint(bind)
