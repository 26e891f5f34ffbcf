"""Browsing, searching and reading cases; /mycases. Plain text is a name search."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation import keyboards, views
from bot.presentation.callbacks import CaseCb, FilterCb, ListCb, MenuCb
from bot.services import cases, follows
from bot.services.cases import CardFacts, CaseSummary
from bot.services.identity import Visitor
from db.models import CaseStatus
from handlers.common import MAX_ARGUMENT, show
from handlers.filters import NOT_COMMAND

_STATUSES = {s.value for s in CaseStatus}


async def render_page(
    event: Message | CallbackQuery,
    session: AsyncSession,
    visitor: Visitor,
    country: str = "",
    status: str = "",
    page: int = 0,
) -> None:
    # Forged filters fall back to "all" instead of reaching the query.
    country = country if country in cases.COUNTRIES else ""
    status = status if status in _STATUSES else ""
    result = await cases.browse(
        session, visitor.chain, country=country or None, status=status or None, page=page
    )
    await show(
        event,
        views.case_page(result, country, status),
        keyboards.case_page(result, country, status),
    )


async def render_card(
    event: Message | CallbackQuery,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    notice: str | None = None,
    *,
    card_facts: CardFacts,
) -> bool:
    person_id = visitor.person.id if visitor.person else None
    card = await cases.card(session, case_id, visitor.chain, person_id, card_facts)
    if card is None:
        return False
    tz = (
        visitor.person.timezone
        if visitor.person
        else card.next_hearing.timezone
        if card.next_hearing
        else "UTC"
    )
    action = (card.action.id, card.action.done) if card.action is not None else None
    text, markup = card_facts.made(
        card,
        (visitor.locale, tuple(visitor.chain), tz, card.following, action),
        lambda: (
            views.case_card(card, tz),
            keyboards.case_card(card.case, card.following, card.action),
        ),
    )
    await show(event, text, markup, notice)
    return True


async def resolve_one(
    message: Message,
    session: AsyncSession,
    visitor: Visitor,
    query: str,
    card_facts: CardFacts,
    choices: Callable[[list[CaseSummary]], InlineKeyboardMarkup] = keyboards.search_results,
) -> int | None:
    """The one case a query names; otherwise the person is shown the matches (or told the
    query is too long) and None comes back."""
    if len(query) > MAX_ARGUMENT:
        await message.answer(_("That is too long for a name. Please send a shorter search."))
        return None
    found = await card_facts.find(session, query, visitor.chain)
    if len(found) == 1:
        return found[0].id
    await message.answer(
        views.search_header(cases.normalise_query(query), len(found)), reply_markup=choices(found)
    )
    return None


async def render_search(
    message: Message,
    session: AsyncSession,
    visitor: Visitor,
    query: str,
    card_facts: CardFacts,
) -> None:
    case_id = await resolve_one(message, session, visitor, query, card_facts)
    # A search remembered for a few seconds may name a case hidden meanwhile elsewhere.
    if case_id is not None and not await render_card(
        message, session, visitor, case_id, card_facts=card_facts
    ):
        await message.answer(_("This case is not available."))


async def open_case_by_slug(
    message: Message,
    slug: str,
    visitor: Visitor,
    session: AsyncSession,
    card_facts: CardFacts,
) -> bool:
    """Open a case from a deep link (`/start case-<slug>`); False if there is no such case."""
    found = await card_facts.find(session, slug[:MAX_ARGUMENT], visitor.chain)
    exact = [c for c in found if c.slug == slug]
    return bool(exact) and await render_card(
        message, session, visitor, exact[0].id, card_facts=card_facts
    )


async def cases_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    if command.args:
        await render_search(message, session, visitor, command.args, card_facts=card_facts)
    else:
        await render_page(message, session, visitor)


async def case_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    if not command.args:
        await message.answer(
            _("Send /case and a name, for example: /case Tadzhimuratov"),
            reply_markup=keyboards.search_results([]),
        )
        return
    await render_search(message, session, visitor, command.args, card_facts=card_facts)


async def cases_button(callback: CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    await render_page(callback, session, visitor)


async def page_button(
    callback: CallbackQuery, callback_data: ListCb, session: AsyncSession, visitor: Visitor
) -> None:
    await render_page(
        callback, session, visitor, callback_data.country, callback_data.status, callback_data.page
    )


async def country_filter(
    callback: CallbackQuery, callback_data: FilterCb, session: AsyncSession
) -> None:
    counts = await cases.country_counts(session)
    status = callback_data.status if callback_data.status in _STATUSES else ""
    await show(callback, _("Choose a country:"), keyboards.countries(counts, status))


async def status_filter(callback: CallbackQuery, callback_data: FilterCb) -> None:
    country = callback_data.country if callback_data.country in cases.COUNTRIES else ""
    await show(callback, _("Choose a status:"), keyboards.statuses(country))


async def case_button(
    callback: CallbackQuery,
    callback_data: CaseCb,
    session: AsyncSession,
    visitor: Visitor,
    card_facts: CardFacts,
) -> None:
    if not await render_card(callback, session, visitor, callback_data.id, card_facts=card_facts):
        await callback.answer(_("This case is not available."), show_alert=True)


async def photo_button(
    callback: CallbackQuery, callback_data: CaseCb, session: AsyncSession, visitor: Visitor
) -> None:
    """The case's photo, protected: it cannot be forwarded or saved from the chat."""
    case = await cases.visible_case(session, callback_data.id)
    chat = callback.message.chat.id if callback.message else None
    if case is None or case.id is None or not case.photo or chat is None or callback.bot is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    texts = await cases.texts_for(session, case.id)
    caption = escape(cases.pick_text(texts, visitor.chain).name) if texts else None
    await callback.bot.send_photo(chat, case.photo, caption=caption, protect_content=True)
    await callback.answer()


async def render_mine(
    event: Message | CallbackQuery, session: AsyncSession, visitor: Visitor
) -> None:
    mine = await follows.followed(session, visitor.person, visitor.chain)
    if not mine:
        text = _("You do not follow any case yet. Open a case and press “Follow” to get its news.")
    else:
        text = _("<b>Cases you follow</b>")
    await show(event, text, keyboards.search_results(mine))


async def mycases_command(message: Message, session: AsyncSession, visitor: Visitor) -> None:
    await render_mine(message, session, visitor)


async def mycases_button(callback: CallbackQuery, session: AsyncSession, visitor: Visitor) -> None:
    await render_mine(callback, session, visitor)


async def text_search(
    message: Message, session: AsyncSession, visitor: Visitor, card_facts: CardFacts
) -> None:
    assert message.text is not None
    await render_search(message, session, visitor, message.text, card_facts=card_facts)


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="cases")
    r.message.register(cases_command, Command("cases"))
    r.message.register(case_command, Command("case"))
    r.callback_query.register(cases_button, MenuCb.filter(F.to == "cases"))
    r.callback_query.register(page_button, ListCb.filter())
    r.callback_query.register(country_filter, FilterCb.filter(F.what == "country"))
    r.callback_query.register(status_filter, FilterCb.filter(F.what == "status"))
    r.callback_query.register(case_button, CaseCb.filter(F.action == "view"))
    r.callback_query.register(photo_button, CaseCb.filter(F.action == "photo"))
    r.message.register(mycases_command, Command("mycases"))
    r.callback_query.register(mycases_button, MenuCb.filter(F.to == "my"))
    return r


def search_router() -> Router:
    """Plain text is a name search: tried after every other supporter router, whose
    dialogs take the text they wait for first."""
    r = Router(name="name-search")
    r.message.register(text_search, F.text, NOT_COMMAND)
    return r
