"""/broadcast: compose, target, preview and schedule a broadcast, in a dialogue.

The steps: the audience (and which country, language or cases), a photo or none, one
version per language (its text, then its link buttons), when, and a confirmation with a
preview. The draft lives in the FSM storage (memory, or Redis with hashed keys) until it
is confirmed; only then is anything written, and messages reach people only through the
outbox. Back follows the way the dialogue came, Stop and /cancel end it with nothing sent
(handlers/dialog.py). Approval is handlers/staff/broadcast_review.py, what happens while
it goes handlers/staff/broadcast_control.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import composer_views as cviews
from bot.presentation.callbacks import BroadcastCb
from bot.services import broadcasts, cases, staff
from bot.services.broadcasts import BroadcastError, Draft, Version
from bot.services.identity import Visitor
from config import Settings
from config.settings import SUPPORTED_LOCALES
from db.models import Audience
from handlers.common import show
from handlers.dialog import Dialog, Event, StepScreen
from handlers.filters import BROADCASTERS
from handlers.staff import case_picker
from handlers.staff.broadcast_control import post_progress
from handlers.staff.broadcast_review import send_preview

# The audiences whose value is a list of cases, named by the composer.
BY_CASE = {Audience.CASES, Audience.FAMILY}


class BroadcastForm(StatesGroup):
    audience = State()
    value = State()  # which country, or which language
    cases = State()
    photo = State()
    language = State()
    text = State()
    buttons = State()
    versions = State()
    when = State()
    when_at = State()
    confirm = State()


class Composing(BaseModel):
    """What the dialogue holds: the broadcast as composed so far (the service's `Draft`),
    and the version being written: its language, then its text until its buttons come."""

    broadcast: Draft = Field(default_factory=lambda: Draft(audience=""))
    language: str = ""
    text: str = ""


dialog = Dialog(
    "staff-broadcast-compose",
    BroadcastForm,
    Composing,
    BroadcastCb,
    BROADCASTERS,
    stopped=lambda: _("Stopped. Nothing was sent."),
    endings={
        "submitted": lambda _count: _(
            "This broadcast was already submitted. The staff menu's list of broadcasts "
            "shows where it is."
        )
    },
)


def _limit(draft: Draft) -> int:
    return broadcasts.text_limit(with_photo=draft.photo is not None)


# The steps whose question depends on the draft alone; Back is offered wherever the
# dialogue has a way back (everywhere but the first step).
QUESTIONS: dict[State, Callable[[Composing], cviews.Question]] = {
    BroadcastForm.audience: lambda _c: cviews.audience_question(),
    BroadcastForm.value: lambda c: cviews.value_question(c.broadcast.audience),
    BroadcastForm.photo: lambda _c: cviews.photo_question(),
    BroadcastForm.language: lambda c: cviews.language_question(
        c.broadcast.versions,
        photo_attached=c.broadcast.photo is not None and not c.broadcast.versions,
    ),
    BroadcastForm.text: lambda c: cviews.text_question(c.language, _limit(c.broadcast)),
    BroadcastForm.buttons: lambda _c: cviews.buttons_question(),
    BroadcastForm.versions: lambda c: cviews.versions_summary(c.broadcast.versions),
    BroadcastForm.when: lambda _c: cviews.when_question(),
}


def _ask(question: Callable[[Composing], cviews.Question]) -> StepScreen:
    async def ask(event: Event, state: FSMContext, step: State, **_deps: Any) -> None:
        text, kb = question(await dialog.draft(state))
        await show(event, text, dialog.nav(back=await dialog.can_go_back(state), above=kb))

    return ask


for _step, _question in QUESTIONS.items():
    dialog.screen(_step)(_ask(_question))


# ---------------------------------------------------------------- audience


async def audience_chosen(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    audience = callback_data.value
    if audience not in {a.value for a in Audience}:
        await callback.answer(_("This button is no longer valid."))
        return
    # A new choice of audience begins the broadcast anew.
    await dialog.keep(state, Composing(broadcast=Draft(audience=audience)))
    if audience == Audience.ALL:
        await dialog.go(callback, state, BroadcastForm.photo)
    elif audience in BY_CASE:
        await dialog.go(callback, state, BroadcastForm.cases, session=session, visitor=visitor)
    else:
        await dialog.go(callback, state, BroadcastForm.value)


async def value_chosen(
    callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext
) -> None:
    composing = await dialog.draft(state)
    draft = composing.broadcast
    allowed = cases.COUNTRIES if draft.audience == Audience.COUNTRY else SUPPORTED_LOCALES
    if callback_data.value not in allowed:
        await callback.answer(_("This button is no longer valid."))
        return
    draft.audience_value = callback_data.value
    await dialog.keep(state, composing)
    await dialog.go(callback, state, BroadcastForm.photo)


@dialog.screen(BroadcastForm.cases)
async def _ask_cases(
    event: Event,
    state: FSMContext,
    step: State,
    *,
    session: AsyncSession,
    visitor: Visitor,
    **_deps: Any,
) -> None:
    """The question; once cases are chosen (for followers: there may be several), their
    names and a way on."""
    draft = (await dialog.draft(state)).broadcast
    if draft.audience == Audience.FAMILY or not draft.audience_value:
        await show(event, case_picker.question(), dialog.nav())
        return
    text, kb = cviews.chosen_cases(await broadcasts.case_names(session, draft, visitor.chain))
    await show(event, text, dialog.nav(above=kb))


async def case_named(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    case_id = await case_picker.find_one(
        message, message.text or "", state, BroadcastForm.cases, dialog.nav(), session, visitor
    )
    if case_id is None:
        return
    composing = await dialog.draft(state)
    broadcasts.choose_case(composing.broadcast, case_id)
    await dialog.keep(state, composing)
    if composing.broadcast.audience == Audience.FAMILY:
        await dialog.go(message, state, BroadcastForm.photo)
        return
    await _ask_cases(message, state, BroadcastForm.cases, session=session, visitor=visitor)


async def cases_done(callback: CallbackQuery, state: FSMContext) -> None:
    if not (await dialog.draft(state)).broadcast.audience_value:
        await callback.answer(_("Choose at least one case first."))
        return
    await dialog.go(callback, state, BroadcastForm.photo)


# ---------------------------------------------------------------- content


async def photo_sent(message: Message, state: FSMContext) -> None:
    assert message.photo
    composing = await dialog.draft(state)
    composing.broadcast.photo = message.photo[-1].file_id
    await dialog.keep(state, composing)
    await dialog.go(message, state, BroadcastForm.language)


async def photo_skipped(callback: CallbackQuery, state: FSMContext) -> None:
    composing = await dialog.draft(state)
    composing.broadcast.photo = None
    await dialog.keep(state, composing)
    await dialog.go(callback, state, BroadcastForm.language)


async def language_chosen(
    callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext
) -> None:
    if callback_data.value not in SUPPORTED_LOCALES:
        await callback.answer(_("This button is no longer valid."))
        return
    composing = await dialog.draft(state)
    composing.language = callback_data.value
    await dialog.keep(state, composing)
    await dialog.go(callback, state, BroadcastForm.text)


async def text_sent(message: Message, state: FSMContext) -> None:
    composing = await dialog.draft(state)
    try:
        broadcasts.check_text(len(message.text or ""), composing.broadcast.photo is not None)
    except BroadcastError:
        too_long = cviews.too_long(_limit(composing.broadcast))
        await message.answer(too_long, reply_markup=dialog.nav())
        return
    # html_text turns the composer's formatting into Telegram HTML and escapes everything
    # else, so tags typed by mistake arrive as the characters that were typed.
    composing.text = message.html_text
    await dialog.keep(state, composing)
    await dialog.go(message, state, BroadcastForm.buttons)


async def buttons_sent(message: Message, state: FSMContext) -> None:
    try:
        buttons = broadcasts.parse_buttons(message.text or "")
    except BroadcastError:
        text, kb = cviews.buttons_unreadable()
        await message.answer(text, reply_markup=dialog.nav(above=kb))
        return
    await _add_version(message, state, buttons)


async def buttons_skipped(callback: CallbackQuery, state: FSMContext) -> None:
    await _add_version(callback, state, [])


async def _add_version(event: Event, state: FSMContext, buttons: list[tuple[str, str]]) -> None:
    composing = await dialog.draft(state)
    composing.broadcast.versions[composing.language] = Version(composing.text, buttons)
    await dialog.keep(state, composing)
    # A version is written: its language, text and buttons leave the way back, which goes
    # from the versions to the photo (and from another language's choice to the versions).
    await dialog.go(event, state, BroadcastForm.versions, round_from=BroadcastForm.language)


# ---------------------------------------------------------------- when and confirm


async def _send_at(event: Event, state: FSMContext, at: dt.datetime | None, **data: Any) -> None:
    """Keep the moment chosen (None: now) and ask for the confirmation."""
    composing = await dialog.draft(state)
    composing.broadcast.send_at = at
    await dialog.keep(state, composing)
    await dialog.go(event, state, BroadcastForm.confirm, **data)


async def send_now(callback: CallbackQuery, state: FSMContext, **data: Any) -> None:
    await _send_at(callback, state, None, **data)


@dialog.screen(BroadcastForm.when_at)
async def _ask_time(
    event: Event, state: FSMContext, step: State, *, visitor: Visitor, **_deps: Any
) -> None:
    await show(event, cviews.time_question(visitor.timezone), dialog.nav())


async def time_sent(message: Message, state: FSMContext, visitor: Visitor, **data: Any) -> None:
    try:
        at = broadcasts.send_time(message.text or "", visitor.timezone)
    except BroadcastError as exc:
        problem = (
            _("That moment has passed. Please send a time ahead.")
            if exc.reason == "past"
            else _("That is not a date and time. Please write it like 10.12.2026 18:00.")
        )
        await message.answer(problem, reply_markup=dialog.nav())
        return
    await _send_at(message, state, at, visitor=visitor, **data)


@dialog.screen(BroadcastForm.confirm)
async def _confirm(
    event: Event,
    state: FSMContext,
    step: State,
    *,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
    **_deps: Any,
) -> None:
    text, markup = await _confirm_screen(await dialog.draft(state), session, visitor, settings)
    await show(event, text, markup)


async def _confirm_screen(
    composing: Composing, session: AsyncSession, visitor: Visitor, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    draft = composing.broadcast
    count = await broadcasts.audience_size(session, draft)
    text, kb = cviews.ready(
        draft,
        count=count,
        discreet=await broadcasts.discreet_size(session, draft),
        approval=broadcasts.needs_approval(
            draft.audience, count, settings.broadcast_approval_threshold
        ),
        names=await broadcasts.case_names(session, draft, visitor.chain),
        zone=visitor.timezone,
    )
    return text, dialog.nav(above=kb)


async def preview(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
    bot: Bot,
) -> None:
    composing = await dialog.draft(state)
    draft = composing.broadcast
    # The choice again below the previews, where the composer now is.
    choice = await _confirm_screen(composing, session, visitor, settings)
    await send_preview(bot, callback.from_user.id, draft.versions, draft.photo, choice)
    await callback.answer()


async def submit(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    settings: Settings,
    bot: Bot,
) -> None:
    draft = (await dialog.draft(state)).broadcast
    if draft.send_at is None and not await broadcasts.audience_size(session, draft):
        # An older "Send" on a screen from before the audience emptied.
        await callback.answer(_("Nobody would receive it now. Nothing was sent."), show_alert=True)
        return
    person = await visitor.ensure()
    assert person.id is not None
    try:
        done = await broadcasts.submit(
            session,
            draft,
            author_id=person.id,
            actor=staff.actor_of(cipher, person.id),
            threshold=settings.broadcast_approval_threshold,
            paid=settings.paid_broadcasts,
        )
    except BroadcastError as exc:
        notice = (
            _("That moment has passed. Please choose the time again.")
            if exc.reason == "past"
            else _("Add at least one version first.")
        )
        await callback.answer(notice, show_alert=True)
        return
    await dialog.finish(state, "submitted")
    await show(callback, cviews.submitted(done, visitor.timezone))
    if done.started:
        await post_progress(bot, session, done.broadcast, callback.from_user.id)


form = BroadcastForm
# The /admin menu's way in ("new"), and the list's way back, is /broadcast's.
dialog.on_message(dialog.starts_at(form.audience), Command("broadcast"))
dialog.on_text(form.cases, case_named)
dialog.on_message(photo_sent, form.photo, F.photo)
dialog.on_text(form.text, text_sent)
dialog.on_text(form.buttons, buttons_sent)
dialog.on_text(form.when_at, time_sent)
dialog.on_button("new", dialog.starts_at(form.audience))
dialog.on_button("aud", audience_chosen, form.audience)
dialog.on_button("val", value_chosen, form.value)
dialog.on_button("cases-done", cases_done, form.cases)
dialog.on_button("photo-skip", photo_skipped, form.photo)
dialog.on_button("lang", language_chosen, form.language)
dialog.on_button("btn-skip", buttons_skipped, form.buttons)
dialog.on_button("ver-more", dialog.goes_to(form.language), form.versions)
dialog.on_button("ver-done", dialog.goes_to(form.when), form.versions)
dialog.on_button("now", send_now, form.when)
dialog.on_button("later", dialog.goes_to(form.when_at), form.when)
dialog.on_button("preview", preview, form.confirm)
dialog.on_button("submit", submit, form.confirm)


def router() -> Router:
    """Admins and broadcasters only: to anyone else /broadcast is an unknown command and
    the buttons are stale ones."""
    return dialog.router()
