"""/broadcast: compose, target, preview, approve, schedule, send, pause and cancel.

The draft lives in the FSM storage (memory, or Redis with hashed keys) until it is
confirmed; only then is anything written. Messages reach people only through the outbox.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.delivery.worker import Rendered
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import broadcast_views as bviews
from bot.presentation import views
from bot.presentation.callbacks import BroadcastCb
from bot.services import broadcasts, cases, staff
from bot.services.broadcasts import BroadcastError, Draft, Version
from bot.services.identity import Visitor
from config import Settings
from config.settings import SUPPORTED_LOCALES
from db.models import Audience, Broadcast, BroadcastStatus, StaffRole
from handlers.common import show
from handlers.filters import HasRole
from handlers.staff import case_picker

BROADCASTERS = HasRole(StaffRole.ADMIN.value, StaffRole.BROADCASTER.value)
MAX_CASES = 10
# A command typed in the middle of the dialogue is a command, not an answer to the step.
NOT_COMMAND = ~F.text.startswith("/")


class BroadcastForm(StatesGroup):
    audience = State()
    cases = State()
    photo = State()
    language = State()
    text = State()
    buttons = State()
    versions = State()
    when = State()
    when_at = State()
    confirm = State()


def _nav(*extra: tuple[str, BroadcastCb], back: bool = True) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for label, data in extra:
        kb.button(text=label, callback_data=data)
    if back:
        kb.button(text=_("« Back"), callback_data=BroadcastCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=BroadcastCb(action="stop"))
    kb.adjust(*([1] * len(extra)), 2)
    return kb.as_markup()


async def _draft(state: FSMContext) -> Draft:
    return Draft.from_state(await state.get_data())


async def _save(state: FSMContext, draft: Draft, **extra: object) -> None:
    await state.update_data({**draft.to_state(), **extra})


async def _case_names(session: AsyncSession, draft: Draft, visitor: Visitor) -> list[str]:
    if draft.audience not in {Audience.CASES.value, Audience.FAMILY.value}:
        return []
    names = []
    for part in draft.audience_value.split(","):
        if part:
            texts = await cases.texts_for(session, int(part))
            if texts:
                names.append(cases.pick_text(texts, visitor.chain).name)
    return names


# ---------------------------------------------------------------- audience


async def broadcast_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(BroadcastForm.audience)
    await _audience_screen(message)


async def new_button(callback: CallbackQuery, state: FSMContext) -> None:
    """The /admin menu's way in: the same first step as /broadcast."""
    await state.clear()
    await state.set_state(BroadcastForm.audience)
    await _audience_screen(callback)


async def _audience_screen(event: Message | CallbackQuery) -> None:
    kb = InlineKeyboardBuilder()
    choices = (
        (Audience.ALL, _("Everyone: all supporters")),
        (Audience.CASES, _("Followers of chosen cases")),
        (Audience.COUNTRY, _("Followers of a country's cases")),
        (Audience.LANGUAGE, _("People who read in a language")),
        (Audience.FAMILY, _("Family members of a case")),
    )
    for audience, label in choices:
        kb.button(text=label, callback_data=BroadcastCb(action="aud", value=audience.value))
    kb.button(text=_("📋 Waiting and running"), callback_data=BroadcastCb(action="list"))
    kb.button(text=_("✖ Stop"), callback_data=BroadcastCb(action="stop"))
    kb.adjust(1)
    await show(event, _("<b>New broadcast</b>\nWho should receive it?"), kb.as_markup())


async def audience_chosen(
    callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext
) -> None:
    audience = callback_data.value
    if audience not in {a.value for a in Audience}:
        await callback.answer(_("This button is no longer valid."))
        return
    await _save(state, Draft(audience=audience))
    kb = InlineKeyboardBuilder()
    if audience == Audience.ALL.value:
        await _photo_step(callback, state)
        return
    if audience in {Audience.CASES.value, Audience.FAMILY.value}:
        await state.set_state(BroadcastForm.cases)
        await show(callback, _("Which case? Send the person's name or the case's slug."), _nav())
        return
    if audience == Audience.COUNTRY.value:
        for code in cases.COUNTRIES:
            kb.button(
                text=views.country_label(code), callback_data=BroadcastCb(action="val", value=code)
            )
        prompt = _("Which country?")
    else:
        for locale in SUPPORTED_LOCALES:
            kb.button(
                text=LANGUAGE_NAMES[locale], callback_data=BroadcastCb(action="val", value=locale)
            )
        prompt = _("Which language?")
    kb.button(text=_("« Back"), callback_data=BroadcastCb(action="back"))
    kb.adjust(2)
    await show(callback, prompt, kb.as_markup())


async def value_chosen(
    callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext
) -> None:
    draft = await _draft(state)
    allowed = cases.COUNTRIES if draft.audience == Audience.COUNTRY.value else SUPPORTED_LOCALES
    if callback_data.value not in allowed:
        await callback.answer(_("This button is no longer valid."))
        return
    draft.audience_value = callback_data.value
    await _save(state, draft)
    await _photo_step(callback, state)


async def case_named(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    case_id = await case_picker.find_one(
        message, message.text or "", state, BroadcastForm.cases, _nav(), session, visitor
    )
    if case_id is None:
        return
    draft = await _draft(state)
    chosen = [p for p in draft.audience_value.split(",") if p]
    if str(case_id) not in chosen:
        chosen.append(str(case_id))
    draft.audience_value = ",".join(chosen[:MAX_CASES])
    await _save(state, draft)
    if draft.audience == Audience.FAMILY.value:
        await _photo_step(message, state)
        return
    names = ", ".join(escape(n) for n in await _case_names(session, draft, visitor))
    await message.answer(
        _("Chosen: {names}.\nSend another name, or continue.").format(names=names),
        reply_markup=_nav((_("Continue ▶"), BroadcastCb(action="cases-done"))),
    )


async def cases_done(callback: CallbackQuery, state: FSMContext) -> None:
    if not (await _draft(state)).audience_value:
        await callback.answer(_("Choose at least one case first."))
        return
    await _photo_step(callback, state)


# ---------------------------------------------------------------- content


async def _photo_step(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(BroadcastForm.photo)
    await show(
        event,
        _("Send a photo to go with the message, or skip."),
        _nav((_("No photo ▶"), BroadcastCb(action="photo-skip"))),
    )


async def photo_sent(message: Message, state: FSMContext) -> None:
    assert message.photo
    draft = await _draft(state)
    draft.photo = message.photo[-1].file_id
    await _save(state, draft)
    await _language_step(message, state)


async def photo_skipped(callback: CallbackQuery, state: FSMContext) -> None:
    draft = await _draft(state)
    draft.photo = None
    await _save(state, draft)
    await _language_step(callback, state)


async def _language_step(event: Message | CallbackQuery, state: FSMContext) -> None:
    draft = await _draft(state)
    await state.set_state(BroadcastForm.language)
    kb = InlineKeyboardBuilder()
    for locale in SUPPORTED_LOCALES:
        if locale not in draft.versions:
            kb.button(
                text=LANGUAGE_NAMES[locale], callback_data=BroadcastCb(action="lang", value=locale)
            )
    kb.button(text=_("« Back"), callback_data=BroadcastCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=BroadcastCb(action="stop"))
    kb.adjust(2)
    await show(event, _("Which language is this version in?"), kb.as_markup())


async def language_chosen(
    callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext
) -> None:
    if callback_data.value not in SUPPORTED_LOCALES:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.update_data(current=callback_data.value)
    await state.set_state(BroadcastForm.text)
    await show(callback, _text_prompt(callback_data.value, await _draft(state)), _nav())


def _text_prompt(locale: str, draft: Draft) -> str:
    limit = broadcasts.MAX_CAPTION if draft.photo else broadcasts.MAX_TEXT
    return _(
        "Send the text in {language}, at most {limit} characters. Bold, italic and links "
        "are kept as you format them."
    ).format(language=LANGUAGE_NAMES[locale], limit=views.number(limit))


async def text_sent(message: Message, state: FSMContext) -> None:
    draft = await _draft(state)
    try:
        broadcasts.check_text(len(message.text or ""), draft.photo is not None)
    except BroadcastError:
        limit = broadcasts.MAX_CAPTION if draft.photo else broadcasts.MAX_TEXT
        await message.answer(
            _("That is too long: at most {limit} characters, please.").format(
                limit=views.number(limit)
            ),
            reply_markup=_nav(),
        )
        return
    # html_text turns the composer's formatting into Telegram HTML and escapes everything
    # else, so tags typed by mistake arrive as the characters that were typed.
    await state.update_data(text=message.html_text)
    await state.set_state(BroadcastForm.buttons)
    await message.answer(
        _(
            "Link buttons, one per line, like:\n<code>Sign the petition | https://example.org"
            "</code>\nor continue without buttons."
        ),
        reply_markup=_nav((_("No buttons ▶"), BroadcastCb(action="btn-skip"))),
    )


async def buttons_sent(message: Message, state: FSMContext, session: AsyncSession) -> None:
    try:
        buttons = broadcasts.parse_buttons(message.text or "")
    except BroadcastError:
        await message.answer(
            _(
                "I could not read that. One button per line: a label, a bar, a link starting "
                "with https:// (at most 6 buttons)."
            ),
            reply_markup=_nav((_("No buttons ▶"), BroadcastCb(action="btn-skip"))),
        )
        return
    await _add_version(message, state, buttons)


async def buttons_skipped(callback: CallbackQuery, state: FSMContext) -> None:
    await _add_version(callback, state, [])


async def _add_version(
    event: Message | CallbackQuery, state: FSMContext, buttons: list[tuple[str, str]]
) -> None:
    data = await state.get_data()
    draft = await _draft(state)
    draft.versions[str(data["current"])] = Version(str(data["text"]), buttons)
    await _save(state, draft)
    await _versions_screen(event, state)


async def _versions_screen(event: Message | CallbackQuery, state: FSMContext) -> None:
    draft = await _draft(state)
    await state.set_state(BroadcastForm.versions)
    written = ", ".join(LANGUAGE_NAMES[loc] for loc in draft.versions)
    text = _(
        "Versions so far: {languages}.\nReaders of other languages get Russian, then "
        "English, then whichever version there is."
    ).format(languages=written)
    extra = [(_("Continue ▶"), BroadcastCb(action="ver-done"))]
    if len(draft.versions) < len(SUPPORTED_LOCALES):
        extra.insert(0, (_("➕ Another language"), BroadcastCb(action="ver-more")))
    await show(event, text, _nav(*extra))


async def more_versions(callback: CallbackQuery, state: FSMContext) -> None:
    await _language_step(callback, state)


# ---------------------------------------------------------------- when and confirm


async def versions_done(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(BroadcastForm.when)
    await show(
        callback,
        _("When should it go out?"),
        _nav(
            (_("🚀 Now"), BroadcastCb(action="now")),
            (_("🗓 At a set time"), BroadcastCb(action="later")),
        ),
    )


async def send_now(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
) -> None:
    draft = await _draft(state)
    draft.send_at = None
    await _save(state, draft)
    await _confirm(callback, state, session, visitor, settings)


async def send_later(callback: CallbackQuery, state: FSMContext, visitor: Visitor) -> None:
    await state.set_state(BroadcastForm.when_at)
    await show(
        callback,
        _("Send the date and time in your time zone ({zone}), like 2026-12-10 18:00.").format(
            zone=visitor.timezone
        ),
        _nav(),
    )


async def time_sent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
) -> None:
    try:
        local = dt.datetime.strptime((message.text or "").strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        await message.answer(
            _("That is not a date and time. Please write it like 2026-12-10 18:00."),
            reply_markup=_nav(),
        )
        return
    at = local.replace(tzinfo=ZoneInfo(visitor.timezone)).astimezone(dt.UTC)
    if at <= dt.datetime.now(dt.UTC):
        await message.answer(
            _("That moment has passed. Please send a time ahead."), reply_markup=_nav()
        )
        return
    draft = await _draft(state)
    draft.send_at = at
    await _save(state, draft)
    await _confirm(message, state, session, visitor, settings)


async def _confirm(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
) -> None:
    await state.set_state(BroadcastForm.confirm)
    text, markup = await _confirm_screen(await _draft(state), session, visitor, settings)
    await show(event, text, markup)


async def _confirm_screen(
    draft: Draft, session: AsyncSession, visitor: Visitor, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    count = await broadcasts.audience_size(session, draft)
    approval = broadcasts.needs_approval(
        draft.audience, count, settings.broadcast_approval_threshold
    )
    names = await _case_names(session, draft, visitor)
    when = (
        views.moment(draft.send_at, visitor.timezone) if draft.send_at else _("now, once confirmed")
    )
    lines = [
        _("<b>Ready to send?</b>"),
        _("To: {audience}").format(
            audience=bviews.audience_label(draft.audience, draft.audience_value, names)
        ),
        _("Recipients now: {count}").format(count=views.number(count)),
        _("Languages: {languages}").format(
            languages=", ".join(LANGUAGE_NAMES[loc] for loc in draft.versions)
        ),
        _("Photo: yes") if draft.photo else _("Photo: no"),
        _("When: {when}").format(when=when),
    ]
    discreet = await broadcasts.discreet_size(session, draft)
    if discreet:
        lines.append(
            ngettext(
                "{count} of them reads in discreet mode: they get “{notice}” and see the "
                "message only when they tap to show it.",
                "{count} of them read in discreet mode: they get “{notice}” and see the "
                "message only when they tap to show it.",
                discreet,
            ).format(count=views.number(discreet), notice=bviews.discreet_notice(0).text)
        )
    if approval:
        lines.append(
            _("A second staff member (an admin or a broadcaster) must approve it before it goes.")
        )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("👁 Preview"), callback_data=BroadcastCb(action="preview"))
    kb.button(
        text=_("✅ Ask for approval") if approval else _("✅ Send"),
        callback_data=BroadcastCb(action="submit"),
    )
    kb.button(text=_("« Back"), callback_data=BroadcastCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=BroadcastCb(action="stop"))
    kb.adjust(1, 1, 2)
    return "\n".join(lines), kb.as_markup()


async def _send_preview(
    bot: Bot, chat_id: int, versions: dict[str, Version], photo: str | None
) -> None:
    for locale, version in versions.items():
        await bot.send_message(
            chat_id, _("👁 Preview: {language}").format(language=LANGUAGE_NAMES[locale])
        )
        await _send(bot, chat_id, bviews.message(version, photo))


async def _send(bot: Bot, chat_id: int, rendered: Rendered) -> None:
    if rendered.photo:
        await bot.send_photo(
            chat_id, rendered.photo, caption=rendered.text, reply_markup=rendered.markup
        )
    else:
        await bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)


async def preview(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
    bot: Bot,
) -> None:
    draft = await _draft(state)
    await _send_preview(bot, callback.from_user.id, draft.versions, draft.photo)
    # The choice again below the previews, where the composer now is.
    text, markup = await _confirm_screen(draft, session, visitor, settings)
    await bot.send_message(callback.from_user.id, text, reply_markup=markup)
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
    draft = await _draft(state)
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
    await state.clear()
    broadcast = done.broadcast
    assert broadcast.id is not None
    if done.awaiting_approval:
        text = _(
            "Broadcast #{id} waits for a second staff member's approval. You will be told."
        ).format(id=broadcast.id)
    elif done.started:
        text = _("Broadcast #{id} is on its way.").format(id=broadcast.id)
    else:
        text = _("Broadcast #{id} is scheduled for {when}.").format(
            id=broadcast.id, when=views.moment(broadcast.send_at, visitor.timezone)
        )
    await show(callback, text)
    if done.started:
        await _post_progress(bot, session, broadcast, callback.from_user.id)


async def _post_progress(
    bot: Bot, session: AsyncSession, broadcast: Broadcast, chat_id: int
) -> None:
    """The message that keeps itself up to date (the delivery engine edits it)."""
    assert broadcast.id is not None
    rendered = bviews.progress_message(broadcast.id, await broadcasts.report(session, broadcast))
    sent = await bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)
    broadcast.progress_message_id = sent.message_id


# ---------------------------------------------------------------- back and stop


async def back(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    settings: Settings,
) -> None:
    current = await state.get_state()
    draft = await _draft(state)
    if current in {BroadcastForm.cases.state, BroadcastForm.photo.state, None} or (
        current == BroadcastForm.audience.state
    ):
        await state.set_state(BroadcastForm.audience)
        await _audience_screen(callback)
    elif current == BroadcastForm.language.state:
        if draft.versions:
            await _versions_screen(callback, state)
        else:
            await _photo_step(callback, state)
    elif current == BroadcastForm.text.state:
        await _language_step(callback, state)
    elif current == BroadcastForm.buttons.state:
        data = await state.get_data()
        await state.set_state(BroadcastForm.text)
        await show(callback, _text_prompt(str(data["current"]), draft), _nav())
    elif current == BroadcastForm.versions.state:
        await _language_step(callback, state)
    elif current in {BroadcastForm.when.state}:
        await _versions_screen(callback, state)
    elif current in {BroadcastForm.when_at.state, BroadcastForm.confirm.state}:
        await versions_done(callback, state)
    else:
        await stop(callback, state)


async def stop(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(event, _("Stopped. Nothing was sent."))


# ---------------------------------------------------------------- approval


async def _load(
    callback: CallbackQuery, session: AsyncSession, broadcast_id: int
) -> Broadcast | None:
    broadcast = await broadcasts.by_id(session, broadcast_id)
    if broadcast is None:
        await callback.answer(_("This button is no longer valid."))
    return broadcast


async def review(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    session: AsyncSession,
    visitor: Visitor,
    bot: Bot,
) -> None:
    broadcast = await _load(callback, session, callback_data.id)
    if broadcast is None or broadcast.id is None:
        return
    if broadcast.status != BroadcastStatus.AWAITING.value:
        await callback.answer(_("This broadcast is no longer waiting for approval."))
        return
    person = visitor.person
    if person is None or person.id == broadcast.author_id:
        await callback.answer(
            _("A broadcast needs someone other than its author to approve it."), show_alert=True
        )
        return
    versions = {
        loc: bviews.version_of(v)
        for loc, v in (await broadcasts.versions_of(session, broadcast.id)).items()
    }
    names = await _case_names(session, Draft(broadcast.audience, broadcast.audience_value), visitor)
    await _send_preview(bot, callback.from_user.id, versions, broadcast.photo)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Approve"), callback_data=BroadcastCb(action="approve", id=broadcast.id))
    kb.button(text=_("❌ Decline"), callback_data=BroadcastCb(action="reject", id=broadcast.id))
    kb.adjust(2)
    text = "\n".join(
        [
            _("<b>Broadcast #{id}</b> (the preview is above)").format(id=broadcast.id),
            _("To: {audience}").format(
                audience=bviews.audience_label(broadcast.audience, broadcast.audience_value, names)
            ),
            _("Recipients now: {count}").format(count=views.number(broadcast.recipients)),
            _("When: {when}").format(when=views.moment(broadcast.send_at, visitor.timezone)),
        ]
    )
    await bot.send_message(callback.from_user.id, text, reply_markup=kb.as_markup())
    await callback.answer()


async def decide(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    settings: Settings,
) -> None:
    broadcast = await _load(callback, session, callback_data.id)
    person = visitor.person
    if broadcast is None or person is None or person.id is None:
        return
    actor = staff.actor_of(cipher, person.id)
    try:
        if callback_data.action == "approve":
            started = await broadcasts.approve(
                session,
                broadcast,
                approver_id=person.id,
                actor=actor,
                paid=settings.paid_broadcasts,
            )
            text = (
                _("Approved. Broadcast #{id} is on its way.")
                if started
                else _("Approved. Broadcast #{id} goes out at its set time.")
            ).format(id=broadcast.id)
        else:
            await broadcasts.reject(session, broadcast, approver_id=person.id, actor=actor)
            text = _("Declined. Broadcast #{id} will not be sent.").format(id=broadcast.id)
    except BroadcastError as exc:
        await callback.answer(
            _("A broadcast needs someone other than its author to approve it.")
            if exc.reason == "own"
            else _("This broadcast is no longer waiting for approval."),
            show_alert=True,
        )
        return
    await show(callback, text)


# ---------------------------------------------------------------- while sending


async def control(
    callback: CallbackQuery,
    callback_data: BroadcastCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    broadcast = await _load(callback, session, callback_data.id)
    if broadcast is None or broadcast.id is None or visitor.person is None:
        return
    if callback_data.action == "cancel":
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("⏹ Yes, cancel the rest"),
            callback_data=BroadcastCb(action="cancel-yes", id=broadcast.id),
        )
        kb.button(
            text=_("« Keep sending"), callback_data=BroadcastCb(action="show", id=broadcast.id)
        )
        kb.adjust(1)
        await show(
            callback,
            _("Cancel broadcast #{id}? Nobody who has not received it yet will get it.").format(
                id=broadcast.id
            ),
            kb.as_markup(),
        )
        return
    actor = staff.actor_of(cipher, visitor.person.id)
    action = {
        "pause": broadcasts.pause,
        "resume": broadcasts.resume,
        "cancel-yes": broadcasts.cancel,
    }.get(callback_data.action)
    if action is not None:
        try:
            await action(session, broadcast, actor)
        except BroadcastError:
            await callback.answer(_("This button is no longer valid."))
            return
    report = await broadcasts.report(session, broadcast)
    rendered = bviews.progress_message(broadcast.id, report)
    await show(callback, rendered.text, rendered.markup)


async def listing(callback: CallbackQuery, session: AsyncSession) -> None:
    live = await broadcasts.unfinished(session)
    if not live:
        await callback.answer(_("No broadcast is waiting or running."), show_alert=True)
        return
    lines = [_("<b>Broadcasts waiting and running</b>"), ""]
    kb = InlineKeyboardBuilder()
    for broadcast in live:
        assert broadcast.id is not None
        lines.append(
            _("#{id}: {status}; recipients: {count}; {when}").format(
                id=broadcast.id,
                status=bviews.status_label(broadcast.status),
                count=views.number(broadcast.recipients),
                when=views.moment(broadcast.send_at, "UTC"),
            )
        )
        if broadcast.status == BroadcastStatus.AWAITING.value:
            kb.button(
                text=_("🔎 Review #{id}").format(id=broadcast.id),
                callback_data=BroadcastCb(action="review", id=broadcast.id),
            )
        kb.button(
            text=_("📊 #{id}").format(id=broadcast.id),
            callback_data=BroadcastCb(action="show", id=broadcast.id),
        )
    kb.button(text=_("« Back"), callback_data=BroadcastCb(action="back"))
    kb.adjust(1)
    await show(callback, "\n".join(lines), kb.as_markup())


def router() -> Router:
    r = Router(name="staff-broadcasts")
    who = BROADCASTERS
    form = BroadcastForm
    r.message.register(stop, Command("cancel"), who, StateFilter(form))
    r.message.register(broadcast_command, Command("broadcast"), who)
    r.message.register(case_named, form.cases, F.text, NOT_COMMAND, who)
    r.message.register(photo_sent, form.photo, F.photo, who)
    r.message.register(text_sent, form.text, F.text, NOT_COMMAND, who)
    r.message.register(buttons_sent, form.buttons, F.text, NOT_COMMAND, who)
    r.message.register(time_sent, form.when_at, F.text, NOT_COMMAND, who)

    def on(handler: object, action: str, *filters: object) -> None:
        r.callback_query.register(handler, BroadcastCb.filter(F.action == action), *filters, who)  # type: ignore[arg-type]

    on(new_button, "new")
    on(audience_chosen, "aud", form.audience)
    on(value_chosen, "val", form.audience)
    on(cases_done, "cases-done", form.cases)
    on(photo_skipped, "photo-skip", form.photo)
    on(language_chosen, "lang", form.language)
    on(buttons_skipped, "btn-skip", form.buttons)
    on(more_versions, "ver-more", form.versions)
    on(versions_done, "ver-done", form.versions)
    on(send_now, "now", form.when)
    on(send_later, "later", form.when)
    on(preview, "preview", form.confirm)
    on(submit, "submit", form.confirm)
    on(back, "back")
    on(stop, "stop")
    on(listing, "list")
    on(review, "review")
    on(decide, "approve")
    on(decide, "reject")
    for action in ("pause", "resume", "cancel", "cancel-yes", "show"):
        on(control, action)
    return r
