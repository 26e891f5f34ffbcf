"""/editcase: editors find any case (hidden and archived too), open its view, add a
language version, attach or remove the photo, publish, hide or archive it.

The case's view is a menu: its buttons carry the case and work from any state. What
waits for something typed or sent (the case to find, the photo) is a step of a dialogue
built on handlers/dialog.py, begun from the menu; its Back returns to the menu. Editing
one field is handlers/staff/edit_field.py; a language version is added with new_case's
text steps. What editors see is bot/presentation/case_edit_views.py.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import CaseEditCb
from bot.presentation.case_edit_views import (
    back_to_case,
    find_question,
    languages_menu,
    matches,
    photo_question,
    problem,
    visibility_notice,
)
from bot.services import case_editing, cases
from bot.services.case_rules import LOCALES, RuleError
from bot.services.identity import Visitor
from handlers.common import MAX_ARGUMENT, show
from handlers.dialog import Dialog, Event
from handlers.filters import EDITORS, NOT_COMMAND
from handlers.staff import new_case
from handlers.staff.case_changes import editing, editor_screen


class CaseEdit(StatesGroup):
    find = State()
    photo = State()


class EditDraft(BaseModel):
    """The case the photo step works on."""

    case: int = 0


dialog = Dialog("staff-edit-case", CaseEdit, EditDraft, CaseEditCb, EDITORS)


@dialog.screen(CaseEdit.find)
async def _ask_case(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    await show(event, find_question(), dialog.nav(back=False))


async def editcase_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    await state.clear()
    if command.args:
        await _find(message, command.args, state, session, visitor)
        return
    await dialog.begin(message, state, CaseEdit.find)


async def _find(
    message: Message, query: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    """One match opens the case; otherwise the matches (or none), and the step stays."""
    if len(query) > MAX_ARGUMENT:
        await state.set_state(CaseEdit.find)
        await message.answer(
            _("That is too long for a name. Please send a shorter search."),
            reply_markup=dialog.nav(back=False),
        )
        return
    found = await case_editing.find_any(session, query, visitor.chain)
    if len(found) == 1:
        await state.clear()
        await editor_screen(message, session, visitor, found[0].id)
        return
    await state.set_state(CaseEdit.find)
    text, kb = matches(query, found)
    await message.answer(text, reply_markup=dialog.nav(back=False, above=kb))


async def find_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _find(message, message.text or "", state, session, visitor)


async def view_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    await state.clear()
    await editor_screen(callback, session, visitor, callback_data.case)


async def language_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    """Which language to add (a menu of those missing), then new_case's text steps."""
    view = await case_editing.editor_case(session, callback_data.case)
    if view is None or view.case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    missing = [loc for loc in LOCALES if loc not in view.texts]
    locale = callback_data.locale
    if locale in missing:
        await new_case.add_language(callback, state, view.case.id, locale)
        return
    if locale and locale not in LOCALES:
        await callback.answer(_("This button is no longer valid."))
        return
    if locale or not missing:
        await callback.answer(_("This case already has a version in that language."))
        return
    await show(callback, *languages_menu(view.case.id, missing))


async def photo_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None or case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    draft = EditDraft(case=case.id)
    await dialog.begin(callback, state, CaseEdit.photo, draft=draft, has_photo=bool(case.photo))


@dialog.screen(CaseEdit.photo)
async def _ask_photo(
    event: Event, state: FSMContext, step: State, *, has_photo: bool = False, **_deps: Any
) -> None:
    case_id = (await dialog.draft(state)).case
    text, remove = photo_question(case_id, has_photo=has_photo)
    await show(event, text, dialog.nav(above=remove, back_to=back_to_case(case_id)))


async def photo_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    change = await editing(session, (await dialog.draft(state)).case, cipher, visitor)
    if change is None or not message.photo:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    # The largest size comes last; Telegram makes the smaller ones from it.
    try:
        await case_editing.set_photo(session, change.case, message.photo[-1].file_id, change.by)
    except RuleError as err:
        await message.answer(problem(err))
        return
    await state.clear()
    await editor_screen(message, session, visitor, change.id, _("The photo is saved."))


async def photo_expected(message: Message) -> None:
    await message.answer(_("Please send a photo (not a file), or press Back."))


async def unphoto_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    change = await editing(session, callback_data.case, cipher, visitor)
    if change is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    await case_editing.set_photo(session, change.case, None, change.by)
    await state.clear()
    await editor_screen(callback, session, visitor, change.id, _("The photo is removed."))


async def visibility_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    change = await editing(session, callback_data.case, cipher, visitor)
    notice = visibility_notice(callback_data.value)
    if change is None or notice is None:
        await callback.answer(_("This button is no longer valid."))
        return
    await case_editing.set_visibility(session, change.case, callback_data.value, change.by)
    await state.clear()
    await editor_screen(callback, session, visitor, change.id, notice)


dialog.on_message(editcase_command, Command("editcase"))
dialog.on_text(CaseEdit.find, find_step)
dialog.on_message(photo_step, CaseEdit.photo, F.photo)
dialog.on_message(photo_expected, CaseEdit.photo, NOT_COMMAND)
# The /admin menu's way in: the same first step as the command.
dialog.on_button("find", dialog.starts_at(CaseEdit.find))
dialog.on_button("view", view_button)
dialog.on_button("lang", language_button)
dialog.on_button("photo", photo_button)
dialog.on_button("unphoto", unphoto_button)
dialog.on_button("vis", visibility_button)


def router() -> Router:
    return dialog.router()
