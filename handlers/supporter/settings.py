"""/settings: every state at a glance, then two screens of them: alerts (time zone, quiet
hours, delivery, birthdays) and safety (discreet mode, protected messages, auto-delete, the
panic word)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.presentation import keyboards, views
from bot.presentation.callbacks import MenuCb, SetCb
from bot.services import preferences
from bot.services.identity import Visitor
from db.models import Person
from handlers.common import show


async def settings_command(message: Message, visitor: Visitor) -> None:
    person = await visitor.ensure()
    await message.answer(views.settings_text(person), reply_markup=keyboards.settings())


async def settings_button(callback: CallbackQuery, visitor: Visitor) -> None:
    person = await visitor.ensure()
    await show(callback, views.settings_text(person), keyboards.settings())


async def change(
    callback: CallbackQuery, callback_data: SetCb, session: AsyncSession, visitor: Visitor
) -> None:
    person = await visitor.ensure()
    field, value = callback_data.field, callback_data.value
    if field == "menu":
        await _open(callback, person, value)
        return
    if field == "zone-ok":
        # One tap under the note of a first follow: the zone it set stays, and the note
        # says so without asking again.
        await show(callback, views.zone_kept(person.timezone), None, _("Saved."))
        return
    if field == "safest":
        await preferences.make_safest(session, person)
        await show(
            callback, views.safety_text(safest=True), keyboards.safety(safest=True), _("Saved.")
        )
        return
    ok = False
    if field == "tz":
        ok = await preferences.set_timezone(session, person, value)
    elif field == "quiet" and _number(value) is not None:
        ok = await preferences.set_quiet_hours(session, person, _number(value) or 0)
    elif field == "delivery":
        ok = await preferences.set_delivery(session, person, value)
        if ok:
            # The digest's hour is chosen on the same screen, so it stays open.
            await show(
                callback, views.alert_settings_text(person), keyboards.delivery(person), _("Saved.")
            )
            return
    elif field == "hour" and _number(value) is not None:
        ok = await preferences.set_digest_hour(session, person, _number(value) or 0)
    elif field == "autodelete" and _number(value) is not None:
        ok = await preferences.set_autodelete(session, person, _number(value) or 0 or None)
    elif field in TOGGLES:
        ok = await preferences.toggle(session, person, TOGGLES[field])
    if not ok:
        await callback.answer(_("This button is no longer valid."))
        return
    # Back on the group the setting belongs to, showing its new state.
    await _open(callback, person, "safety" if field in SAFETY else "alerts", _("Saved."))


async def _open(
    callback: CallbackQuery, person: Person, screen: str, notice: str | None = None
) -> None:
    """Show one of the settings' screens; anything unknown (or "main") is the first."""
    if screen == "alerts":
        await show(
            callback, views.alert_settings_text(person), keyboards.alert_settings(person), notice
        )
    elif screen == "safety":
        safest = preferences.is_safest(person)
        await show(
            callback,
            views.safety_settings_text(person),
            keyboards.safety_settings(person, safest=safest),
            notice,
        )
    elif screen == "tz":
        await show(callback, _("Choose your time zone:"), keyboards.timezones(person.timezone))
    elif screen == "quiet":
        await show(
            callback,
            _("Alerts that are not urgent wait until your quiet hours end:"),
            keyboards.quiet_hours(preferences.quiet_preset(person)),
        )
    elif screen == "autodelete":
        await show(
            callback,
            _("The bot can delete each alert some hours after it arrives:"),
            keyboards.autodelete(person.autodelete_hours),
        )
    elif screen == "why":
        safest = preferences.is_safest(person)
        await show(callback, views.safety_text(safest=safest), keyboards.safety(safest=safest))
    elif screen == "delivery":
        await show(
            callback,
            _("How should alerts reach you? A digest gathers them into one message."),
            keyboards.delivery(person),
        )
    else:
        await show(callback, views.settings_text(person), keyboards.settings(), notice)


# Button field -> the person's flag it flips.
TOGGLES = {"discreet": "discreet", "protect": "protect_content", "birthdays": "birthday_prompts"}
# The fields of the safety screen; the rest belong to alerts.
SAFETY = {"discreet", "protect", "autodelete"}


def _number(value: str) -> int | None:
    """A small non-negative number from callback data, or None (it may be forged)."""
    return int(value) if value.isascii() and value.isdecimal() and len(value) <= 3 else None


def router() -> Router:
    """A fresh router each call, so every dispatcher (and test) gets its own."""
    r = Router(name="settings")
    r.message.register(settings_command, Command("settings"))
    r.callback_query.register(settings_button, MenuCb.filter(F.to == "settings"))
    r.callback_query.register(change, SetCb.filter())
    return r
