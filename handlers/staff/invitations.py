"""Pending invitations (/invites, or the button on /admin and /staff): what each grants,
who made it and when it expires, with a button to cancel each.

Admins see staff and family invitations; editors, who invite relatives, see family
invitations only (see `bot.services.invitations`). Everyone else gets what any unknown
command or stale button gets.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import InviteCb
from bot.presentation.views import role_name
from bot.services import invitations, staff
from bot.services.identity import Visitor
from bot.services.invitations import Kind, Outcome, Pending
from handlers.common import show
from handlers.filters import ADMINS, EDITORS

# Twenty entries with a case name cut to NAME_ROOM keep the message well under
# Telegram's 4096 characters, and the keyboard far under its 100 buttons.
MAX_LISTED = 20
NAME_ROOM = 60


def _what(invite: Pending) -> str:
    """What the invitation grants, as HTML."""
    if invite.kind is Kind.STAFF:
        return _("staff role: {role}").format(role=escape(role_name(invite.role or "")))
    return _("relative of {name}").format(name=views.snippet(invite.case_name or "", NAME_ROOM))


def _made(invite: Pending, reader_tz: str) -> str:
    """Who made it (the reader, or the maker's short keyed hash) and when it expires."""
    when = views.moment(invite.expires_at, reader_tz)
    if invite.mine:
        return _("made by you, expires {when}").format(when=when)
    return _("made by {who}, expires {when}").format(who=escape(invite.created_by), when=when)


async def _screen(
    session: AsyncSession, cipher: IdentityCipher, visitor: Visitor
) -> tuple[str, InlineKeyboardMarkup]:
    assert visitor.person is not None
    found = await invitations.pending(
        session, visitor.role, staff.actor_of(cipher, visitor.person.id), visitor.chain
    )
    lines = [_("<b>Pending invitations</b>"), ""]
    kb = InlineKeyboardBuilder()
    if not found:
        lines.append(_("No invitation is waiting to be used."))
        return "\n".join(lines), kb.as_markup()
    lines.append(
        ngettext(
            "{count} invitation is waiting to be used, the soonest to expire first.",
            "{count} invitations are waiting to be used, the soonest to expire first.",
            len(found),
        ).format(count=views.number(len(found)))
    )
    lines.append(
        _(
            "The bot keeps no invitation's code, so it cannot show one again. To send an "
            "invitation again, cancel it and make a new one."
        )
    )
    for number, invite in enumerate(found[:MAX_LISTED], start=1):
        lines.append("")
        lines.append(f"<b>{views.number(number)}.</b> {_what(invite)}")
        lines.append(_made(invite, visitor.timezone))
        kb.button(
            text=_("❌ Cancel {number}").format(number=views.number(number)),
            callback_data=InviteCb(action="cancel", kind=invite.kind.value, ref=invite.ref),
        )
    if len(found) > MAX_LISTED:
        lines.append("")
        lines.append(
            _("The {shown} that expire soonest are shown.").format(shown=views.number(MAX_LISTED))
        )
    kb.adjust(4)
    return "\n".join(lines), kb.as_markup()


async def invites_command(
    message: Message, session: AsyncSession, cipher: IdentityCipher, visitor: Visitor
) -> None:
    text, markup = await _screen(session, cipher, visitor)
    await message.answer(text, reply_markup=markup)


async def list_button(
    callback: CallbackQuery, session: AsyncSession, cipher: IdentityCipher, visitor: Visitor
) -> None:
    text, markup = await _screen(session, cipher, visitor)
    await show(callback, text, markup)


def _outcome_notice(outcome: Outcome) -> str:
    if outcome is Outcome.CANCELLED:
        return _("Invitation cancelled: its link and code no longer work.")
    if outcome is Outcome.SPENT:
        return _("This invitation was already used or cancelled; nothing was cancelled.")
    if outcome is Outcome.EXPIRED:
        return _("This invitation has already expired; nothing was cancelled.")
    if outcome is Outcome.AMBIGUOUS:
        return _("This button matches more than one invitation; nothing was cancelled.")
    return _("This invitation no longer exists; nothing was cancelled.")


async def cancel_button(
    callback: CallbackQuery,
    callback_data: InviteCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    assert visitor.person is not None
    outcome = await invitations.cancel(
        session,
        visitor.role,
        callback_data.kind,
        callback_data.ref,
        staff.actor_of(cipher, visitor.person.id),
    )
    if outcome is Outcome.FORBIDDEN:
        await callback.answer(_("This button is no longer valid."))
        return
    text, markup = await _screen(session, cipher, visitor)
    await show(callback, text, markup, _outcome_notice(outcome))


def router() -> Router:
    """Admins and editors; a staff invitation is cancelled by admins only, and the
    service checks the role again."""
    r = Router(name="staff-invitations")
    r.message.filter(EDITORS)
    r.callback_query.filter(EDITORS)
    r.message.register(invites_command, Command("invites"))
    r.callback_query.register(list_button, InviteCb.filter(F.action == "list"))
    r.callback_query.register(
        cancel_button, InviteCb.filter((F.action == "cancel") & (F.kind == Kind.FAMILY.value))
    )
    r.callback_query.register(
        cancel_button,
        InviteCb.filter((F.action == "cancel") & (F.kind == Kind.STAFF.value)),
        ADMINS,
    )
    return r
