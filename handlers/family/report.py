"""/report: a prisoner's relative tells the campaign team something (a hearing date, a
transfer, their health), as a text or one photo or document with a caption.

Only family members have the command; to anyone else it is an unknown command. The
report is stored sealed and reaches the editors' queue alone: nothing is published
without their review. /cancel or "Stop" ends the dialogue with nothing sent, "Back"
returns to the choice of the case.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import FamilyReportCb
from bot.services import cases, reports
from bot.services.identity import Visitor
from handlers.common import show
from handlers.filters import NOT_COMMAND, IsFamily

IS_FAMILY = IsFamily()
Event = Message | CallbackQuery


class ReportForm(StatesGroup):
    case = State()
    content = State()


def _nav(back: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if back:
        kb.button(text=_("« Back"), callback_data=FamilyReportCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=FamilyReportCb(action="stop"))
    kb.adjust(2)
    return kb.as_markup()


async def _name(session: AsyncSession, case_id: int, visitor: Visitor) -> str:
    texts = await cases.texts_for(session, case_id)
    return cases.pick_text(texts, visitor.chain).name if texts else ""


def _limit_text() -> str:
    return views.report_limit_text(reports.DAILY_LIMIT)


async def _cases_screen(
    event: Event, state: FSMContext, session: AsyncSession, visitor: Visitor, case_ids: list[int]
) -> None:
    await state.set_state(ReportForm.case)
    kb = InlineKeyboardBuilder()
    for case_id in case_ids:
        # Button labels are plain text: Telegram shows them literally, nothing to escape.
        name = await _name(session, case_id, visitor) or str(case_id)
        kb.button(text=name, callback_data=FamilyReportCb(action="case", case=case_id))
    kb.adjust(1)
    kb.attach(InlineKeyboardBuilder.from_markup(_nav(back=False)))
    await show(event, _("Which case is your message about?"), kb.as_markup())


async def _content_screen(
    event: Event,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    multi: bool,
) -> None:
    await state.set_state(ReportForm.content)
    await state.set_data({"case": case_id, "multi": multi})
    lines = [
        _("<b>A message to the campaign team</b>"),
        _("About: {name}").format(name=escape(await _name(session, case_id, visitor))),
        "",
        _(
            "Send what you want the campaign to know: for example a hearing date, a "
            "transfer, their health, or pressure on your family."
        ),
        _(
            "You can send a text of up to {limit} characters, or one photo or one document "
            "with a caption of up to {caption} characters."
        ).format(limit=views.number(reports.MAX_TEXT), caption=views.number(reports.MAX_CAPTION)),
        "",
        _("Only the campaign's editors will read it. Nothing is published without their review."),
    ]
    await show(event, "\n".join(lines), _nav(back=multi))


async def _begin(event: Event, state: FSMContext, session: AsyncSession, visitor: Visitor) -> None:
    person = visitor.person
    assert person is not None and person.id is not None
    await state.clear()
    if await reports.over_daily_limit(session, person.id):
        await show(event, _limit_text())
        return
    case_ids = await reports.family_cases(session, person.id)
    if len(case_ids) == 1:
        await _content_screen(event, state, session, visitor, case_ids[0], multi=False)
    elif case_ids:
        await _cases_screen(event, state, session, visitor, case_ids)
    else:
        await show(event, _("This case is no longer linked to you. Nothing was sent."))


# ---------------------------------------------------------------- handlers


async def report_command(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _begin(message, state, session, visitor)


async def report_button(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    """The main menu's way in for a relative: the same first screen as /report."""
    await _begin(callback, state, session, visitor)


async def case_chosen(
    callback: CallbackQuery,
    callback_data: FamilyReportCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    person = visitor.person
    assert person is not None and person.id is not None
    # The button may be old or forged: the person must be family of this very case.
    if not await reports.may_report_on(session, person.id, callback_data.case):
        await callback.answer(_("This button is no longer valid."))
        return
    if await reports.over_daily_limit(session, person.id):
        await state.clear()
        await show(callback, _limit_text())
        return
    multi = len(await reports.family_cases(session, person.id)) > 1
    await _content_screen(callback, state, session, visitor, callback_data.case, multi)


async def _submit(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    text: str,
    attachment: reports.Attachment | None,
) -> None:
    data = await state.get_data()
    person = visitor.person
    if person is None or person.id is None or not data.get("case"):
        await stop(message, state)
        return
    try:
        await reports.submit(session, cipher, person.id, int(data["case"]), text, attachment)
    except reports.ReportError as exc:
        if exc.reason == "long":
            limit = reports.text_limit(attachment)
            if attachment is None:
                warning = _(
                    "That message has {count} characters; at most {limit} fit. Please "
                    "shorten it, or send it in two parts, one after the other."
                )
            else:
                warning = _(
                    "That caption has {count} characters; at most {limit} fit. Please send "
                    "the file again with a shorter caption, or send the text on its own."
                )
            await message.answer(
                warning.format(count=views.number(len(text)), limit=views.number(limit)),
                reply_markup=_nav(back=bool(data.get("multi"))),
            )
            return
        if exc.reason in {"empty", "attachment"}:
            await message.answer(
                _("Please send a text, one photo or one document."),
                reply_markup=_nav(back=bool(data.get("multi"))),
            )
            return
        await state.clear()
        if exc.reason == "limit":
            await message.answer(_limit_text())
        else:
            await message.answer(_("This case is no longer linked to you. Nothing was sent."))
        return
    await state.clear()
    await message.answer(
        "\n\n".join(
            [
                _("💛 Thank you. Your message has safely reached the campaign team."),
                _(
                    "Only the campaign's editors can read it, and nothing is published "
                    "without their careful review. You will get a short note here when they "
                    "have read it, and they may answer you here."
                ),
                _(
                    "If you want it gone, /forget deletes it together with everything else "
                    "the bot holds about you."
                ),
                _("You can send more with /report."),
            ]
        )
    )


async def text_sent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    await _submit(message, state, session, cipher, visitor, message.text or "", None)


async def file_sent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    data = await state.get_data()
    if message.media_group_id is not None:
        # An album arrives as several messages; one report holds one file.
        await message.answer(
            _("Please send one photo or document at a time."),
            reply_markup=_nav(back=bool(data.get("multi"))),
        )
        return
    if message.photo:
        attachment = reports.Attachment("photo", message.photo[-1].file_id)
    else:
        assert message.document is not None
        attachment = reports.Attachment("document", message.document.file_id)
    await _submit(message, state, session, cipher, visitor, message.caption or "", attachment)


async def other_sent(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(
        _("Please send a text, one photo or one document."),
        reply_markup=_nav(back=bool(data.get("multi"))),
    )


async def back(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    if await state.get_state() != ReportForm.content.state:
        await stop(callback, state)
        return
    await _begin(callback, state, session, visitor)


async def stop(event: Event, state: FSMContext) -> None:
    await state.clear()
    await show(event, _("Stopped. Nothing was sent."))


async def stop_command(message: Message, state: FSMContext) -> None:
    await stop(message, state)


def router() -> Router:
    """Family members only: to anyone else /report is an unknown command and its
    buttons are stale ones. The steps after the command check the case again."""
    r = Router(name="family-report")
    r.message.register(stop_command, Command("cancel"), StateFilter(ReportForm))
    r.message.register(report_command, Command("report"), IS_FAMILY)
    r.callback_query.register(report_button, FamilyReportCb.filter(F.action == "start"), IS_FAMILY)
    r.message.register(text_sent, ReportForm.content, F.text, NOT_COMMAND)
    r.message.register(file_sent, ReportForm.content, F.photo | F.document)
    r.message.register(other_sent, ReportForm.content, ~F.text)
    r.callback_query.register(case_chosen, FamilyReportCb.filter(F.action == "case"), IS_FAMILY)
    r.callback_query.register(back, FamilyReportCb.filter(F.action == "back"), IS_FAMILY)
    r.callback_query.register(
        stop, FamilyReportCb.filter(F.action == "stop"), StateFilter(ReportForm)
    )
    return r
