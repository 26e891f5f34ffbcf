"""/checkwords: editors and admins keep the letter checker's lists, one per language.

/checkwords                      how many terms each language has, and how to edit
/checkwords ru [PAGE]            the Russian list, a page at a time
/checkwords add ru TERM | censor|risk|ok | ADVICE
/checkwords remove ru TERM

Changes are audited (check_terms.add / check_terms.remove, the target "locale:term":
a term is not personal). To everyone else the command is unknown.
"""

from __future__ import annotations

import math
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import LANGUAGE_NAMES
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CheckTermsCb
from bot.services import letter_check, staff
from bot.services.identity import Visitor
from bot.services.letter_check import TermError
from config.settings import SUPPORTED_LOCALES
from handlers.common import show
from handlers.filters import EDITORS

PAGE_SIZE = 10
_LOCALES = {loc.casefold(): loc for loc in SUPPORTED_LOCALES}

REASON_LABELS = {
    letter_check.CENSOR: __("⛔ censor"),
    letter_check.RISK: __("⚠️ risk"),
    letter_check.OK: __("✓ exception"),
}


def _locale(raw: str) -> str | None:
    return _LOCALES.get(raw.strip().casefold().replace("-", "_"))


def _usage() -> str:
    return _(
        "Add or change: <code>/checkwords add ru TERM | censor | ADVICE</code>\n"
        "Remove: <code>/checkwords remove ru TERM</code>\n"
        "A term catches every form of its word, and a phrase word by word. The reason is "
        "censor (likely to be stopped), risk (could hurt the prisoner) or ok (an exception: "
        "words that begin with it are never flagged, such as an idiom or a look-alike word)."
    )


async def _summary(session: AsyncSession) -> str:
    counts = await letter_check.counts(session)
    lines = [_("<b>Letter checker: the lists</b>"), ""]
    for loc in SUPPORTED_LOCALES:
        lines.append(
            _("{language} ({code}): {count}").format(
                language=LANGUAGE_NAMES[loc], code=loc, count=counts.get(loc, 0)
            )
        )
    lines.extend(["", _("See a list with <code>/checkwords ru</code>."), _usage()])
    return "\n".join(lines)


async def _page(
    session: AsyncSession, locale: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    terms = await letter_check.terms_of(session, locale)
    pages = max(1, math.ceil(len(terms) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    lines = [
        _("<b>Letter checker: {language}</b> ({count} terms, page {page} of {pages})").format(
            language=LANGUAGE_NAMES[locale], count=len(terms), page=page + 1, pages=pages
        ),
        "",
    ]
    if not terms:
        lines.append(_("This list is empty."))
    for term in terms[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        label = str(REASON_LABELS.get(term.reason, term.reason))
        lines.append(f"• <b>{escape(term.term)}</b> — {escape(label)}")
        if term.advice:
            lines.append(f"  <i>{escape(term.advice)}</i>")
    lines.extend(["", _usage()])
    if pages == 1:
        return "\n".join(lines), None
    kb = InlineKeyboardBuilder()
    if page > 0:
        kb.button(text="‹", callback_data=CheckTermsCb(locale=locale, page=page - 1))
    kb.button(text=f"{page + 1}/{pages}", callback_data=CheckTermsCb(locale=locale, page=page))
    if page + 1 < pages:
        kb.button(text="›", callback_data=CheckTermsCb(locale=locale, page=page + 1))
    return "\n".join(lines), kb.as_markup()


def _error(code: str) -> str:
    if code == "locale":
        return _("Unknown language. Use one of: {codes}.").format(
            codes=", ".join(SUPPORTED_LOCALES)
        )
    if code == "term":
        return _("A term needs 2 to 100 characters, with at least one letter.")
    if code == "reason":
        return _("The reason must be censor, risk or ok.")
    return _("The advice can be at most 300 characters.")


async def _add(
    message: Message, rest: str, session: AsyncSession, visitor: Visitor, cipher: IdentityCipher
) -> None:
    raw_locale, _sep, spec = rest.strip().partition(" ")
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) < 2 or not parts[0]:
        await message.answer(_usage())
        return
    locale = _locale(raw_locale)
    try:
        term = letter_check.validate(
            locale or "", parts[0], parts[1], "|".join(parts[2:]) if len(parts) > 2 else None
        )
    except TermError as exc:
        await message.answer(_error(exc.code))
        return
    assert visitor.person is not None
    new = await letter_check.add_term(session, term, staff.actor_of(cipher, visitor.person.id))
    done = (
        _("Added to the {language} list: <b>{term}</b> ({reason}).")
        if new
        else _("Changed in the {language} list: <b>{term}</b> ({reason}).")
    )
    await message.answer(
        done.format(
            language=LANGUAGE_NAMES[term.locale],
            term=escape(term.term),
            reason=escape(str(REASON_LABELS[term.reason])),
        )
    )


async def _remove(
    message: Message, rest: str, session: AsyncSession, visitor: Visitor, cipher: IdentityCipher
) -> None:
    raw_locale, _sep, raw_term = rest.strip().partition(" ")
    locale = _locale(raw_locale)
    if locale is None:
        await message.answer(_error("locale"))
        return
    if not raw_term.strip():
        await message.answer(_usage())
        return
    assert visitor.person is not None
    removed = await letter_check.remove_term(
        session, locale, raw_term, staff.actor_of(cipher, visitor.person.id)
    )
    term = escape(letter_check.clean_term(raw_term)[: letter_check.MAX_TERM])
    if removed:
        text = _("Removed from the {language} list: <b>{term}</b>.")
    else:
        text = _("The {language} list has no <b>{term}</b>.")
    await message.answer(text.format(language=LANGUAGE_NAMES[locale], term=term))


async def checkwords_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    visitor: Visitor,
    cipher: IdentityCipher,
) -> None:
    args = (command.args or "").strip()
    if not args:
        await message.answer(await _summary(session))
        return
    head, _sep, rest = args.partition(" ")
    if head.casefold() == "add":
        await _add(message, rest, session, visitor, cipher)
        return
    if head.casefold() == "remove":
        await _remove(message, rest, session, visitor, cipher)
        return
    locale = _locale(head)
    if locale is None:
        await message.answer(_error("locale"))
        return
    page = int(rest) - 1 if rest.strip().isdecimal() and len(rest.strip()) <= 4 else 0
    text, markup = await _page(session, locale, page)
    await message.answer(text, reply_markup=markup)


async def page_button(
    callback: CallbackQuery, callback_data: CheckTermsCb, session: AsyncSession
) -> None:
    locale = _locale(callback_data.locale)
    if locale is None:
        await callback.answer(_("This button is no longer valid."))
        return
    text, markup = await _page(session, locale, callback_data.page)
    await show(callback, text, markup)


def router() -> Router:
    r = Router(name="staff-check-terms")
    r.message.filter(EDITORS)
    r.callback_query.filter(EDITORS)
    r.message.register(checkwords_command, Command("checkwords"))
    r.callback_query.register(page_button, CheckTermsCb.filter())
    return r
