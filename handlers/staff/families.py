"""Editors and admins invite a prisoner's relatives (/invite family CASE) and manage who
is linked to a case (/family CASE): a count and short tags, never who, and "Unlink".

Supporters and broadcasters get nothing here, not even a count: to them these commands
are unknown ones and the buttons stale ones.
"""

from __future__ import annotations

import re
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import FamilyAction, FamilyCb
from bot.services import case_editing, cases, families, identity, staff
from bot.services.identity import Visitor
from db.models import Case
from handlers.common import MAX_ARGUMENT, show
from handlers.filters import EDITORS

_FAMILY_WORD = re.compile(r"(?i)^family\b")
# "/invite family ..." is ours; "/invite editor" and the rest stay with staff access.
INVITE_FAMILY = Command("invite", magic=F.args.regexp(_FAMILY_WORD))
# A keyboard holds at most 100 buttons; a family is never near this many.
MAX_LISTED = 40

Event = Message | CallbackQuery


async def _invitation(
    session: AsyncSession, cipher: IdentityCipher, visitor: Visitor, bot: Bot, case: Case
) -> str:
    assert visitor.person is not None
    code = await families.create_invite(
        session, cipher, case, staff.actor_of(cipher, visitor.person.id)
    )
    link = await create_start_link(bot, f"{families.INVITE_PREFIX}{code}")
    hours = int(families.INVITE_TTL.total_seconds() // 3600)
    return "\n\n".join(
        [
            _("<b>Family invitation: {name}</b>").format(
                name=escape(await families.case_name(session, case, visitor.chain))
            ),
            ngettext(
                "It works once, for {hours} hour. Send it only to the relative, over a "
                "channel you both trust, and say nothing else about the case with it.",
                "It works once, for {hours} hours. Send it only to the relative, over a "
                "channel you both trust, and say nothing else about the case with it.",
                hours,
            ).format(hours=views.number(hours)),
            _("The link:\n<code>{link}</code>").format(link=escape(link)),
            _(
                "Or, if the link does not open, they send the bot /join with this code:\n"
                "<code>{code}</code>"
            ).format(code=escape(code)),
        ]
    )


async def _pick(
    message: Message, query: str, session: AsyncSession, visitor: Visitor, action: FamilyAction
) -> Case | None:
    """The one case `query` names (of any visibility: a family may be invited before a
    case is published); else list the matches as buttons, or say none matched."""
    query = query[:MAX_ARGUMENT]
    found = await case_editing.find_any(session, query, visitor.chain)
    if len(found) == 1:
        return await cases.by_id(session, found[0].id)
    shown = escape(cases.normalise_query(query))
    if not found:
        await message.answer(
            _("No case matches “{query}”. Try another name or the case's slug.").format(query=shown)
        )
        return None
    kb = InlineKeyboardBuilder()
    for match in found:
        kb.button(
            text=f"{match.name} · {match.slug}",
            callback_data=FamilyCb(action=action, case=match.id),
        )
    kb.adjust(1)
    await message.answer(
        _("Several cases match “{query}”. Choose one:").format(query=shown),
        reply_markup=kb.as_markup(),
    )
    return None


async def invite_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
) -> None:
    query = _FAMILY_WORD.sub("", command.args or "").strip()
    if not query:
        await message.answer(
            _("Send /invite family followed by the person's name or the case's slug.")
        )
        return
    case = await _pick(message, query, session, visitor, "invite")
    if case is not None:
        await message.answer(await _invitation(session, cipher, visitor, bot, case))


async def invite_button(
    callback: CallbackQuery,
    callback_data: FamilyCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    await show(callback, await _invitation(session, cipher, visitor, bot, case))


async def _members_screen(
    session: AsyncSession, cipher: IdentityCipher, visitor: Visitor, case: Case
) -> tuple[str, InlineKeyboardMarkup]:
    assert case.id is not None
    tags = await families.member_tags(session, cipher, case.id)
    name = escape(await families.case_name(session, case, visitor.chain))
    lines = [_("<b>Family: {name}</b>").format(name=name), ""]
    kb = InlineKeyboardBuilder()
    if not tags:
        lines.append(
            _("No relative has joined this case yet. Invite one with /invite family {slug}.")
            .format(slug=escape(case.slug))
        )  # fmt: skip
        return "\n".join(lines), kb.as_markup()
    lines.append(
        ngettext(
            "{count} family member has joined.", "{count} family members have joined.", len(tags)
        ).format(count=views.number(len(tags)))
    )
    lines.append(_("Each is shown by a short code that means nothing outside this list."))
    lines.append("")
    for tag in tags[:MAX_LISTED]:
        lines.append(f"• <code>{tag}</code>")
        kb.button(
            text=_("Unlink {who}").format(who=tag),
            callback_data=FamilyCb(action="unlink", case=case.id, who=tag),
        )
    if len(tags) > MAX_LISTED:
        lines.append(_("The first {shown} are shown.").format(shown=views.number(MAX_LISTED)))
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


async def family_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    query = (command.args or "").strip()
    if not query:
        await message.answer(_("Send /family followed by the person's name or the case's slug."))
        return
    case = await _pick(message, query, session, visitor, "list")
    if case is not None:
        text, markup = await _members_screen(session, cipher, visitor, case)
        await message.answer(text, reply_markup=markup)


async def list_button(
    callback: CallbackQuery,
    callback_data: FamilyCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    text, markup = await _members_screen(session, cipher, visitor, case)
    await show(callback, text, markup)


async def unlink_ask(
    callback: CallbackQuery, callback_data: FamilyCb, session: AsyncSession, visitor: Visitor
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None or not callback_data.who:
        await callback.answer(_("This button is no longer valid."))
        return
    name = escape(await families.case_name(session, case, visitor.chain))
    text = _(
        "Unlink <code>{who}</code> from the case of {name}? They will no longer receive its "
        "updates, including news for the family only. The bot does not tell them."
    ).format(who=callback_data.who, name=name)
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Unlink"),
        callback_data=FamilyCb(action="unlink-yes", case=callback_data.case, who=callback_data.who),
    )
    kb.button(text=_("« Back"), callback_data=FamilyCb(action="list", case=callback_data.case))
    kb.adjust(2)
    await show(callback, text, kb.as_markup())


async def unlink_confirmed(
    callback: CallbackQuery,
    callback_data: FamilyCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
    i18n: I18n,
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None or visitor.person is None:
        await callback.answer(_("This button is no longer valid."))
        return
    unlinked = await families.unlink(
        session, cipher, case, callback_data.who, staff.actor_of(cipher, visitor.person.id)
    )
    relative = await identity.person_by_id(session, unlinked) if unlinked is not None else None
    if relative is not None:
        # /report leaves their menu unless they are family of another case.
        await commands.refresh_for(bot, i18n, session, cipher, relative)
    notice = (
        _("Unlinked.")
        if unlinked is not None
        else _("Nothing changed: this member is no longer linked.")
    )
    text, markup = await _members_screen(session, cipher, visitor, case)
    await show(callback, text, markup, notice)


def router() -> Router:
    """Editors and admins only. Included before staff access, which keeps every other
    /invite (and answers an editor's "/invite editor" as unknown)."""
    r = Router(name="staff-families")
    r.message.filter(EDITORS)
    r.callback_query.filter(EDITORS)
    r.message.register(invite_command, INVITE_FAMILY)
    r.message.register(family_command, Command("family"))
    r.callback_query.register(invite_button, FamilyCb.filter(F.action == "invite"))
    r.callback_query.register(list_button, FamilyCb.filter(F.action == "list"))
    r.callback_query.register(unlink_ask, FamilyCb.filter(F.action == "unlink"))
    r.callback_query.register(unlink_confirmed, FamilyCb.filter(F.action == "unlink-yes"))
    return r
