"""/hearing: editors schedule, move and cancel hearings in a step-by-step dialogue.

State lives in aiogram's FSM storage (memory, or Redis with hashed keys), so a dialogue
survives across updates and instances. /cancel or "Stop" ends it with nothing changed;
"Back" returns to the previous step.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.callbacks import HearingCb
from bot.services import cases, hearings, staff
from bot.services.identity import Visitor
from db.models import Case, Hearing, HearingKind, HearingStatus, StaffRole
from handlers.common import show
from handlers.filters import HasRole
from handlers.staff import case_picker

EDITORS = HasRole(StaffRole.ADMIN.value, StaffRole.EDITOR.value)
# A command typed in the middle of the dialogue is a command, not an answer to the step.
NOT_COMMAND = ~F.text.startswith("/")


class HearingForm(StatesGroup):
    case = State()
    day = State()
    time = State()
    court = State()
    kind = State()
    confirm = State()


def _nav(back: bool = True) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if back:
        kb.button(text=_("« Back"), callback_data=HearingCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=HearingCb(action="stop"))
    kb.adjust(2)
    return kb.as_markup()


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
        if h.status == HearingStatus.SCHEDULED.value and h.starts_at > now
    ]
    lines = [_("<b>Hearings: {name}</b>").format(name=escape(name)), ""]
    kb = InlineKeyboardBuilder()
    if not upcoming:
        lines.append(_("No hearing is scheduled."))
    for h in upcoming:
        assert h.id is not None
        lines.append(views.hearing_line(h, h.timezone))
        when = views.moment(h.starts_at, h.timezone)
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
    await case_picker.ask(message, state, HearingForm.case, _nav(back=False))


async def start_button(callback: CallbackQuery, state: FSMContext) -> None:
    """The /admin menu's way in: the same first step as /hearing."""
    await case_picker.ask(callback, state, HearingForm.case, _nav(back=False))


async def _pick_case(
    message: Message, query: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    # Staff find hidden cases too: a new case may have a hearing before it is published.
    case_id = await case_picker.find_one(
        message, query, state, HearingForm.case, _nav(back=False), session, visitor, hidden_too=True
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
    if case is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    await state.set_state(HearingForm.day)
    await state.update_data(case=case.id, hearing=callback_data.hearing, mode=callback_data.action)
    await show(
        callback, _("The date of the hearing, as the court has it (YYYY-MM-DD):"), _nav(back=False)
    )


async def day_step(message: Message, state: FSMContext) -> None:
    try:
        day = dt.date.fromisoformat((message.text or "").strip())
    except ValueError:
        await message.answer(
            _("That is not a date. Please write it like 2026-12-10."), reply_markup=_nav()
        )
        return
    if day < dt.date.today() - dt.timedelta(days=1):
        await message.answer(
            _("That date has passed. Please send a date ahead."), reply_markup=_nav()
        )
        return
    await state.update_data(day=day.isoformat())
    await state.set_state(HearingForm.time)
    await message.answer(_("The time, court's local time (HH:MM):"), reply_markup=_nav())


async def time_step(message: Message, state: FSMContext, session: AsyncSession) -> None:
    try:
        at = dt.time.fromisoformat((message.text or "").strip())
    except ValueError:
        await message.answer(
            _("That is not a time. Please write it like 10:30."), reply_markup=_nav()
        )
        return
    data = await state.get_data()
    case = await cases.by_id(session, int(data["case"]))
    if case is None:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    starts, _tz = hearings.court_time(case, dt.date.fromisoformat(data["day"]), at)
    if starts <= dt.datetime.now(dt.UTC):
        await message.answer(
            _("That moment has passed. Please send a time ahead."), reply_markup=_nav()
        )
        return
    await state.update_data(time=at.isoformat(timespec="minutes"))
    if data.get("mode") == "move":
        await _confirm(message, state, session)
        return
    await state.set_state(HearingForm.court)
    await message.answer(_("Which court? (for example: Tashkent City Court)"), reply_markup=_nav())


async def court_step(message: Message, state: FSMContext) -> None:
    court = " ".join((message.text or "").split())
    if not court or len(court) > hearings.MAX_COURT:
        await message.answer(
            _("Please send the court's name in at most 300 characters."), reply_markup=_nav()
        )
        return
    await state.update_data(court=court)
    await state.set_state(HearingForm.kind)
    kb = InlineKeyboardBuilder()
    for kind in HearingKind:
        kb.button(
            text=str(views.HEARING_KINDS[kind.value]),
            callback_data=HearingCb(action="kind", value=kind.value),
        )
    kb.button(text=_("« Back"), callback_data=HearingCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=HearingCb(action="stop"))
    kb.adjust(1)
    await message.answer(_("What kind of hearing?"), reply_markup=kb.as_markup())


async def kind_step(
    callback: CallbackQuery, callback_data: HearingCb, state: FSMContext, session: AsyncSession
) -> None:
    if callback_data.value not in {k.value for k in HearingKind}:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.update_data(kind=callback_data.value)
    await _confirm(callback, state, session)


async def _confirm(
    event: Message | CallbackQuery, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    case = await cases.by_id(session, int(data["case"]))
    assert case is not None and case.id is not None
    await state.set_state(HearingForm.confirm)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Save"), callback_data=HearingCb(action="save"))
    kb.button(text=_("« Back"), callback_data=HearingCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=HearingCb(action="stop"))
    kb.adjust(1, 2)
    if data.get("mode") == "cancel":
        await show(
            event,
            _("Cancel this hearing? Followers who were reminded of it will be told."),
            kb.as_markup(),
        )
        return
    starts, tz = hearings.court_time(
        case, dt.date.fromisoformat(data["day"]), dt.time.fromisoformat(data["time"])
    )
    if data.get("mode") == "move":
        text = _("Move the hearing to {when}? Followers who were reminded will be told.").format(
            when=views.moment(starts, tz)
        )
    else:
        preview = Hearing(
            case_id=case.id, starts_at=starts, timezone=tz, court=data["court"], kind=data["kind"]
        )
        text = (
            _("Schedule this hearing? Followers will be reminded before it.")
            + "\n\n"
            + views.hearing_line(preview, tz)
        )
    await show(event, text, kb.as_markup())


async def cancel_start(
    callback: CallbackQuery, callback_data: HearingCb, state: FSMContext, session: AsyncSession
) -> None:
    hearing = await hearings.by_id(session, callback_data.hearing)
    if hearing is None or hearing.case_id != callback_data.case:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.set_data({"case": hearing.case_id, "hearing": hearing.id, "mode": "cancel"})
    await _confirm(callback, state, session)


async def save(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    data = await state.get_data()
    await state.clear()
    case = await cases.by_id(session, int(data.get("case", 0)))
    if case is None or visitor.person is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    actor = staff.actor_of(cipher, visitor.person.id)
    try:
        if data["mode"] == "cancel":
            hearing = await hearings.by_id(session, int(data["hearing"]))
            if hearing is not None:
                await hearings.cancel(session, hearing, actor)
            notice = _("The hearing is cancelled.")
        else:
            starts, tz = hearings.court_time(
                case, dt.date.fromisoformat(data["day"]), dt.time.fromisoformat(data["time"])
            )
            if data["mode"] == "move":
                hearing = await hearings.by_id(session, int(data["hearing"]))
                if hearing is None:
                    raise hearings.HearingError("gone")
                await hearings.move(session, hearing, starts, actor)
                notice = _("The hearing is moved.")
            else:
                await hearings.schedule(
                    session, case, starts, tz, data["court"], data["kind"], actor
                )
                notice = _("The hearing is scheduled.")
    except hearings.HearingError:
        await callback.answer(_("That moment has passed. Nothing was changed."), show_alert=True)
        return
    await _case_screen(callback, session, visitor, case, notice)


def _prompt(step: State) -> str:
    if step == HearingForm.day:
        return _("The date of the hearing, as the court has it (YYYY-MM-DD):")
    if step == HearingForm.time:
        return _("The time, court's local time (HH:MM):")
    return _("Which court? (for example: Tashkent City Court)")


async def back(callback: CallbackQuery, state: FSMContext) -> None:
    current = await state.get_state()
    mode = (await state.get_data()).get("mode")
    steps = {
        HearingForm.time.state: HearingForm.day,
        HearingForm.court.state: HearingForm.time,
        HearingForm.kind.state: HearingForm.court,
        HearingForm.confirm.state: HearingForm.time if mode == "move" else HearingForm.court,
    }
    previous = steps.get(current or "")
    if previous is None or mode == "cancel":
        await stop(callback, state)
        return
    await state.set_state(previous)
    await show(callback, _prompt(previous), _nav(back=previous != HearingForm.day))


async def stop(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(event, _("Stopped. Nothing was changed."))


async def stop_command(message: Message, state: FSMContext) -> None:
    await stop(message, state)


def router() -> Router:
    r = Router(name="staff-hearings")
    r.message.register(stop_command, Command("cancel"), EDITORS, StateFilter(HearingForm))
    r.message.register(hearing_command, Command("hearing"), EDITORS)
    r.message.register(case_step, HearingForm.case, F.text, NOT_COMMAND, EDITORS)
    r.message.register(day_step, HearingForm.day, F.text, NOT_COMMAND, EDITORS)
    r.message.register(time_step, HearingForm.time, F.text, NOT_COMMAND, EDITORS)
    r.message.register(court_step, HearingForm.court, F.text, NOT_COMMAND, EDITORS)
    r.callback_query.register(start_button, HearingCb.filter(F.action == "start"), EDITORS)
    r.callback_query.register(start_form, HearingCb.filter(F.action.in_({"new", "move"})), EDITORS)
    r.callback_query.register(cancel_start, HearingCb.filter(F.action == "cancel"), EDITORS)
    r.callback_query.register(
        kind_step, HearingCb.filter(F.action == "kind"), HearingForm.kind, EDITORS
    )
    r.callback_query.register(
        save, HearingCb.filter(F.action == "save"), HearingForm.confirm, EDITORS
    )
    r.callback_query.register(back, HearingCb.filter(F.action == "back"), EDITORS)
    r.callback_query.register(stop, HearingCb.filter(F.action == "stop"), EDITORS)
    return r
