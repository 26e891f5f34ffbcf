"""/check and "🔎 Check a draft": a supporter pastes a draft letter and hears what a
prison censor is likely to stop, what could put the prisoner at risk, and whether the
language and the length are right.

The draft is read once, in memory, and forgotten: the dialogue's state holds only the
case id, nothing is written to the database, nothing of it is logged. The draft stays in
the person's own chat, so the answer offers to delete it from there too.
"""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel import Locale, UnknownLocaleError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import LANGUAGE_NAMES
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CheckCb, LetterCb, MenuCb
from bot.services import letter_check
from bot.services.identity import Visitor
from bot.services.letter_check import LIMITS, RISK, Findings, Hit, Target
from db.models import LetterKind
from handlers.common import show
from handlers.filters import NOT_COMMAND

# Room for headings and the closing lines within Telegram's 4096 characters.
MAX_REPLY = 3300
WORDS_PER_LINE = 5


class CheckForm(StatesGroup):
    draft = State()  # data: {"case": id or 0}, never the draft


def _stop_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Stop"), callback_data=CheckCb(action="stop"))
    return kb.as_markup()


def _result_keyboard(case_id: int, draft_message: int | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔎 Check another draft"), callback_data=CheckCb(action="again", case=case_id))
    if draft_message is not None:
        kb.button(
            text=_("🧹 Delete my draft"),
            callback_data=CheckCb(action="wipe", case=case_id, msg=draft_message),
        )
    if case_id:
        kb.button(
            text=_("« Back to the letter"),
            callback_data=LetterCb(action="show", id=case_id, kind=LetterKind.CARD),
        )
    else:
        kb.button(text=_("« Menu"), callback_data=MenuCb(to="start"))
    kb.adjust(1)
    return kb.as_markup()


def _language(locale: str) -> str:
    """A language's name in the reader's language ("Uzbek", "узбекский")."""
    try:
        name = Locale.parse(locale).get_display_name(Locale.parse(get_i18n().current_locale))
    except (ValueError, UnknownLocaleError):
        name = None
    return name or LANGUAGE_NAMES.get(locale, locale)


def _prompt(target: Target | None) -> str:
    if target is None:
        title = _("🔎 <b>Check a draft letter</b>")
    else:
        title = _("🔎 <b>Check a draft for {name}</b>").format(name=escape(target.name))
    lines = [
        title,
        _(
            "Paste the text of your letter here, up to {limit} characters. I will point out "
            "what a prison censor is likely to stop, what could put the prisoner at risk, and "
            "whether the language and the length are right."
        ).format(limit=views.number(LIMITS.max_chars)),
    ]
    if target is not None and target.letter_locale:
        lines.append(
            _("The facility accepts letters in {language}.").format(
                language=_language(target.letter_locale)
            )
        )
    lines.append(_("I read your draft once and keep nothing: it is not saved anywhere."))
    return "\n\n".join(lines)


def _general_tips() -> str:
    return _(
        "Prison staff read every letter. Warm, simple words about everyday life, books, "
        "nature and family reach people best; leave out the case, politics and the names "
        "of organisations."
    )


def _default_advice(reason: str) -> str:
    if reason == RISK:
        return _("This could be used against the prisoner. Leave it out.")
    return _("Censors usually stop this. Leave it out and write about everyday life instead.")


def _hit_lines(hits: tuple[Hit, ...]) -> list[str]:
    """One line per piece of advice, with the words it is about, in the draft's order."""
    groups: dict[str, list[str]] = {}
    for hit in hits:
        advice = hit.advice or _default_advice(hit.reason)
        words = groups.setdefault(advice, [])
        for form in hit.forms or (hit.found,):
            if form.casefold() not in map(str.casefold, words):
                words.append(form)
    lines = []
    for advice, words in groups.items():
        shown = ", ".join(escape(w) for w in words[:WORDS_PER_LINE])
        lines.append(f"• <b>{shown}</b> — {escape(advice)}")
    return lines


def findings_text(findings: Findings) -> str:
    """The checker's answer, kindly worded; every word from the draft escaped."""
    closing = _(
        "I have not saved your draft. It is still in this chat: the button below deletes it."
    )
    if findings.clean:
        return "\n\n".join([_("✅ <b>Nothing stood out.</b>"), _general_tips(), closing])
    sections: list[tuple[str, list[str]]] = []
    if findings.censor:
        sections.append(
            (_("⛔ <b>The censor is likely to stop the letter because of:</b>"),
             _hit_lines(findings.censor))
        )  # fmt: skip
    if findings.risk:
        sections.append(
            (_("⚠️ <b>This could put the prisoner at risk:</b>"), _hit_lines(findings.risk))
        )
    notes: list[str] = []
    if findings.wrong_language and findings.required and findings.language:
        notes.append(
            _(
                "🌐 <b>Language.</b> The facility accepts letters in {required}, and your "
                "draft seems to be in {language}. A letter the censor cannot read is often "
                "held back or returned: write it in {required}, or keep it short and simple."
            ).format(required=_language(findings.required), language=_language(findings.language))
        )
    if findings.mixed:
        notes.append(
            _(
                "🔤 <b>Another alphabet.</b> Part of your draft is in another alphabet. "
                "Censors hold back passages they cannot read; keep the whole letter in one "
                "language."
            )
        )
    if findings.contacts:
        notes.append(
            _(
                "🔗 <b>Links and contact details.</b> Censors cut out links, and an e-mail "
                "address, a phone number or a username can identify you or others. Leave "
                "them out."
            )
        )
    if findings.too_long:
        notes.append(
            ngettext(
                "📏 <b>Length.</b> Your draft is about {pages} handwritten page ({chars} "
                "characters). Thank you for having so much to say! Censors read every line, "
                "and long letters wait longer or go missing; one or two pages of warm words "
                "are plenty.",
                "📏 <b>Length.</b> Your draft is about {pages} handwritten pages ({chars} "
                "characters). Thank you for having so much to say! Censors read every line, "
                "and long letters wait longer or go missing; one or two pages of warm words "
                "are plenty.",
                findings.pages,
            ).format(pages=views.number(findings.pages), chars=views.number(findings.chars))
        )
    parts = [_("🔎 <b>What I noticed in your draft</b>")]
    used = len(parts[0]) + sum(len(n) for n in notes) + len(closing)
    left_off = 0
    for heading, lines in sections:
        kept: list[str] = []
        for line in lines:
            if used + len(heading) + len(line) > MAX_REPLY:
                left_off += 1
                continue
            kept.append(line)
            used += len(line) + 1
        if kept:
            parts.append("\n".join([heading, *kept]))
            used += len(heading)
    if left_off:
        parts.append(
            ngettext(
                "…and {count} more thing like these.",
                "…and {count} more things like these.",
                left_off,
            ).format(count=views.number(left_off))
        )
    parts.extend(notes)
    parts.append(_("Change what you can and check again if you like."))
    parts.append(closing)
    return "\n\n".join(parts)


async def _ask(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
) -> None:
    target = await letter_check.target(session, case_id, visitor.chain) if case_id else None
    if case_id and target is None:
        if isinstance(event, CallbackQuery):
            await event.answer(_("This person is not receiving letters now."), show_alert=True)
        else:
            await event.answer(_("This person is not receiving letters now."))
        return
    await state.set_state(CheckForm.draft)
    await state.set_data({"case": target.case_id if target else 0})
    text, markup = _prompt(target), _stop_keyboard()
    # From a button the prompt comes as a new message: the letter text above stays to copy.
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.answer(text, reply_markup=markup)
        elif event.bot is not None:
            await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
        return
    await event.answer(text, reply_markup=markup)


async def _answer(
    message: Message, draft: str, case_id: int, session: AsyncSession, visitor: Visitor
) -> None:
    target = await letter_check.target(session, case_id, visitor.chain) if case_id else None
    findings = await letter_check.check_draft(
        session,
        draft,
        visitor.locale,
        target.letter_locale if target else None,
        country=target.country if target else None,
    )
    await message.answer(
        findings_text(findings),
        reply_markup=_result_keyboard(target.case_id if target else 0, message.message_id),
    )


async def check_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    await state.clear()
    if command.args:
        # "/check <draft>" in one message: checked at once, with no case.
        await _answer(message, command.args, 0, session, visitor)
        return
    await _ask(message, state, session, visitor, 0)


async def check_button(
    callback: CallbackQuery,
    callback_data: LetterCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if callback_data.kind != LetterKind.CARD:
        await callback.answer(_("This button is no longer valid."))
        return
    await _ask(callback, state, session, visitor, callback_data.id)


async def again_button(
    callback: CallbackQuery,
    callback_data: CheckCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    await _ask(callback, state, session, visitor, callback_data.case)


async def draft_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    draft = message.text or ""
    if len(draft) > LIMITS.max_chars:
        # The state stays: Telegram splits a longer text, and its next part arrives here too.
        await message.answer(
            _(
                "This is more than {limit} characters, too long to check at once, and long "
                "for a letter too: one or two pages are plenty. Please send a shorter version."
            ).format(limit=views.number(LIMITS.max_chars)),
            reply_markup=_stop_keyboard(),
        )
        return
    case_id = int((await state.get_data()).get("case", 0))
    await state.clear()
    await _answer(message, draft, case_id, session, visitor)


async def not_text(message: Message) -> None:
    await message.answer(
        _("Please paste the text of your draft as a message, up to {limit} characters.").format(
            limit=views.number(LIMITS.max_chars)
        ),
        reply_markup=_stop_keyboard(),
    )


async def stop(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(event, _("Stopped. Nothing was checked or kept."))


async def stop_command(message: Message, state: FSMContext) -> None:
    await stop(message, state)


async def wipe_button(callback: CallbackQuery, callback_data: CheckCb, bot: Bot) -> None:
    """Delete the pasted draft. Only in the presser's own chat: a forged message id can
    reach nothing but their own messages."""
    chat_id = callback.message.chat.id if callback.message is not None else callback.from_user.id
    try:
        await bot.delete_message(chat_id=chat_id, message_id=callback_data.msg)
    except TelegramBadRequest:
        await callback.answer(
            _(
                "I could not delete it: Telegram lets me do that only for 48 hours. Please "
                "delete it yourself."
            ),
            show_alert=True,
        )
        return
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=_result_keyboard(callback_data.case, None)
        )
    await callback.answer(_("Your draft is deleted from this chat."))


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="letter-check")
    r.message.register(stop_command, Command("cancel"), StateFilter(CheckForm))
    r.message.register(check_command, Command("check"))
    r.message.register(draft_step, CheckForm.draft, F.text, NOT_COMMAND)
    r.message.register(not_text, CheckForm.draft, ~F.text)
    r.callback_query.register(check_button, LetterCb.filter(F.action == "check"))
    r.callback_query.register(again_button, CheckCb.filter(F.action == "again"))
    r.callback_query.register(wipe_button, CheckCb.filter(F.action == "wipe"))
    r.callback_query.register(stop, CheckCb.filter(F.action == "stop"))
    return r
