"""Admins manage staff: /staff (list, revoke), /invite ROLE, /audit; /start inv-CODE joins."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.crypto import IdentityCipher
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import (
    BroadcastCb,
    CaseEditCb,
    HearingCb,
    InviteCb,
    ReportCb,
    StaffAction,
    StaffCb,
    UpdateCb,
)
from bot.presentation.views import role_name
from bot.services import families, identity, staff
from bot.services.identity import Visitor
from db.models import StaffRole
from handlers.common import show
from handlers.filters import ADMINS, EVERY_ROLE


async def _staff_screen(
    session: AsyncSession, cipher: IdentityCipher
) -> tuple[str, InlineKeyboardMarkup]:
    members = await staff.members(session)
    kb = InlineKeyboardBuilder()
    lines = [_("<b>Staff</b>"), ""]
    # Numbered, and the buttons name the number: a role and a keyed hash on a button ran
    # past a phone's width in every language.
    for number, member in enumerate(members, 1):
        label = f"{role_name(member.role)} · {staff.actor_of(cipher, member.person_id)}"
        lines.append(f"{number}. {escape(label)}")
        kb.button(
            text=_("❌ Revoke {number}").format(number=number),
            callback_data=StaffCb(action="revoke", person=member.person_id),
        )
    lines.extend(
        ["", _("Invite someone with /invite editor, /invite broadcaster or /invite admin.")]
    )
    kb.adjust(2)
    invites = InviteCb(action="list").pack()
    kb.row(InlineKeyboardButton(text=_("⏳ Invitations"), callback_data=invites))
    return "\n".join(lines), kb.as_markup()


def _admin_menu(role: str | None) -> InlineKeyboardMarkup:
    """Each role sees what it may do, as buttons; every button is checked again on press."""
    kb = InlineKeyboardBuilder()
    if role in {StaffRole.ADMIN, StaffRole.EDITOR}:
        kb.button(text=_("➕ New case"), callback_data=CaseEditCb(action="new"))
        kb.button(text=_("✏️ Edit a case"), callback_data=CaseEditCb(action="find"))
        kb.button(text=_("⚖️ Hearings"), callback_data=HearingCb(action="start"))
        kb.button(text=_("📰 Case update"), callback_data=UpdateCb(action="start"))
        kb.button(text=_("📨 Family reports"), callback_data=ReportCb(action="list"))
        kb.button(text=_("⏳ Invitations"), callback_data=InviteCb(action="list"))
    if role in {StaffRole.ADMIN, StaffRole.BROADCASTER}:
        kb.button(text=_("📣 New broadcast"), callback_data=BroadcastCb(action="new"))
        kb.button(text=_("📋 Broadcast queue"), callback_data=BroadcastCb(action="list"))
    kb.button(text=_("📊 Statistics"), callback_data=StaffCb(action="stats"))
    if role == StaffRole.ADMIN:
        kb.button(text=_("👥 Staff"), callback_data=StaffCb(action="list"))
        kb.button(text=_("📜 Audit log"), callback_data=StaffCb(action="audit"))
    # Two columns: up to thirteen buttons in one ran off a phone's screen.
    kb.adjust(2)
    if role == StaffRole.ADMIN:
        invites: tuple[tuple[StaffRole, StaffAction], ...] = (
            (StaffRole.EDITOR, "invite-editor"),
            (StaffRole.BROADCASTER, "invite-broadcaster"),
            (StaffRole.ADMIN, "invite-admin"),
        )
        # A row each: with the role's name they are too long for half a phone's width.
        for invited, action in invites:
            kb.row(
                InlineKeyboardButton(
                    text=_("➕ Invite: {role}").format(role=role_name(invited.value)),
                    callback_data=StaffCb(action=action).pack(),
                )
            )
    return kb.as_markup()


async def admin_command(
    message: Message,
    visitor: Visitor,
    session: AsyncSession,
    cipher: IdentityCipher,
    bot: Bot,
    i18n: I18n,
) -> None:
    await message.answer(
        _("<b>Staff menu</b>\nYour role: {role}.").format(role=role_name(visitor.role or "")),
        reply_markup=_admin_menu(visitor.role),
    )
    if visitor.person is not None:
        # A role granted from the command line (`python -m bot staff add`) reaches the
        # person's menu here, at their first /admin.
        await commands.refresh_for(bot, i18n, session, cipher, visitor.person)


async def staff_command(message: Message, session: AsyncSession, cipher: IdentityCipher) -> None:
    text, markup = await _staff_screen(session, cipher)
    await message.answer(text, reply_markup=markup)


async def staff_button(
    callback: CallbackQuery, session: AsyncSession, cipher: IdentityCipher
) -> None:
    text, markup = await _staff_screen(session, cipher)
    await show(callback, text, markup)


async def revoke_button(
    callback: CallbackQuery,
    callback_data: StaffCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
    i18n: I18n,
) -> None:
    assert visitor.person is not None
    done = await staff.revoke(
        session, cipher, callback_data.person, staff.actor_of(cipher, visitor.person.id)
    )
    target = await identity.person_by_id(session, callback_data.person) if done else None
    if target is not None:
        # Their menu loses the staff commands (the handlers refused them already).
        await commands.refresh_for(bot, i18n, session, cipher, target)
    notice = (
        _("Access revoked.") if done else _("Nothing changed: the last admin cannot be removed.")
    )
    text, markup = await _staff_screen(session, cipher)
    await show(callback, text, markup, notice)


async def _invitation(
    session: AsyncSession, cipher: IdentityCipher, visitor: Visitor, bot: Bot, role: str
) -> str:
    assert visitor.person is not None
    code = await staff.create_invite(
        session, cipher, role, staff.actor_of(cipher, visitor.person.id)
    )
    link = await create_start_link(bot, f"{staff.INVITE_PREFIX}{code}")
    return _(
        "An invitation to join as {role}. It works once, for 24 hours. Send it only to "
        "the person it is for, over a channel you trust:\n<code>{link}</code>"
    ).format(role=role_name(role), link=escape(link))


async def invite_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
) -> None:
    role = (command.args or "").strip().lower()
    if role not in staff.ROLES:
        await message.answer(_("Send /invite editor, /invite broadcaster or /invite admin."))
        return
    await message.answer(await _invitation(session, cipher, visitor, bot, role))


async def invite_button(
    callback: CallbackQuery,
    callback_data: StaffCb,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
) -> None:
    # The action is one of StaffAction's invite-<role>: a forged role fails validation.
    role = callback_data.action.removeprefix("invite-")
    # A new message, not an edit: the link must stay where the admin can copy it.
    await bot.send_message(
        callback.from_user.id, await _invitation(session, cipher, visitor, bot, role)
    )
    await callback.answer()


async def _audit_text(session: AsyncSession) -> str:
    entries = await staff.recent_audit(session, 20)
    if not entries:
        return _("The audit log is empty.")
    lines = [_("<b>Audit log</b> (latest first)"), ""]
    for entry in entries:
        when = views.moment(entry.at, "UTC")
        target = f" · {entry.target}" if entry.target else ""
        lines.append(escape(f"{when} · {entry.actor} · {entry.action}{target}"))
    return "\n".join(lines)


async def audit_command(message: Message, session: AsyncSession) -> None:
    await message.answer(await _audit_text(session))


async def audit_button(callback: CallbackQuery, session: AsyncSession) -> None:
    await show(callback, await _audit_text(session))


async def join(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
    bot: Bot,
    i18n: I18n,
) -> None:
    code = (command.args or "").removeprefix(staff.INVITE_PREFIX)

    async def attempt() -> str | None:
        return await staff.redeem(session, cipher, code, await visitor.ensure())

    # The same limit on guessing as family invitations: too many failures, no look-up.
    role = await families.limited(session, cipher, message.chat.id, attempt)
    if role is None:
        # One answer for unknown, used and expired codes: nothing to learn by guessing.
        await message.answer(_("This invitation is not valid."))
        return
    visitor.role = role
    await message.answer(_("Welcome to the team. Your role: {role}.").format(role=role_name(role)))
    if visitor.person is not None:
        await commands.refresh_for(bot, i18n, session, cipher, visitor.person)


def join_router() -> Router:
    """The staff invitation link, open to everyone: it is for people who are not staff yet."""
    r = Router(name="staff-join")
    r.message.register(
        join, CommandStart(deep_link=True, magic=F.args.startswith(staff.INVITE_PREFIX))
    )
    return r


def router() -> Router:
    """Staff access for staff: /admin for every role (a menu of what that role may do),
    the rest for admins only. Goes among the staff's routers (bot/app.py)."""
    r = Router(name="staff-access")
    admin, every_role = ADMINS, EVERY_ROLE
    r.message.register(admin_command, Command("admin"), every_role)
    r.message.register(staff_command, Command("staff"), admin)
    r.message.register(invite_command, Command("invite"), admin)
    r.message.register(audit_command, Command("audit"), admin)
    r.callback_query.register(revoke_button, StaffCb.filter(F.action == "revoke"), admin)
    r.callback_query.register(staff_button, StaffCb.filter(F.action == "list"), admin)
    r.callback_query.register(audit_button, StaffCb.filter(F.action == "audit"), admin)
    r.callback_query.register(invite_button, StaffCb.filter(F.action.startswith("invite-")), admin)
    return r
