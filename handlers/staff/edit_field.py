"""/editcase, one field: editors choose a field of the case (or of one language
version) and type its new value, or press it for the fields that are a choice, or clear
an optional one. Each change is checked by the same rules as the import and audited.

The fields and the choices are menus of buttons that carry the case; only the typed
value is a dialogue step (handlers/dialog.py), begun from the menu, its Back leading to
the case's view. Status changes are not a field: /update makes them, so followers are
told.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import CaseEditCb
from bot.presentation.case_edit_views import (
    back_to_case,
    choices_menu,
    clear_value,
    fields_menu,
    problem,
    saved,
    value_question,
    versions_menu,
)
from bot.services import case_editing
from bot.services.case_rules import CASE_FIELDS, DATE_FIELDS, TEXT_FIELDS, RuleError, is_optional
from bot.services.identity import Visitor
from handlers.common import show
from handlers.dialog import Dialog, Event
from handlers.filters import EDITORS
from handlers.staff.case_changes import Editing, checked_date, editing, editor_screen

# Fields an editor sets by pressing a button rather than typing.
CHOICE_FIELDS = frozenset({"accepts_letters", "authority_locale", "letter_locale"})


class FieldEdit(StatesGroup):
    value = State()


class FieldDraft(BaseModel):
    """The field the value step changes: of the case, or of its `locale` version."""

    case: int = 0
    field: str = ""
    locale: str = ""


dialog = Dialog("staff-edit-field", FieldEdit, FieldDraft, CaseEditCb, EDITORS)


async def fields_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    await state.clear()
    view = await case_editing.editor_case(session, callback_data.case)
    if view is None or view.case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    await show(callback, *fields_menu(view.case.id))


async def field_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    """A field chosen: which language version first if it has several, then its choices
    (a menu) or the step that waits for its new value."""
    field, locale = callback_data.field, callback_data.locale
    view = await case_editing.editor_case(session, callback_data.case)
    if view is None or view.case.id is None or field not in (*TEXT_FIELDS, *CASE_FIELDS):
        await callback.answer(_("This button is no longer valid."))
        return
    case_id = view.case.id
    if field in TEXT_FIELDS and locale not in view.texts:
        if len(view.texts) != 1:
            await show(callback, *versions_menu(case_id, field, view.texts))
            return
        locale = next(iter(view.texts))
    if field in TEXT_FIELDS:
        current: Any = getattr(view.texts[locale], field)
    else:
        locale = ""
        current = getattr(view.case, field)
    if field in CHOICE_FIELDS:
        await state.clear()
        await show(callback, *choices_menu(case_id, field, current))
        return
    draft = FieldDraft(case=case_id, field=field, locale=locale)
    await dialog.begin(callback, state, FieldEdit.value, draft=draft, current=current)


def _value_nav(draft: FieldDraft) -> InlineKeyboardMarkup:
    clear = clear_value(draft.case, draft.field, draft.locale)
    return dialog.nav(above=clear, back_to=back_to_case(draft.case))


@dialog.screen(FieldEdit.value)
async def _ask_value(
    event: Event,
    state: FSMContext,
    step: State,
    *,
    current: str | dt.date | None = None,
    **_deps: Any,
) -> None:
    draft = await dialog.draft(state)
    await show(event, value_question(draft.field, draft.locale, current), _value_nav(draft))


async def _apply(
    session: AsyncSession, change: Editing, field: str, locale: str, value: Any
) -> bool:
    if field in TEXT_FIELDS:
        return await case_editing.set_text(session, change.case, locale, field, value, change.by)
    return await case_editing.set_field(session, change.case, field, value, change.by)


async def value_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    draft = await dialog.draft(state)
    change = await editing(session, draft.case, cipher, visitor)
    if change is None:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    raw = message.text or ""
    try:
        value: Any = checked_date(raw, draft.field) if draft.field in DATE_FIELDS else raw
        changed = await _apply(session, change, draft.field, draft.locale, value)
    except RuleError as err:
        await message.answer(problem(err), reply_markup=_value_nav(draft))
        return
    await dialog.finish(state)
    await editor_screen(message, session, visitor, change.id, saved(changed))


async def set_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    """A value chosen with a button ("set") or an optional field emptied ("clear")."""
    change = await editing(session, callback_data.case, cipher, visitor)
    field = callback_data.field
    value: Any
    if callback_data.action == "clear":
        value = None
        allowed = is_optional(field) and field in (*TEXT_FIELDS, *CASE_FIELDS)
    elif field == "accepts_letters":
        value = {"1": True, "0": False}.get(callback_data.value)
        allowed = value is not None
    else:
        value = callback_data.value
        allowed = field in {"authority_locale", "letter_locale"}
    if change is None or not allowed:
        await callback.answer(_("This button is no longer valid."))
        return
    try:
        changed = await _apply(session, change, field, callback_data.locale, value)
    except RuleError:
        await callback.answer(_("This button is no longer valid."))
        return
    await dialog.finish(state)
    await editor_screen(callback, session, visitor, change.id, saved(changed))


dialog.on_text(FieldEdit.value, value_step)
dialog.on_button("fields", fields_button)
dialog.on_button("field", field_button)
dialog.on_callback(set_button, CaseEditCb.filter(F.action.in_({"set", "clear"})))


def router() -> Router:
    return dialog.router()
