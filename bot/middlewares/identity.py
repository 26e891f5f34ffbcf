"""Who is writing, in which language: the person's row (if any) and the locale chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import locale_from_telegram
from bot.services import identity
from bot.services.cases import fallback_chain
from config import Settings
from db.models import Person
from db.repositories import people
from db.repositories import staff as staff_repo


@dataclass
class Visitor:
    """The sender of the current update. The raw id lives only in memory, for this update."""

    locale: str
    fallbacks: list[str]
    person: Person | None
    role: str | None
    _tg_id: int = field(repr=False)
    _session: AsyncSession = field(repr=False)
    _cipher: IdentityCipher = field(repr=False)

    @property
    def chain(self) -> list[str]:
        """The reader's locale, then the configured fallbacks: the order case text is chosen in."""
        return fallback_chain(self.locale, self.fallbacks)

    @property
    def timezone(self) -> str:
        """The person's time zone, UTC for someone the bot does not know yet."""
        return self.person.timezone if self.person is not None else "UTC"

    async def ensure(self) -> Person:
        """The person's row, created now if this is the first thing worth remembering."""
        if self.person is None:
            self.person = await identity.ensure(
                self._session, self._cipher, self._tg_id, self.locale
            )
        return self.person


class IdentityMiddleware(BaseMiddleware):
    """Only private chats are served: a group could expose who follows whom."""

    def __init__(self, cipher: IdentityCipher, settings: Settings) -> None:
        self.cipher = cipher
        self.settings = settings

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
        session: AsyncSession = data["session"]
        person = await identity.lookup(session, self.cipher, user.id)
        if person is not None and not person.active:
            await people.reactivate(session, person)
        locale = (
            person.locale
            if person is not None
            else locale_from_telegram(user.language_code, self.settings.default_locale)
        )
        # Read on every update: a revoked role is gone with the next message.
        role = await staff_repo.role_of(session, person.id) if person and person.id else None
        data["visitor"] = Visitor(
            locale=locale,
            fallbacks=list(self.settings.fallback_locales),
            person=person,
            role=role,
            _tg_id=user.id,
            _session=session,
            _cipher=self.cipher,
        )
        return await handler(event, data)


class VisitorI18nMiddleware(I18nMiddleware):
    """aiogram's i18n context, in the locale the identity middleware settled on."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        visitor: Visitor | None = data.get("visitor")
        return visitor.locale if visitor is not None else self.i18n.default_locale
