"""Who is writing, in which language: the Visitor (bot/services/identity.py) of each update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.crypto import IdentityCipher
from bot.services import identity
from bot.services.identity import Visitor
from bot.services.known_people import KnownPeople
from config import Settings


class IdentityMiddleware(BaseMiddleware):
    """Only private chats are served: a group could expose who follows whom."""

    def __init__(
        self, cipher: IdentityCipher, settings: Settings, known: KnownPeople | None = None
    ) -> None:
        self.cipher = cipher
        self.settings = settings
        self.known = known

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or user.is_bot or (chat is not None and chat.type != "private"):
            return None
        data["visitor"] = await identity.visit(
            data["session"],
            self.cipher,
            user.id,
            user.language_code,
            self.settings.default_locale,
            self.settings.fallback_locales,
            self.known,
        )
        return await handler(event, data)


class VisitorI18nMiddleware(I18nMiddleware):
    """aiogram's i18n context, in the locale the identity middleware settled on."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        visitor: Visitor | None = data.get("visitor")
        return visitor.locale if visitor is not None else self.i18n.default_locale
