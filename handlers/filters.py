"""Filters that decide who may use a handler, and what counts as an answer."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import Filter

from bot.services.identity import Visitor
from db.models import StaffRole


class HasRole(Filter):
    """True only for a sender whose current role is one of `roles`. Callback data and
    message text are never consulted: the role comes from the database, every update."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: Any, visitor: Visitor | None = None) -> bool:
        return visitor is not None and visitor.role in self.roles


ADMINS = HasRole(StaffRole.ADMIN)
EDITORS = HasRole(StaffRole.ADMIN, StaffRole.EDITOR)
BROADCASTERS = HasRole(StaffRole.ADMIN, StaffRole.BROADCASTER)
EVERY_ROLE = HasRole(*StaffRole)

# A command typed while the bot waits for an answer is a command, not the answer.
NOT_COMMAND = ~F.text.startswith("/")


class IsFamily(Filter):
    """True only for a family member of at least one case, as the identity middleware
    found them (a relative removed from a case loses /report with their next message)."""

    async def __call__(self, event: Any, visitor: Visitor | None = None) -> bool:
        return visitor is not None and visitor.family


class StaffOrFamily(Filter):
    """Staff of any role, family of a case, or someone in one of `states`: whoever the
    staff's and the relatives' routers may serve. Everyone else's updates pass those
    routers by with this one check (a relative removed from a case mid-report can
    still stop the report, hence the states)."""

    def __init__(self, *states: str) -> None:
        self.states = frozenset(states)

    async def __call__(
        self, event: Any, visitor: Visitor | None = None, raw_state: str | None = None
    ) -> bool:
        if visitor is not None and (visitor.role is not None or visitor.family):
            return True
        return raw_state in self.states
