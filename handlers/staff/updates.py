"""/update: editors publish a case update (a status change or news) in a dialogue.

The steps: the case, the kind (a new status, news, an urgent action or further
information on one), the text in one or more languages (for a status change an optional
note), the audience (news may be for the family alone) or an urgent action's deadline,
and a preview made by the same code that renders the alert for readers. Nothing is
written before "Publish"; the alerts then go through the outbox. State lives in aiogram's
FSM storage; /cancel or "Stop" ends the dialogue with nothing changed, and "Back" returns
the way the dialogue came (handlers/dialog.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import update_views as uviews
from bot.presentation.callbacks import UpdateCb
from bot.services import actions, cases, reports, staff, updates
from bot.services.identity import Visitor
from db.models import Case, CaseStatus, UpdateKind
from db.types import utcnow
from handlers.common import show
from handlers.dialog import Dialog, Event
from handlers.filters import EDITORS
from handlers.staff import case_picker


class UpdateForm(StatesGroup):
    case = State()
    kind = State()
    status = State()
    language = State()
    text = State()
    more = State()
    audience = State()
    deadline = State()
    confirm = State()


class UpdateDraft(BaseModel):
    """What the dialogue has collected for one case; nothing is written before Publish."""

    case: int = 0
    kind: UpdateKind | None = None
    new: CaseStatus | None = None  # a status change's new status
    lang: str = ""  # the language being written
    texts: dict[str, str] = Field(default_factory=dict)
    family: bool = False  # news for the family alone
    deadline: dt.datetime | None = None  # an urgent action's
    action: int | None = None  # the urgent action further information follows up
    report: int | None = None  # the relative's report the news is made from
    from_report: bool = False  # its text is still the report's, as the relative wrote it


dialog = Dialog(
    "staff-updates",
    UpdateForm,
    UpdateDraft,
    UpdateCb,
    EDITORS,
    endings={"published": lambda count: uviews.already_published(count or 0)},
)

# A step's screen, given the draft and its case (still there to be updated).
CaseScreen = Callable[[Event, UpdateDraft, Case, AsyncSession, Visitor], Awaitable[None]]


def _screen(step: State) -> Callable[[CaseScreen], CaseScreen]:
    """Register `step`'s screen; it shows only while the case can still have an update
    (a case hidden meanwhile ends the dialogue)."""

    def register(screen: CaseScreen) -> CaseScreen:
        async def shown(
            event: Event,
            state: FSMContext,
            step: State,
            *,
            session: AsyncSession,
            visitor: Visitor,
            **_deps: Any,
        ) -> None:
            draft = await dialog.draft(state)
            case = await cases.visible_case(session, draft.case)
            if case is None:
                await state.clear()
                await show(event, _("This case is not available."))
                return
            await screen(event, draft, case, session, visitor)

        dialog.screen(step)(shown)
        return screen

    return register


async def _go(
    event: Event, state: FSMContext, step: State, session: AsyncSession, visitor: Visitor
) -> None:
    await dialog.go(event, state, step, session=session, visitor=visitor)


async def _name(session: AsyncSession, case: Case, visitor: Visitor) -> str:
    assert case.id is not None
    return cases.pick_text(await cases.texts_for(session, case.id), visitor.chain).name


# ---------------------------------------------------------------- screens, one per step


@dialog.screen(UpdateForm.case)
async def _ask_case(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    await show(event, case_picker.question(), dialog.nav(back=False))


@_screen(UpdateForm.kind)
async def _ask_kind(
    event: Event, draft: UpdateDraft, case: Case, session: AsyncSession, visitor: Visitor
) -> None:
    assert case.id is not None
    has_action = await actions.latest(session, case.id) is not None
    name = await _name(session, case, visitor)
    text, kb = uviews.kind_question(name, case.status, case.id, has_action=has_action)
    await show(event, text, dialog.nav(back=False, above=kb))


@_screen(UpdateForm.status)
async def _ask_status(event: Event, draft: UpdateDraft, case: Case, *_deps: Any) -> None:
    text, kb = uviews.status_question(case.status)
    await show(event, text, dialog.nav(above=kb))


@_screen(UpdateForm.language)
async def _ask_language(event: Event, draft: UpdateDraft, case: Case, *_deps: Any) -> None:
    text, kb = uviews.language_question(draft.kind, draft.texts)
    await show(event, text, dialog.nav(above=kb))


async def _text_screen(event: Event, draft: UpdateDraft) -> None:
    text, kb = uviews.text_question(draft.kind, draft.lang, first=not draft.texts)
    await show(event, text, dialog.nav(above=kb))


@_screen(UpdateForm.text)
async def _ask_text(event: Event, draft: UpdateDraft, case: Case, *_deps: Any) -> None:
    await _text_screen(event, draft)


@_screen(UpdateForm.more)
async def _ask_more(
    event: Event, draft: UpdateDraft, case: Case, session: AsyncSession, visitor: Visitor
) -> None:
    if draft.from_report:
        [(locale, text)] = draft.texts.items()
        name = await _name(session, case, visitor)
        question, kb = uviews.from_report(name, locale, text)
    else:
        question, kb = uviews.more_question(draft.texts)
    await show(event, question, dialog.nav(above=kb))


@_screen(UpdateForm.audience)
async def _ask_audience(event: Event, draft: UpdateDraft, case: Case, *_deps: Any) -> None:
    text, kb = uviews.audience_question()
    await show(event, text, dialog.nav(above=kb))


def _court_zone(case: Case) -> str:
    return cases.COURT_TIMEZONES.get(case.country, "UTC")


@_screen(UpdateForm.deadline)
async def _ask_deadline(event: Event, draft: UpdateDraft, case: Case, *_deps: Any) -> None:
    text, kb = uviews.deadline_question(_court_zone(case))
    await show(event, text, dialog.nav(above=kb))


@_screen(UpdateForm.confirm)
async def _preview(
    event: Event, draft: UpdateDraft, case: Case, session: AsyncSession, visitor: Visitor
) -> None:
    assert case.id is not None
    count = await updates.recipients(session, case.id, draft.family, _action_id(draft))
    text, kb = uviews.preview(
        await _name(session, case, visitor),
        kind=draft.kind,
        new=draft.new,
        # The worker's own rendering, in the editor's language with the readers' fallbacks.
        note=updates.pick_note(draft.texts, visitor.chain),
        family=draft.family,
        deadline=draft.deadline,
        texts=draft.texts,
        count=count,
        locale=visitor.locale,
        zone=visitor.timezone,
    )
    await show(event, text, dialog.nav(above=kb))


def _action_id(draft: UpdateDraft) -> int | None:
    """Further information reaches those who did the action it follows up."""
    return draft.action if draft.kind == UpdateKind.INFO else None


# ---------------------------------------------------------------- handlers


async def update_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if command.args:
        await state.clear()
        await _pick_case(message, command.args, state, session, visitor)
        return
    await dialog.begin(message, state, UpdateForm.case)


async def start_prefilled(
    event: Event,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    text: str,
    report_id: int,
) -> bool:
    """Begin /update for `case_id` as news with `text` already written in the editor's
    language (a relative's report turned into news). The editor reviews it, may rewrite
    or translate it and picks the audience as usual; the report, kept in the dialogue,
    is marked published when the update is. False (nothing begun) if the case is not
    available; a text the dialogue could not take is left for the editor to write."""
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None:
        return False
    text = updates.clean_text(text)
    lang = visitor.locale
    draft = UpdateDraft(case=case.id, kind=UpdateKind.NEWS, report=report_id)
    step, came_by = UpdateForm.language, [UpdateForm.kind]
    if text and len(text) <= updates.MAX_TEXT and lang in LANGUAGE_NAMES:
        # As if the editor had chosen news and their language and typed the text: "Back"
        # goes to the text step, where sending a new text replaces it.
        draft = draft.model_copy(update={"texts": {lang: text}, "lang": lang, "from_report": True})
        step, came_by = UpdateForm.more, [UpdateForm.kind, UpdateForm.language, UpdateForm.text]
    await dialog.begin(
        event, state, step, draft=draft, came_by=came_by, session=session, visitor=visitor
    )
    return True


async def _pick_case(
    message: Message, query: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    markup = dialog.nav(back=False)
    case_id = await case_picker.find_one(
        message, query, state, UpdateForm.case, markup, session, visitor
    )
    if case_id is None:
        return
    draft = UpdateDraft(case=case_id)
    await dialog.begin(
        message, state, UpdateForm.kind, draft=draft, session=session, visitor=visitor
    )


async def case_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _pick_case(message, message.text or "", state, session, visitor)


async def kind_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    case = await cases.visible_case(session, callback_data.case)
    if case is None or case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    if callback_data.value not in {k.value for k in UpdateKind}:
        await callback.answer(_("This button is no longer valid."))
        return
    kind = UpdateKind(callback_data.value)
    action = await actions.latest(session, case.id) if kind == UpdateKind.INFO else None
    if kind == UpdateKind.INFO and action is None:
        await callback.answer(_("This button is no longer valid."))
        return
    # A fresh dialogue for this case, whatever an older message's button left behind;
    # only a report it was begun from stays linked, if it is about this very case.
    within = await state.get_state() in UpdateForm
    old = await dialog.draft(state) if within else UpdateDraft()
    report = old.report if old.case == case.id else None
    fresh = UpdateDraft(
        case=case.id, kind=kind, report=report, action=action.id if action else None
    )
    step = UpdateForm.status if kind == UpdateKind.STATUS else UpdateForm.language
    came_by = (UpdateForm.kind,)
    await dialog.begin(
        callback, state, step, draft=fresh, came_by=came_by, session=session, visitor=visitor
    )


async def status_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    draft = await dialog.draft(state)
    case = await cases.visible_case(session, draft.case)
    if callback_data.value not in updates.STATUSES or case is None:
        await callback.answer(_("This button is no longer valid."))
        return
    if callback_data.value == case.status:
        await callback.answer(_("The case has this status already."))
        return
    await dialog.keep(state, draft.model_copy(update={"new": CaseStatus(callback_data.value)}))
    await _go(callback, state, UpdateForm.language, session, visitor)


async def language_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if callback_data.value not in LANGUAGE_NAMES:
        await callback.answer(_("This button is no longer valid."))
        return
    draft = await dialog.draft(state)
    await dialog.keep(state, draft.model_copy(update={"lang": callback_data.value}))
    await _go(callback, state, UpdateForm.text, session, visitor)


async def text_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    text = updates.clean_text(message.text or "")
    draft = await dialog.draft(state)
    if draft.lang not in LANGUAGE_NAMES:
        await dialog.stop(message, state)
        return
    if len(text) > updates.MAX_TEXT or not text:
        await message.answer(uviews.too_long(len(text)))
        await _text_screen(message, draft)
        return
    texts = {**draft.texts, draft.lang: text}
    await dialog.keep(state, draft.model_copy(update={"texts": texts, "from_report": False}))
    await _go(message, state, UpdateForm.more, session, visitor)


async def texts_done(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    draft = await dialog.draft(state)
    if draft.kind != UpdateKind.STATUS and not draft.texts:
        await callback.answer(_("This button is no longer valid."))
        return
    # News asks for its audience, an urgent action for its deadline; the rest is done.
    step = UpdateForm.confirm
    if draft.kind == UpdateKind.NEWS:
        step = UpdateForm.audience
    elif draft.kind == UpdateKind.ACTION:
        step = UpdateForm.deadline
    await _go(callback, state, step, session, visitor)


async def deadline_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    draft = await dialog.draft(state)
    case = await cases.visible_case(session, draft.case)
    if case is None:
        await dialog.stop(message, state)
        return
    try:
        deadline = actions.parse_deadline(message.text or "", _court_zone(case), utcnow())
    except actions.DeadlineError as exc:
        await message.answer(uviews.deadline_problem(exc.reason))
        await _ask_deadline(message, draft, case, session, visitor)
        return
    await dialog.keep(state, draft.model_copy(update={"deadline": deadline}))
    await _go(message, state, UpdateForm.confirm, session, visitor)


async def audience_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if callback_data.value not in {"public", "family"}:
        await callback.answer(_("This button is no longer valid."))
        return
    draft = await dialog.draft(state)
    await dialog.keep(state, draft.model_copy(update={"family": callback_data.value == "family"}))
    await _go(callback, state, UpdateForm.confirm, session, visitor)


async def publish(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    draft = await dialog.draft(state)
    case = await cases.visible_case(session, draft.case)
    await state.clear()
    if case is None or case.id is None or visitor.person is None or draft.kind is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    actor = staff.actor_of(cipher, visitor.person.id)
    action = await updates.by_id(session, draft.action) if draft.action else None
    try:
        await updates.publish(
            session,
            case,
            draft.kind,
            draft.texts,
            family_only=draft.family,
            new_status=draft.new,
            actor=actor,
            deadline=draft.deadline,
            action=action,
        )
    except updates.UpdateError:
        # Someone changed the case meanwhile (its status, most likely).
        await callback.answer(
            _("The case has changed since you began. Nothing was published."), show_alert=True
        )
        return
    if draft.report:
        await reports.published(session, draft.report, case.id, actor)
    count = await updates.recipients(session, case.id, draft.family, _action_id(draft))
    await dialog.finish(state, "published", count)
    await show(callback, uviews.published(count))


dialog.on_message(update_command, Command("update"))
dialog.on_text(UpdateForm.case, case_step)
dialog.on_text(UpdateForm.text, text_step)
dialog.on_text(UpdateForm.deadline, deadline_step)
dialog.on_button("start", dialog.starts_at(UpdateForm.case))  # the /admin menu's way in
dialog.on_button("kind", kind_chosen)
dialog.on_button("status", status_chosen, UpdateForm.status)
dialog.on_button("lang", language_chosen, UpdateForm.language)
dialog.on_button("more", dialog.goes_to(UpdateForm.language), UpdateForm.more)
dialog.on_button(
    "next", texts_done, StateFilter(UpdateForm.language, UpdateForm.text, UpdateForm.more)
)
dialog.on_button("aud", audience_chosen, UpdateForm.audience)
dialog.on_button("publish", publish, UpdateForm.confirm)


def router() -> Router:
    """Editors and admins only: to anyone else /update is an unknown command and the
    buttons are stale ones."""
    return dialog.router()
