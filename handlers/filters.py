"""Filters that decide who may use a handler."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter

from bot.middlewares.identity import Visitor


class HasRole(Filter):
    """True only for a sender whose current role is one of `roles`. Callback data and
    message text are never consulted: the role comes from the database, every update."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: Any, visitor: Visitor | None = None) -> bool:
        return visitor is not None and visitor.role in self.roles
