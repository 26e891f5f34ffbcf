"""/hearing: editors schedule, move and cancel hearings in a step-by-step dialogue.

State lives in aiogram's FSM storage (memory, or Redis with hashed keys), so a dialogue
survives across updates and instances. /cancel or "Stop" ends it with nothing changed;
"Back" returns to the previous step (handlers/dialog.py).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, Literal

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import calendar, views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import HearingCb
from bot.services import cases, courts, dates, hearings, staff
from bot.services.identity import Visitor
from db.models import Case, Hearing, HearingKind, HearingStatus
from handlers.common import show
from handlers.dialog import Dialog, Event
from handlers.filters import EDITORS
from handlers.staff import case_picker


class HearingForm(StatesGroup):
    case = State()
    day = State()
    time = State()
    court = State()
    kind = State()
    confirm = State()


class HearingDraft(BaseModel):
    """What the dialogue has collected: which hearing of which case, and its new facts."""

    case: int = 0
    hearing: int = 0
    mode: Literal["new", "move", "cancel"] = "new"
    day: dt.date | None = None
    time: dt.time | None = None
    court: str = ""
    kind: str = ""


dialog = Dialog("staff-hearings", HearingForm, HearingDraft, HearingCb, EDITORS)


@dialog.screen(HearingForm.case)
async def _ask_case(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    await show(event, case_picker.question(), dialog.nav(back=False))


def _hearing_button(action: str, value: str) -> HearingCb:
    return HearingCb.model_validate({"action": action, "value": value})


async def _show_days(event: Event, state: FSMContext, month: dt.date) -> None:
    days = calendar.month_keyboard(month, earliest=dt.date.today(), make=_hearing_button)
    await show(
        event,
        _("Pick the day of the hearing, or write it as the court has it (for example 10.12.2026):"),
        dialog.nav(back=await dialog.can_go_back(state), above=days),
    )


@dialog.screen(HearingForm.day)
async def _ask_day(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    # Back from the time step shows the month of the day picked before.
    draft = await dialog.draft(state)
    await _show_days(event, state, draft.day or dt.date.today())


@dialog.screen(HearingForm.time)
async def _ask_time(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    await show(event, _("The time, court's local time (HH:MM):"), dialog.nav())


async def _courts_of_case(session: AsyncSession, state: FSMContext) -> list[courts.Court]:
    """The listed courts of the country of the case the dialogue is about."""
    case = await cases.by_id(session, (await dialog.draft(state)).case)
    return courts.of_country(case.country) if case is not None else []


@dialog.screen(HearingForm.court)
async def _ask_court(
    event: Event, state: FSMContext, step: State, *, session: AsyncSession, **_deps: Any
) -> None:
    known = InlineKeyboardBuilder()
    for court in await _courts_of_case(session, state):
        known.button(
            text=views.court_label(court.stored),
            callback_data=HearingCb(action="court", value=court.key),
        )
    known.adjust(1)
    await show(
        event,
        _("Which court? Pick it, or write its name if it is not in the list:"),
        dialog.nav(above=known),
    )


@dialog.screen(HearingForm.kind)
async def _ask_kind(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
    kinds = InlineKeyboardBuilder()
    for kind in HearingKind:
        kinds.button(
            text=str(views.HEARING_KINDS[kind.value]),
            callback_data=HearingCb(action="kind", value=kind.value),
        )
    kinds.adjust(1)
    await show(event, _("What kind of hearing?"), dialog.nav(above=kinds))


async def _case_screen(
    event: Message | CallbackQuery,
    session: AsyncSession,
    visitor: Visitor,
    case: Case,
    notice: str | None = None,
) -> None:
    assert case.id is not None
    texts = await cases.texts_for(session, case.id)
    name = cases.pick_text(texts, visitor.chain).name
    now = dt.datetime.now(dt.UTC)
    upcoming = [
        h
        for h in await hearings.of_case(session, case.id)
        if h.status == HearingStatus.SCHEDULED and h.starts_at > now
    ]
    lines = [_("<b>Hearings: {name}</b>").format(name=escape(name)), ""]
    kb = InlineKeyboardBuilder()
    if not upcoming:
        lines.append(_("No hearing is scheduled."))
    for h in upcoming:
        assert h.id is not None
        lines.append(views.hearing_line(h, h.timezone))
        when = views.short_moment(h.starts_at, h.timezone)
        kb.button(
            text=_("Move: {when}").format(when=when),
            callback_data=HearingCb(action="move", case=case.id, hearing=h.id),
        )
        kb.button(
            text=_("Cancel: {when}").format(when=when),
            callback_data=HearingCb(action="cancel", case=case.id, hearing=h.id),
        )
    kb.button(text=_("➕ Schedule a hearing"), callback_data=HearingCb(action="new", case=case.id))
    kb.adjust(1)
    await show(event, "\n".join(lines), kb.as_markup(), notice)


async def hearing_command(
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
    await dialog.begin(message, state, HearingForm.case)


async def _pick_case(
    message: Message, query: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    # Staff find hidden cases too: a new case may have a hearing before it is published.
    case_id = await case_picker.find_one(
        message,
        query,
        state,
        HearingForm.case,
        dialog.nav(back=False),
        session,
        visitor,
        hidden_too=True,
    )
    if case_id is None:
        return
    case = await cases.by_id(session, case_id)
    assert case is not None
    await state.clear()
    await _case_screen(message, session, visitor, case)


async def case_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _pick_case(message, message.text or "", state, session, visitor)


async def start_form(
    callback: CallbackQuery, callback_data: HearingCb, state: FSMContext, session: AsyncSession
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None or case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    mode: Literal["new", "move"] = "move" if callback_data.action == "move" else "new"
    await dialog.begin(callback, state, HearingForm.day)
    await dialog.keep(state, HearingDraft(case=case.id, hearing=callback_data.hearing, mode=mode))


async def day_step(message: Message, state: FSMContext) -> None:
    day = dates.parse_day(message.text or "")
    if day is None:
        await message.answer(
            _("That is not a date. Please write it like 10.12.2026."), reply_markup=dialog.nav()
        )
        return
    if day < dt.date.today() - dt.timedelta(days=1):
        await message.answer(
            _("That date has passed. Please send a date ahead."), reply_markup=dialog.nav()
        )
        return
    await _take_day(message, state, day)


async def _take_day(event: Event, state: FSMContext, day: dt.date) -> None:
    draft = await dialog.draft(state)
    await dialog.keep(state, draft.model_copy(update={"day": day}))
    await dialog.go(event, state, HearingForm.time)


async def day_picked(callback: CallbackQuery, callback_data: HearingCb, state: FSMContext) -> None:
    day = calendar.day_of(callback_data.value)
    if day is None or day < dt.date.today() - dt.timedelta(days=1):
        await callback.answer(_("This button is no longer valid."))
        return
    await _take_day(callback, state, day)


async def month_paged(callback: CallbackQuery, callback_data: HearingCb, state: FSMContext) -> None:
    month = calendar.month_of(callback_data.value)
    if month is None:
        await callback.answer(_("This button is no longer valid."))
        return
    await _show_days(callback, state, month)


async def quiet(callback: CallbackQuery) -> None:
    # A weekday's name or a day before today: nothing to do, and nothing to say.
    await callback.answer()


async def time_step(message: Message, state: FSMContext, session: AsyncSession) -> None:
    at = dates.parse_time(message.text or "")
    if at is None:
        await message.answer(
            _("That is not a time. Please write it like 10:30."), reply_markup=dialog.nav()
        )
        return
    draft = await dialog.draft(state)
    case = await cases.by_id(session, draft.case)
    if case is None or draft.day is None:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    starts, _tz = hearings.court_time(case, draft.day, at)
    if starts <= dt.datetime.now(dt.UTC):
        await message.answer(
            _("That moment has passed. Please send a time ahead."), reply_markup=dialog.nav()
        )
        return
    await dialog.keep(state, draft.model_copy(update={"time": at}))
    if draft.mode == "move":
        await dialog.go(message, state, HearingForm.confirm, session=session)
        return
    await dialog.go(message, state, HearingForm.court, session=session)


async def court_picked(
    callback: CallbackQuery, callback_data: HearingCb, state: FSMContext, session: AsyncSession
) -> None:
    listed = await _courts_of_case(session, state)
    court = next((c for c in listed if c.key == callback_data.value), None)
    if court is None:
        await callback.answer(_("This button is no longer valid."))
        return
    draft = await dialog.draft(state)
    await dialog.keep(state, draft.model_copy(update={"court": court.stored}))
    await dialog.go(callback, state, HearingForm.kind)


async def court_step(message: Message, state: FSMContext) -> None:
    court = " ".join((message.text or "").split())
    if not court or len(court) > hearings.MAX_COURT:
        await message.answer(
            _("Please send the court's name in at most 300 characters."),
            reply_markup=dialog.nav(),
        )
        return
    draft = await dialog.draft(state)
    await dialog.keep(state, draft.model_copy(update={"court": court}))
    await dialog.go(message, state, HearingForm.kind)


async def kind_step(
    callback: CallbackQuery, callback_data: HearingCb, state: FSMContext, session: AsyncSession
) -> None:
    if callback_data.value not in {k.value for k in HearingKind}:
        await callback.answer(_("This button is no longer valid."))
        return
    draft = await dialog.draft(state)
    await dialog.keep(state, draft.model_copy(update={"kind": callback_data.value}))
    await dialog.go(callback, state, HearingForm.confirm, session=session)


@dialog.screen(HearingForm.confirm)
async def _confirm(
    event: Event, state: FSMContext, step: State, *, session: AsyncSession, **_deps: Any
) -> None:
    draft = await dialog.draft(state)
    case = await cases.by_id(session, draft.case)
    assert case is not None and case.id is not None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Save"), callback_data=HearingCb(action="save"))
    markup = dialog.nav(above=kb)
    if draft.mode == "cancel":
        text = _("Cancel this hearing? Followers who were reminded of it will be told.")
        await show(event, text, markup)
        return
    assert draft.day is not None and draft.time is not None
    starts, tz = hearings.court_time(case, draft.day, draft.time)
    if draft.mode == "move":
        text = _("Move the hearing to {when}? Followers who were reminded will be told.").format(
            when=views.moment(starts, tz)
        )
    else:
        preview = Hearing(
            case_id=case.id,
            starts_at=starts,
            timezone=tz,
            court=draft.court,
            kind=HearingKind(draft.kind),
        )
        text = (
            _("Schedule this hearing? Followers will be reminded before it.")
            + "\n\n"
            + views.hearing_line(preview, tz)
        )
    await show(event, text, markup)


async def cancel_start(
    callback: CallbackQuery, callback_data: HearingCb, state: FSMContext, session: AsyncSession
) -> None:
    hearing = await hearings.by_id(session, callback_data.hearing)
    if hearing is None or hearing.id is None or hearing.case_id != callback_data.case:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.clear()
    await dialog.keep(state, HearingDraft(case=hearing.case_id, hearing=hearing.id, mode="cancel"))
    await dialog.go(callback, state, HearingForm.confirm, session=session)


async def save(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    draft = await dialog.draft(state)
    await state.clear()
    case = await cases.by_id(session, draft.case)
    if case is None or visitor.person is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    actor = staff.actor_of(cipher, visitor.person.id)
    try:
        if draft.mode == "cancel":
            hearing = await hearings.by_id(session, draft.hearing)
            if hearing is not None:
                await hearings.cancel(session, hearing, actor)
            notice = _("The hearing is cancelled.")
        else:
            assert draft.day is not None and draft.time is not None
            starts, tz = hearings.court_time(case, draft.day, draft.time)
            if draft.mode == "move":
                hearing = await hearings.by_id(session, draft.hearing)
                if hearing is None:
                    raise hearings.HearingError("gone")
                await hearings.move(session, hearing, starts, actor)
                notice = _("The hearing is moved.")
            else:
                await hearings.schedule(session, case, starts, tz, draft.court, draft.kind, actor)
                notice = _("The hearing is scheduled.")
    except hearings.HearingError:
        await callback.answer(_("That moment has passed. Nothing was changed."), show_alert=True)
        return
    await dialog.finish(state)
    await _case_screen(callback, session, visitor, case, notice)


dialog.on_message(hearing_command, Command("hearing"))
dialog.on_text(HearingForm.case, case_step)
dialog.on_text(HearingForm.day, day_step)
dialog.on_text(HearingForm.time, time_step)
dialog.on_text(HearingForm.court, court_step)
# The /admin menu's way in: the same first step as the command.
dialog.on_button("start", dialog.starts_at(HearingForm.case))
dialog.on_callback(start_form, HearingCb.filter(F.action.in_({"new", "move"})))
dialog.on_button("cancel", cancel_start)
dialog.on_button("day", day_picked, HearingForm.day)
dialog.on_button("month", month_paged, HearingForm.day)
dialog.on_button("noop", quiet, HearingForm.day)
dialog.on_button("court", court_picked, HearingForm.court)
dialog.on_button("kind", kind_step, HearingForm.kind)
dialog.on_button("save", save, HearingForm.confirm)


def router() -> Router:
    return dialog.router()
