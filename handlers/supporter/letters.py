"""/letter: a card to the prisoner or an appeal to the authorities, "I sent it", and the
letter as a PDF to print."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation import keyboards, views
from bot.presentation.callbacks import CaseCb, LetterCb, MenuCb, NeedCb
from bot.services import cases, letter_pdf, letters, matching
from bot.services.cases import CardFacts
from bot.services.identity import Visitor
from db.models import LetterKind
from handlers.common import show
from handlers.supporter.cases import render_card, resolve_one

_KINDS = {k.value: k for k in LetterKind}


async def render_choice(
    event: Message | CallbackQuery,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    card_facts: CardFacts,
) -> None:
    card = await cases.card(session, case_id, visitor.chain, None, card_facts)
    if card is None:
        await show(event, _("This case is not available."), keyboards.back_to_menu())
        return
    if not letters.kinds_for(card.case):
        await render_card(
            event,
            session,
            visitor,
            case_id,
            _("This person is not receiving letters now."),
            card_facts=card_facts,
        )
        return
    await show(event, views.letter_choice(card.text.name), keyboards.letter_kinds(card.case))


async def render_candidates(
    event: Message | CallbackQuery, session: AsyncSession, visitor: Visitor
) -> None:
    mine = await cases.followed_writable(session, visitor.person, visitor.chain)
    if mine:
        text = _("Who would you like to write to? Here are the cases you follow:")
    else:
        mine = await cases.writable(session, visitor.chain)
        text = _("Who would you like to write to? These people are waiting for letters:")
    await show(event, text, keyboards.letter_cases(mine))


async def render_offer(
    event: Message | CallbackQuery, session: AsyncSession, visitor: Visitor, skip: int | None
) -> None:
    offer = await matching.offer(session, visitor.chain, visitor.person, skip=skip)
    if offer is None:
        await show(
            event,
            _("Nobody in the cases here can receive letters at the moment."),
            keyboards.back_to_menu(),
        )
        return
    await show(event, views.need_offer(offer), keyboards.need_offer(offer.case))


async def need_button(
    callback: CallbackQuery, callback_data: NeedCb, session: AsyncSession, visitor: Visitor
) -> None:
    await render_offer(callback, session, visitor, callback_data.skip or None)


async def letter_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    if not command.args:
        await render_offer(message, session, visitor, None)
        return
    case_id = await resolve_one(
        message, session, visitor, command.args, card_facts, keyboards.letter_cases
    )
    if case_id is not None:
        await render_choice(message, session, visitor, case_id, card_facts=card_facts)


async def letter_menu(callback: CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    await render_candidates(callback, session, visitor)


async def letter_button(
    callback: CallbackQuery,
    callback_data: CaseCb,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    await render_choice(callback, session, visitor, callback_data.id, card_facts=card_facts)


async def _render_prompt(
    callback: CallbackQuery,
    callback_data: LetterCb,
    session: AsyncSession,
    visitor: Visitor,
    kind: LetterKind,
    notice: str | None = None,
) -> None:
    prompt = await letters.prompt(
        session,
        case_id=callback_data.id,
        kind=kind,
        chain=visitor.chain,
        person=visitor.person,
        variant=callback_data.variant or None,
        advance=callback_data.action == "next",
        original=callback_data.action == "orig" or callback_data.orig,
    )
    if prompt is None:
        await callback.answer(_("This person is not receiving letters now."), show_alert=True)
        return
    await show(
        callback, views.letter_prompt(prompt), keyboards.letter(prompt, visitor.locale), notice
    )


async def letter_text(
    callback: CallbackQuery, callback_data: LetterCb, session: AsyncSession, visitor: Visitor
) -> None:
    kind = _KINDS.get(callback_data.kind)
    if kind is None or await cases.visible_case(session, callback_data.id) is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    # "Show" and "next" are the reader's language even when the button came from a
    # prompt in the original one ("🌐 In my language").
    if callback_data.action != "orig":
        callback_data = callback_data.model_copy(update={"orig": False})
    await _render_prompt(callback, callback_data, session, visitor, kind)


async def letter_sent(
    callback: CallbackQuery, callback_data: LetterCb, session: AsyncSession, visitor: Visitor
) -> None:
    kind = _KINDS.get(callback_data.kind)
    if kind is None:
        await callback.answer(_("This button is no longer valid."))
        return
    person = await visitor.ensure()
    outcome = await letters.record_sent(session, person, callback_data.id, kind)
    if outcome is letters.NotSent.GONE:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    if outcome is letters.NotSent.NO_ADDRESS:
        notice = _("There is no safe address for this person now, so the letter was not counted.")
    elif outcome.new:
        notice = ngettext(
            "Thank you! Your letter is counted: {count} letter sent so far.",
            "Thank you! Your letter is counted: {count} letters sent so far.",
            outcome.total,
        ).format(count=views.number(outcome.total))
    else:
        notice = _("You have already recorded this letter. Thank you!")
    # The whole prompt again, so its count and its buttons say what is true now.
    await _render_prompt(callback, callback_data, session, visitor, kind, notice)


async def letter_wait(
    callback: CallbackQuery, callback_data: LetterCb, session: AsyncSession, visitor: Visitor
) -> None:
    """ "Tell me when I can send it", and taking it back."""
    person = await visitor.ensure()
    on = callback_data.action == "wait"
    outcome = await letters.wait_for_address(session, person, callback_data.id, on)
    if outcome is None:
        notice = _("This has changed since: here is the letter as it is now.")
    elif outcome:
        notice = _("We will tell you when letters can be sent.")
    else:
        notice = _("All right, we will not tell you.")
    await _render_prompt(callback, callback_data, session, visitor, LetterKind.CARD, notice)


def _envelope_words() -> letter_pdf.EnvelopeWords:
    return letter_pdf.EnvelopeWords(
        title=_("Envelope"),
        copy_exactly=_(
            "Copy the address onto the envelope exactly as it is written here, in the same "
            "alphabet: the post reads it as it is."
        ),
        return_address=_(
            "Add a return address at the top left: many facilities hand over no letter "
            "without one. If your own address could put you at risk, use your organisation's."
        ),
        rules_title=_("The facility's rules for letters:"),
    )


async def letter_printable(
    callback: CallbackQuery, callback_data: LetterCb, session: AsyncSession, visitor: Visitor
) -> None:
    """The letter on screen as a PDF: made in memory, sent protected, never stored."""
    kind = _KINDS.get(callback_data.kind)
    case = await cases.visible_case(session, callback_data.id)
    if kind is None or case is None or case.id is None or callback.bot is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    prompt = await letters.prompt(
        session,
        case_id=case.id,
        kind=kind,
        chain=visitor.chain,
        person=None,
        variant=callback_data.variant or None,
        original=callback_data.orig,
    )
    if prompt is None or not prompt.address:
        await callback.answer(_("This person is not receiving letters now."), show_alert=True)
        return
    today = dt.datetime.now(ZoneInfo(visitor.timezone)).date()
    data = await letter_pdf.make(letter_pdf.printable(prompt, today, _envelope_words()))
    chat = callback.message.chat.id if callback.message else callback.from_user.id
    await callback.bot.send_document(
        chat,
        BufferedInputFile(data, filename=letter_pdf.FILE_NAME),
        caption=_(
            "🖨 Your letter to print: the letter is on the first page, the envelope on the "
            "second. The bot keeps no copy."
        ),
        # Not protected: a protected file cannot be saved, and this one is for printing.
        # /panic deletes it like any other message of the last 48 hours.
        protect_content=False,
    )
    await callback.answer()


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="letters")
    r.message.register(letter_command, Command("letter"))
    r.callback_query.register(letter_menu, MenuCb.filter(F.to == "letter"))
    r.callback_query.register(need_button, NeedCb.filter())
    r.callback_query.register(letter_button, CaseCb.filter(F.action == "letter"))
    r.callback_query.register(letter_text, LetterCb.filter(F.action.in_({"show", "next", "orig"})))
    r.callback_query.register(letter_sent, LetterCb.filter(F.action == "sent"))
    r.callback_query.register(letter_wait, LetterCb.filter(F.action.in_({"wait", "unwait"})))
    r.callback_query.register(letter_printable, LetterCb.filter(F.action == "pdf"))
    return r
