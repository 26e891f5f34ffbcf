"""What staff see while they compose a broadcast (handlers/staff/broadcast_compose.py)
and while a second staff member reviews it (handlers/staff/broadcast_review.py).

Each question comes with the step's own buttons; Back and Stop are the dialogue's, put
under them by the handler. Nothing here reads the database: counts and names come in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.i18n import LANGUAGE_NAMES
from bot.presentation import views
from bot.presentation.broadcast_views import audience_phrase, discreet_notice
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import BroadcastAction, BroadcastCb
from bot.services.broadcasts import Draft, Submitted
from bot.services.cases import COUNTRIES
from config.settings import SUPPORTED_LOCALES
from db.models import Audience, Broadcast

# A question and the buttons that answer it.
Question = tuple[str, InlineKeyboardBuilder]


def _column(*buttons: tuple[str, BroadcastCb]) -> InlineKeyboardBuilder:
    kb = InlineKeyboardBuilder()
    for label, data in buttons:
        kb.button(text=label, callback_data=data)
    kb.adjust(1)
    return kb


def _pairs(buttons: Sequence[tuple[str, str]], action: BroadcastAction) -> InlineKeyboardBuilder:
    """Choices two a row: (label, value) pressed as `action`."""
    kb = InlineKeyboardBuilder()
    for label, value in buttons:
        kb.button(text=label, callback_data=BroadcastCb(action=action, value=value))
    kb.adjust(2)
    return kb


def audience_question() -> Question:
    choices = (
        (Audience.ALL, _("Everyone: all supporters")),
        (Audience.CASES, _("Followers of chosen cases")),
        (Audience.COUNTRY, _("Followers of a country's cases")),
        (Audience.LANGUAGE, _("People who read in a language")),
        (Audience.FAMILY, _("Family members of a case")),
    )
    kb = _column(
        *((label, BroadcastCb(action="aud", value=audience.value)) for audience, label in choices),
        (_("📋 Waiting and running"), BroadcastCb(action="list")),
    )
    return _("<b>New broadcast</b>\nWho should receive it?"), kb


def value_question(audience: str) -> Question:
    """Which country, or which language, the audience is."""
    if audience == Audience.COUNTRY:
        countries = [(views.country_label(code), code) for code in COUNTRIES]
        return _("Which country?"), _pairs(countries, "val")
    languages = [(LANGUAGE_NAMES[locale], locale) for locale in SUPPORTED_LOCALES]
    return _("Which language?"), _pairs(languages, "val")


def chosen_cases(names: Sequence[str]) -> Question:
    listed = ", ".join(escape(n) for n in names)
    return (
        _("Chosen: {names}.\nSend another name, or continue.").format(names=listed),
        _column((_("Continue »"), BroadcastCb(action="cases-done"))),
    )


def photo_question() -> Question:
    return (
        _("Send a photo to go with the message, or skip."),
        _column((_("No photo ▶"), BroadcastCb(action="photo-skip"))),
    )


def language_question(written: Collection[str], *, photo_attached: bool = False) -> Question:
    """The languages that have no version yet; right after a photo, word that it came."""
    left = [(LANGUAGE_NAMES[loc], loc) for loc in SUPPORTED_LOCALES if loc not in written]
    question = _("Which language is this version in?")
    if photo_attached:
        question = _("🖼 The photo is attached. Which language is the first version in?")
    return question, _pairs(left, "lang")


def text_question(locale: str, limit: int) -> Question:
    text = _(
        "Send the text in {language}, at most {limit} characters. Bold, italic and links "
        "are kept as you format them."
    ).format(language=LANGUAGE_NAMES[locale], limit=views.number(limit))
    return text, InlineKeyboardBuilder()


def too_long(limit: int) -> str:
    return _("That is too long: at most {limit} characters, please.").format(
        limit=views.number(limit)
    )


def no_buttons() -> InlineKeyboardBuilder:
    return _column((_("No buttons ▶"), BroadcastCb(action="btn-skip")))


def buttons_question() -> Question:
    text = _(
        "Link buttons, one per line, like:\n<code>Sign the petition | https://example.org"
        "</code>\nor continue without buttons."
    )
    return text, no_buttons()


def buttons_unreadable() -> Question:
    text = _(
        "I could not read that. One button per line: a label, a bar, a link starting "
        "with https:// (at most 6 buttons)."
    )
    return text, no_buttons()


def versions_summary(written: Collection[str]) -> Question:
    text = _(
        "Versions so far: {languages}.\nReaders of other languages get Russian, then "
        "English, then whichever version there is."
    ).format(languages=", ".join(LANGUAGE_NAMES[loc] for loc in written))
    more = [(_("➕ Another language"), BroadcastCb(action="ver-more"))]
    more = more if len(written) < len(SUPPORTED_LOCALES) else []
    return text, _column(*more, (_("Continue »"), BroadcastCb(action="ver-done")))


def when_question() -> Question:
    kb = _column(
        (_("🚀 Now"), BroadcastCb(action="now")),
        (_("🗓 At a set time"), BroadcastCb(action="later")),
    )
    return _("When should it go out?"), kb


def time_question(zone: str) -> str:
    return _("Send the date and time in your time zone ({zone}), like 10.12.2026 18:00.").format(
        zone=zone
    )


def _to_whom(audience: str, value: str, names: Sequence[str], count: int) -> list[str]:
    return [
        _("To: {audience}").format(audience=audience_phrase(audience, value, names)),
        _("Recipients now: {count}").format(count=views.number(count)),
    ]


def ready(
    draft: Draft,
    *,
    count: int,
    discreet: int,
    approval: bool,
    names: Sequence[str],
    zone: str,
) -> Question:
    """The confirmation: to whom, how many, in which languages, when; and, where that is
    so, that discreet readers get a notice and that a second staff member must approve."""
    when = views.moment(draft.send_at, zone) if draft.send_at else _("now, once confirmed")
    lines = [
        _("<b>Ready to send?</b>"),
        *_to_whom(draft.audience, draft.audience_value, names, count),
        _("Languages: {languages}").format(
            languages=", ".join(LANGUAGE_NAMES[loc] for loc in draft.versions)
        ),
        _("Photo: yes") if draft.photo else _("Photo: no"),
        _("When: {when}").format(when=when),
    ]
    if discreet:
        lines.append(
            ngettext(
                "{count} of them reads in discreet mode: they get “{notice}” and see the "
                "message only when they tap to show it.",
                "{count} of them read in discreet mode: they get “{notice}” and see the "
                "message only when they tap to show it.",
                discreet,
            ).format(count=views.number(discreet), notice=discreet_notice(0).text)
        )
    if approval:
        lines.append(
            _("A second staff member (an admin or a broadcaster) must approve it before it goes.")
        )
    now = draft.send_at is None
    if not count:
        # Sent now to nobody, it would only sit as "Sent: 0 of 0"; at a set time, readers
        # may have come by then.
        lines.append(
            _("⚠️ Nobody would receive it now. Go « Back and choose another audience.")
            if now
            else _("⚠️ Nobody would receive it now; it goes to whoever is in the audience then.")
        )
    choices = [(_("👁 Preview"), BroadcastCb(action="preview"))]
    if count or not now:
        choices.append(
            (_("✅ Ask for approval") if approval else _("✅ Send"), BroadcastCb(action="submit"))
        )
    return "\n".join(lines), _column(*choices)


def submitted(done: Submitted, zone: str) -> str:
    """What the composer is told once the broadcast is stored."""
    broadcast = done.broadcast
    if done.awaiting_approval:
        return _(
            "Broadcast #{id} waits for a second staff member's approval. You will be told."
        ).format(id=broadcast.id)
    if done.started:
        return _("Broadcast #{id} is on its way.").format(id=broadcast.id)
    return _("Broadcast #{id} is scheduled for {when}.").format(
        id=broadcast.id, when=views.moment(broadcast.send_at, zone)
    )


def review(
    broadcast: Broadcast, names: Sequence[str], zone: str
) -> tuple[str, InlineKeyboardMarkup]:
    """What the approver reads under the preview, and the two answers."""
    assert broadcast.id is not None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Approve"), callback_data=BroadcastCb(action="approve", id=broadcast.id))
    kb.button(text=_("❌ Decline"), callback_data=BroadcastCb(action="reject", id=broadcast.id))
    kb.adjust(2)
    text = "\n".join(
        [
            _("<b>Broadcast #{id}</b> (the preview is above)").format(id=broadcast.id),
            *_to_whom(broadcast.audience, broadcast.audience_value, names, broadcast.recipients),
            _("When: {when}").format(when=views.moment(broadcast.send_at, zone)),
        ]
    )
    return text, kb.as_markup()
