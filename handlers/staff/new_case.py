"""/newcase: editors create a case step by step; the same form, with only its text steps,
adds a language version to a case from /editcase.

Built on handlers/dialog.py: each answer moves on to the next step its mode asks, the
steps a mode does not ask are never visited, so Back follows the trail the editor came
by. Nothing is written before Save, and what was typed is kept as typed (escaped when it
is shown: bot/presentation/case_form_views.py). A new case starts hidden with the status
`case_editing.NEW_CASE_STATUS`: status changes are made with /update, so that followers
are told.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import CaseEditCb
from bot.presentation.case_edit_views import back_to_case, language, problem
from bot.presentation.case_form_views import VERSION_FIELDS, confirmation, step_buttons, step_text
from bot.services import case_editing, cases
from bot.services.case_editing import CaseDraft
from bot.services.case_rules import (
    BASE_LOCALES,
    COUNTRIES,
    LOCALES,
    Problem,
    RuleError,
    check,
    is_optional,
)
from bot.services.identity import Visitor
from handlers.common import show
from handlers.dialog import Dialog, Event
from handlers.filters import EDITORS
from handlers.staff.case_changes import actor, checked_date, editor_screen


class CaseForm(StatesGroup):
    """/newcase, and a new language version of a case (only the text steps)."""

    country = State()
    locale = State()
    name = State()
    slug = State()
    summary = State()
    charges = State()
    authority = State()
    salutation = State()
    authority_address = State()
    authority_locale = State()
    prison_address = State()
    detained_on = State()
    accepts_letters = State()
    confirm = State()


NEW_STEPS: tuple[str, ...] = (
    "country", "locale", "name", "slug", "summary", "charges", "authority", "salutation",
    "authority_address", "authority_locale", "prison_address", "detained_on", "accepts_letters",
)  # fmt: skip
# A language version asks only what differs by language, in the order a new case does.
LANGUAGE_STEPS: tuple[str, ...] = VERSION_FIELDS
# What each choice step offers: the value in the button, and the value the draft keeps.
CHOICES: dict[str, dict[str, str | bool]] = {
    "country": {c: c for c in COUNTRIES},
    "locale": {c: c for c in BASE_LOCALES},
    "authority_locale": {c: c for c in LOCALES},
    "accepts_letters": {"1": True, "0": False},
}
TEXT_STEPS = frozenset(NEW_STEPS) - frozenset(CHOICES)
_STEP_OF = {getattr(CaseForm, step).state: step for step in NEW_STEPS}


class NewCaseDraft(BaseModel):
    """What the form has gathered: a new case, or (mode "lang") a new language version
    `locale` of the case `case`. A field is None until its step is answered or skipped."""

    mode: Literal["new", "lang"] = "new"
    case: int = 0
    country: str = ""
    locale: str = ""
    name: str | None = None
    slug: str | None = None
    suggested: str | None = None  # a slug made from the name, free when it was offered
    summary: str | None = None
    charges: str | None = None
    authority: str | None = None
    salutation: str | None = None
    authority_address: str | None = None
    authority_locale: str = ""
    prison_address: str | None = None
    detained_on: dt.date | None = None
    accepts_letters: bool = True

    def steps(self) -> tuple[str, ...]:
        """The steps this mode asks, in order; the others are never visited."""
        return LANGUAGE_STEPS if self.mode == "lang" else NEW_STEPS

    def answered(self, step: str, value: Any) -> NewCaseDraft:
        return self.model_copy(update={step: value})

    def now(self, step: str) -> str | None:
        """What a text step holds, as the editor typed it; None for a choice step."""
        value = getattr(self, step) if step in TEXT_STEPS else None
        return value.isoformat() if isinstance(value, dt.date) else value

    def for_service(self) -> CaseDraft:
        """The draft as the service takes it; `case_editing.create` checks all of it again,
        since another editor may have changed something since a step was answered."""
        return CaseDraft(
            slug=self.slug or "",
            country=self.country,
            locale=self.locale,
            name=self.name or "",
            authority=self.authority or "",
            salutation=self.salutation or "",
            authority_address=self.authority_address or "",
            authority_locale=self.authority_locale,
            summary=self.summary,
            charges=self.charges,
            prison_address=self.prison_address,
            detained_on=self.detained_on.isoformat() if self.detained_on else None,
            accepts_letters=self.accepts_letters,
        )


dialog = Dialog("staff-new-case", CaseForm, NewCaseDraft, CaseEditCb, EDITORS)


async def _markup(state: FSMContext, step: str, draft: NewCaseDraft) -> InlineKeyboardMarkup:
    """The step's buttons over Back and Stop. Back goes a step back; from the first step
    of a language version, to the case it was begun from; a new case's first step has
    only Stop."""
    above = step_buttons(step, tuple(CHOICES.get(step, ())), draft.suggested)
    if await dialog.can_go_back(state):
        return dialog.nav(above=above)
    if draft.mode == "lang":
        return dialog.nav(above=above, back_to=back_to_case(draft.case))
    return dialog.nav(back=False, above=above)


async def _ask(
    event: Event, state: FSMContext, step: State, *, notice: str | None = None, **_deps: Any
) -> None:
    """Every step's screen: its question, what it holds now, and its buttons."""
    name = _STEP_OF[str(step.state)]
    draft = await dialog.draft(state)
    version = draft.locale if draft.mode == "lang" else None
    text = step_text(name, draft.now(name), version)
    await show(event, text, await _markup(state, name, draft), notice)


for _step in NEW_STEPS:
    dialog.screen(getattr(CaseForm, _step))(_ask)


async def _advance(
    event: Event, state: FSMContext, session: AsyncSession, draft: NewCaseDraft, step: str
) -> None:
    """Keep the answer to `step` and ask the mode's next question, or show the draft."""
    if step == "name" and draft.mode == "new":
        suggested = case_editing.suggest_slug(draft.name or "")
        if suggested and await case_editing.slug_taken(session, suggested):
            suggested = None
        draft = draft.answered("suggested", suggested)
    await dialog.keep(state, draft)
    following = draft.steps()[draft.steps().index(step) + 1 :]
    after: State = getattr(CaseForm, following[0]) if following else CaseForm.confirm
    await dialog.go(event, state, after)


async def newcase_command(message: Message, state: FSMContext) -> None:
    await dialog.begin(message, state, CaseForm.country)


async def add_language(event: Event, state: FSMContext, case_id: int, locale: str) -> None:
    """/editcase's way in: a new `locale` version of the case, its text steps only."""
    draft = NewCaseDraft(mode="lang", case=case_id, locale=locale)
    await dialog.begin(event, state, CaseForm.name, draft=draft)


async def text_step(
    message: Message, state: FSMContext, session: AsyncSession, raw_state: str | None
) -> None:
    step = _STEP_OF[raw_state or ""]
    draft = await dialog.draft(state)
    raw = message.text or ""
    try:
        if step == "detained_on":
            value: Any = checked_date(raw, step)
        else:
            value = check(step, raw.strip() if step == "slug" else raw)
        if step == "slug" and await case_editing.slug_taken(session, value):
            raise RuleError("slug", Problem.TAKEN)
    except RuleError as err:
        await message.answer(problem(err), reply_markup=await _markup(state, step, draft))
        return
    await _advance(message, state, session, draft.answered(step, value), step)


async def choice_typed(message: Message, state: FSMContext, raw_state: str | None) -> None:
    if raw_state == CaseForm.confirm.state:
        await dialog.go(message, state, CaseForm.confirm)
        return
    step = _STEP_OF[raw_state or ""]
    markup = await _markup(state, step, await dialog.draft(state))
    await message.answer(_("Please choose with the buttons."), reply_markup=markup)


async def pick(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    raw_state: str | None,
) -> None:
    """A choice pressed ("pick"), or an optional step left empty ("skip")."""
    step = _STEP_OF.get(raw_state or "", "")
    choices = CHOICES.get(step, {})
    if callback_data.action == "skip":
        valid, value = is_optional(step), None
    else:
        valid, value = callback_data.value in choices, choices.get(callback_data.value)
    if step != callback_data.field or not valid:
        await callback.answer(_("This button is no longer valid."))
        return
    draft = (await dialog.draft(state)).answered(step, value)
    await _advance(callback, state, session, draft, step)


async def use_suggestion(callback: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    draft = await dialog.draft(state)
    if not draft.suggested or await case_editing.slug_taken(session, draft.suggested):
        await callback.answer(_("Another case already has this slug. Please choose another one."))
        return
    await _advance(callback, state, session, draft.answered("slug", draft.suggested), "slug")


@dialog.screen(CaseForm.confirm)
async def _confirm(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    draft = await dialog.draft(state)
    text, save_button = confirmation(draft.for_service(), new_case=draft.mode == "new")
    await show(event, text, dialog.nav(above=save_button))


async def save(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    draft = await dialog.draft(state)
    by = actor(cipher, visitor)
    if by is None:
        await dialog.stop(callback, state)
        return
    try:
        if draft.mode == "lang":
            case = await cases.by_id(session, draft.case)
            if case is None:
                await state.clear()
                await callback.answer(_("This case is not available."), show_alert=True)
                return
            values = {field: getattr(draft, field) for field in LANGUAGE_STEPS}
            await case_editing.add_language(session, case, draft.locale, values, by)
            notice = _("The {language} version is added.").format(language=language(draft.locale))
        else:
            case = await case_editing.create(session, draft.for_service(), by)
            notice = _("The case is saved. It stays hidden until you publish it.")
    except RuleError as err:
        # Something changed since the step was answered (another editor took the slug):
        # the editor goes back to that step rather than losing the whole dialogue.
        if err.field in draft.steps():
            step = getattr(CaseForm, err.field)
            await dialog.rewind(callback, state, step, notice=problem(err)[:200])
        else:
            await callback.answer(problem(err)[:200], show_alert=True)
        return
    await dialog.finish(state)
    assert case.id is not None
    await editor_screen(callback, session, visitor, case.id, notice)


dialog.on_message(newcase_command, Command("newcase"))
for _step in sorted(TEXT_STEPS):
    dialog.on_text(getattr(CaseForm, _step), text_step)
for _step in (*CHOICES, "confirm"):
    dialog.on_text(getattr(CaseForm, _step), choice_typed)
# The /admin menu's way in: the same first step as the command.
dialog.on_button("new", dialog.starts_at(CaseForm.country))
dialog.on_callback(pick, CaseEditCb.filter(F.action.in_({"pick", "skip"})), StateFilter(CaseForm))
dialog.on_button("slug", use_suggestion, CaseForm.slug)
dialog.on_button("save", save, CaseForm.confirm)


def router() -> Router:
    return dialog.router()
