"""/reports: editors and admins moderate what people sent to the campaign.

The queue lists the reports waiting (new and read), oldest first. Opening one shows its
text and attachment (protected from forwarding) and, the first time, tells the sender it
was read. From there an editor answers privately (the sender hears from "the campaign
team", never from a named person), turns it into a case update, or archives it. The
sender's Telegram identity is never shown, nor anything else about them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from babel.support import LazyProxy
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CaseEditCb, ReportCb
from bot.services import cases, reports, staff
from bot.services.identity import Visitor
from db.models import Report, ReportKind, ReportStatus
from handlers.common import show
from handlers.dialog import Dialog
from handlers.filters import EDITORS
from handlers.staff import updates as staff_updates

KIND_NAMES: dict[str, LazyProxy] = {
    ReportKind.FAMILY: __("👪 from the family"),
    ReportKind.INACCURACY: __("⚠️ an inaccuracy"),
}
STATUS_NAMES = {
    ReportStatus.NEW: __("new"),
    ReportStatus.READ: __("read"),
    ReportStatus.ANSWERED: __("answered"),
    ReportStatus.PUBLISHED: __("made into a case update"),
    ReportStatus.ARCHIVED: __("archived"),
}


class AnswerForm(StatesGroup):
    text = State()


class AnswerDraft(BaseModel):
    """Which report the answer is for."""

    report: int = 0


def _to_list() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("« All reports"), callback_data=ReportCb(action="list"))
    return kb.as_markup()


# One step, but a dialogue like the others: Stop and /cancel end it the same way.
dialog = Dialog(
    "staff-reports",
    AnswerForm,
    AnswerDraft,
    ReportCb,
    EDITORS,
    stopped=lambda: _("Stopped. Nothing was sent."),
    after_stop=_to_list,
    protect=True,
    endings={"answered": lambda _count: _("Your answer to this report was already sent.")},
)


def _kind(kind: str) -> str:
    return str(KIND_NAMES.get(kind, kind))


async def _case_name(session: AsyncSession, case_id: int, visitor: Visitor) -> str:
    texts = await cases.texts_for(session, case_id)
    return cases.pick_text(texts, visitor.chain).name if texts else ""


def _gone() -> str:
    return _("This report no longer exists: its sender may have deleted their data.")


async def _list_screen(
    session: AsyncSession, visitor: Visitor
) -> tuple[str, InlineKeyboardMarkup | None]:
    waiting, total = await reports.queue(session)
    if not waiting:
        return _("No reports are waiting. 🌿"), None
    lines = [
        ngettext(
            "<b>Reports waiting</b>: {count}, oldest first",
            "<b>Reports waiting</b>: {count}, oldest first",
            total,
        ).format(count=views.number(total)),
        "",
    ]
    kb = InlineKeyboardBuilder()
    for report in waiting:
        assert report.id is not None
        name = await _case_name(session, report.case_id, visitor)
        when = views.moment(report.created_at, visitor.timezone)
        if report.attachment is not None:
            line = _("{new}<b>#{id}</b> · {name} · {kind} · {when} · 📎 attachment")
        else:
            line = _("{new}<b>#{id}</b> · {name} · {kind} · {when}")
        new = "🆕 " if report.status == ReportStatus.NEW else ""
        lines.append(
            line.format(
                new=new, id=report.id, name=escape(name), kind=_kind(report.kind), when=when
            )
        )
        # Button labels are plain text: Telegram shows them literally.
        kb.button(
            text=f"#{report.id} · {name}", callback_data=ReportCb(action="open", id=report.id)
        )
    if total > len(waiting):
        more = _("The oldest {shown} are listed; answer or archive them to see more.")
        lines.extend(["", more.format(shown=views.number(len(waiting)))])
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


def _report_markup(report: Report) -> InlineKeyboardMarkup:
    assert report.id is not None
    report_id = report.id
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✍️ Answer privately"), callback_data=ReportCb(action="answer", id=report_id))
    if report.kind == ReportKind.INACCURACY:
        # A mistake on the card is put right on the card, not announced.
        kb.button(
            text=_("✏️ Correct the case"),
            callback_data=CaseEditCb(action="view", case=report.case_id),
        )
    else:
        kb.button(
            text=_("📰 Make a case update"),
            callback_data=ReportCb(action="update", id=report_id),
        )
    kb.button(text=_("🗄 Archive"), callback_data=ReportCb(action="archive", id=report_id))
    kb.button(text=_("« All reports"), callback_data=ReportCb(action="list"))
    kb.adjust(1)
    return kb.as_markup()


async def _report_text(
    session: AsyncSession, visitor: Visitor, report: Report, text: str, attachment: str | None
) -> str:
    assert report.id is not None
    lines = [
        _("<b>Report #{id}</b> · {kind}").format(id=report.id, kind=_kind(report.kind)),
        _("Case: {name}").format(name=escape(await _case_name(session, report.case_id, visitor))),
        _("Received: {when}").format(when=views.moment(report.created_at, visitor.timezone)),
        _("Status: {status}").format(status=str(STATUS_NAMES.get(report.status, report.status))),
    ]
    if attachment == "photo":
        lines.append(_("📎 A photo is attached: it follows this message."))
    elif attachment == "document":
        lines.append(_("📎 A document is attached: it follows this message."))
    lines.append("")
    if text:
        lines.append(f"<blockquote>{escape(text)}</blockquote>")
    else:
        lines.append(_("<i>No text, only the attachment.</i>"))
    lines.extend(
        [
            "",
            _(
                "Who sent it is not shown, here or anywhere. An answer reaches them as a "
                "message from the campaign team."
            ),
        ]
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- handlers


async def reports_command(message: Message, session: AsyncSession, visitor: Visitor) -> None:
    text, markup = await _list_screen(session, visitor)
    # Protected: the reports' screens are edits of this message and inherit it.
    await message.answer(text, reply_markup=markup, protect_content=True)


async def list_button(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _leave_answer(state)
    text, markup = await _list_screen(session, visitor)
    await show(callback, text, markup)


async def _leave_answer(state: FSMContext) -> None:
    # Leaving the answer step by another button; any other dialogue is left as it is.
    if await state.get_state() == AnswerForm.text.state:
        await state.clear()


async def open_button(
    callback: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
) -> None:
    await _leave_answer(state)
    assert visitor.person is not None
    actor = staff.actor_of(cipher, visitor.person.id)
    opened = await reports.open_report(session, cipher, callback_data.id, actor)
    if opened is None or opened.report.id is None:
        text, markup = await _list_screen(session, visitor)
        await show(callback, text, markup, _gone())
        return
    kind = opened.attachment.type if opened.attachment else None
    text = await _report_text(session, visitor, opened.report, opened.text, kind)
    await show(callback, text, _report_markup(opened.report))
    if opened.attachment is None:
        return
    caption = _("📎 Attached to report #{id}").format(id=opened.report.id)
    chat = callback.from_user.id
    # Protected, so the file cannot be forwarded or saved from the editor's chat.
    if opened.attachment.type == "photo":
        await bot.send_photo(chat, opened.attachment.file_id, caption=caption, protect_content=True)
    else:
        await bot.send_document(
            chat, opened.attachment.file_id, caption=caption, protect_content=True
        )


async def answer_button(
    callback: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
) -> None:
    if not await reports.exists(session, callback_data.id):
        await callback.answer(_gone(), show_alert=True)
        return
    await state.clear()
    await dialog.keep(state, AnswerDraft(report=callback_data.id))
    await dialog.go(callback, state, AnswerForm.text)


@dialog.screen(AnswerForm.text)
async def _ask_answer(
    event: Message | CallbackQuery, state: FSMContext, step: State, **_deps: Any
) -> None:
    report_id = (await dialog.draft(state)).report
    # Back leads to the report itself, which is not a step of the dialogue.
    back = InlineKeyboardBuilder()
    back.button(text=_("« Back"), callback_data=ReportCb(action="open", id=report_id))
    text = _(
        "Send your answer to report #{id} as plain text, at most {limit} characters. It "
        "reaches the sender as a message from the campaign team; your name is not shown."
    ).format(id=report_id, limit=views.number(reports.MAX_ANSWER))
    await show(event, text, dialog.nav(back=False, above=back))


async def answer_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    report_id = (await dialog.draft(state)).report
    text = message.text or ""
    assert visitor.person is not None
    actor = staff.actor_of(cipher, visitor.person.id)
    try:
        sent = await reports.answer(session, cipher, report_id, text, actor)
    except reports.ReportError:
        warning = _(
            "That answer has {count} characters; it must have 1 to {limit}. Please send "
            "another one."
        ).format(count=views.number(len(text)), limit=views.number(reports.MAX_ANSWER))
        await message.answer(warning)
        return
    await dialog.finish(state, "answered" if sent else "saved")
    # Protected like the list: its button leads back to the reports, shown in this message.
    if not sent:
        await message.answer(_gone(), reply_markup=_to_list(), protect_content=True)
        return
    await message.answer(
        _(
            "✅ Your answer is on its way. It reaches the sender as a message from the "
            "campaign team."
        ),
        reply_markup=_to_list(),
        protect_content=True,
    )


async def answer_not_text(message: Message) -> None:
    await message.answer(_("Please send the answer as plain text."))


async def update_button(
    callback: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    found = await reports.find(session, cipher, callback_data.id)
    if found is None:
        await callback.answer(_gone(), show_alert=True)
        return
    report, text = found
    assert report.id is not None
    begun = await staff_updates.start_prefilled(
        callback, state, session, visitor, report.case_id, text, report.id
    )
    if not begun:
        await callback.answer(
            _("This case is not public, so it cannot have a case update."), show_alert=True
        )


async def archive_button(
    callback: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    await _leave_answer(state)
    assert visitor.person is not None
    done = await reports.archive(
        session, callback_data.id, staff.actor_of(cipher, visitor.person.id)
    )
    text, markup = await _list_screen(session, visitor)
    await show(callback, text, markup, _("Archived.") if done else _gone())


dialog.on_message(reports_command, Command("reports"))
dialog.on_text(AnswerForm.text, answer_text)
dialog.on_message(answer_not_text, AnswerForm.text, ~F.text)
dialog.on_button("list", list_button)
dialog.on_button("open", open_button)
dialog.on_button("answer", answer_button)
dialog.on_button("update", update_button)
dialog.on_button("archive", archive_button)


def router() -> Router:
    """Editors and admins only: to anyone else /reports is an unknown command and the
    buttons are stale ones."""
    return dialog.router()
