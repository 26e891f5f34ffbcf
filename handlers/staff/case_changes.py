"""What the case dialogues share when they change a case: the date format an editor
types, the case a change is made to and who makes it (for the audit log), and the case's
view that every change ends on, so an editor always sees what the case now holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation.case_edit_views import editor_view
from bot.services import case_editing, cases, dates, staff
from bot.services.case_rules import Problem, RuleError, check
from bot.services.identity import Visitor
from db.models import Case
from handlers.common import show


# Only the format is the dialogues' own rule; what a valid date is, case_rules decides.
def checked_date(raw: str, field: str) -> dt.date:
    """The shared date rule, after the dialogues' own formats (12.03.2025, or ISO), and
    not whatever else the date parser takes (a bare number is a timestamp)."""
    typed = dates.parse_day(raw)
    if typed is None:
        raise RuleError(field, Problem.INVALID)
    day = check(field, typed.isoformat())
    assert isinstance(day, dt.date)
    return day


def actor(cipher: IdentityCipher, visitor: Visitor) -> str | None:
    """Who the audit log names for a change: the staff member's keyed hash, never an id."""
    return staff.actor_of(cipher, visitor.person.id) if visitor.person is not None else None


@dataclass(frozen=True)
class Editing:
    """A change about to be made: the case, still there, and who makes it."""

    case: Case
    id: int
    by: str


async def editing(
    session: AsyncSession, case_id: int, cipher: IdentityCipher, visitor: Visitor
) -> Editing | None:
    """The case a button or a step changes, and the audit's name for the editor; None
    when the case is gone (or the editor is nobody), which the caller reports."""
    case = await cases.by_id(session, case_id)
    by = actor(cipher, visitor)
    if case is None or case.id is None or by is None:
        return None
    return Editing(case, case.id, by)


async def editor_screen(
    event: Message | CallbackQuery,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    notice: str | None = None,
) -> None:
    """The case as it now is, with what an editor may do to it; `notice` says what the
    last change did."""
    view = await case_editing.editor_case(session, case_id)
    if view is None:
        if isinstance(event, CallbackQuery):
            await event.answer(_("This case is not available."), show_alert=True)
        else:
            await event.answer(_("This case is not available."))
        return
    text, markup = editor_view(view, visitor.chain)
    await show(event, text, markup, notice)
