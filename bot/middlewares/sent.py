"""Remember the messages the bot sends in answer to people, for the panic command."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.types import Message

from bot.crypto import IdentityCipher
from bot.middlewares.db import current_session
from bot.services import panic

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType


class RememberSent(BaseRequestMiddleware):
    """Records (keyed chat index, message id) of every message sent in a private chat
    during an update, in that update's session; the outbox keeps the alerts' own ids."""

    def __init__(self, cipher: IdentityCipher) -> None:
        self.cipher = cipher

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        # What comes back through the chain is the method's result itself (a Message).
        result = await make_request(bot, method)
        session = current_session.get()
        if (
            session is not None
            and isinstance(result, Message)
            and method.__api_method__.startswith("send")
            and result.chat.type == "private"
        ):
            await panic.remember(session, self.cipher.index(result.chat.id), result.message_id)
        return result
