"""Texts the supporter sees. Everything from the database or a person is escaped here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from html import escape, unescape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.numbers import format_decimal
from babel.support import LazyProxy

from bot.commands import FAMILY_COMMANDS, STAFF_COMMANDS
from bot.i18n import LANGUAGE_NAMES
from bot.services import courts, panic
from bot.services.cases import IN_CUSTODY, CaseCard, CasePage, CaseSummary, today
from bot.services.letters import LetterPrompt
from bot.services.matching import Offer
from bot.services.my_record import Record
from db.models import (
    CaseStatus,
    DeliveryMode,
    Hearing,
    HearingKind,
    LetterKind,
    Person,
    StaffRole,
)

FLAGS = {"kz": "🇰🇿", "kg": "🇰🇬", "tj": "🇹🇯", "tm": "🇹🇲", "uz": "🇺🇿"}
STATUS_ICONS = {
    "detained": "⛓",
    "on_trial": "⚖️",
    "sentenced": "🔒",
    "released": "🕊",
    "acquitted": "✅",
    "in_exile": "🧳",
    "deceased": "🕯",
}
STATUS_NAMES: dict[str, LazyProxy] = {
    CaseStatus.DETAINED: __("Detained"),
    CaseStatus.ON_TRIAL: __("On trial"),
    CaseStatus.SENTENCED: __("Sentenced"),
    CaseStatus.RELEASED: __("Released"),
    CaseStatus.ACQUITTED: __("Acquitted"),
    CaseStatus.IN_EXILE: __("In exile"),
    CaseStatus.DECEASED: __("Died in custody"),
}
HEARING_KINDS: dict[str, LazyProxy] = {
    HearingKind.TRIAL: __("Trial hearing"),
    HearingKind.APPEAL: __("Appeal hearing"),
    HearingKind.CASSATION: __("Cassation hearing"),
    HearingKind.PAROLE: __("Parole hearing"),
    HearingKind.OTHER: __("Court hearing"),
}


def _babel_locale() -> str:
    return get_i18n().current_locale


def number(value: int) -> str:
    """A count written the reader's way (Babel): 12 345, 12,345 or 12 345."""
    return format_decimal(value, locale=_babel_locale())


def country_name(code: str) -> str:
    name = Locale.parse(_babel_locale()).territories.get(code.upper(), code.upper())
    return str(name)


def country_label(code: str) -> str:
    return f"{FLAGS.get(code, '')} {country_name(code)}".strip()


def status_label(status: str) -> str:
    return f"{STATUS_ICONS.get(status, '')} {STATUS_NAMES.get(status, status)}".strip()


# A button alone in its row shows about this many characters on a phone.
BUTTON_WIDTH = 30


def list_label(item: CaseSummary) -> str:
    """A case in a list: flag, name and status; on a phone the status gives way to the
    name, and a name longer than the row ends in "…"."""
    # Button labels are plain text, so no escaping; Telegram shows them literally.
    flag = FLAGS.get(item.country, "")
    full = f"{flag} {item.name} · {STATUS_NAMES.get(item.status, '')}"
    if len(full) <= BUTTON_WIDTH:
        return full
    named = f"{flag} {item.name}"
    return named if len(named) <= BUTTON_WIDTH else named[: BUTTON_WIDTH - 1].rstrip() + "…"


def zone_adopted(zone: str) -> str:
    return _("🕒 Times are now shown for {zone}. Is that where you are?").format(
        zone=escape(timezone_label(zone))
    )


def zone_kept(zone: str) -> str:
    return _("🕒 Times are shown for {zone}. You can change this in /settings.").format(
        zone=escape(timezone_label(zone))
    )


def clock(hour: int) -> str:
    """An hour of the day the reader's way (Babel): 22:00, or 10:00 PM in English."""
    return format_time(dt.time(hour), "short", locale=_babel_locale())


def timezone_label(tz: str) -> str:
    """A city in the reader's language and its UTC offset today: "Ташкент (UTC+05:00)".
    Babel's location name without `return_city` adds a generic "(summer) time" that is
    wrong half the year (and in Russian said "летнее время" of every zone)."""
    if tz == "UTC":
        return "UTC"
    offset = dt.datetime.now(ZoneInfo(tz)).strftime("%z")
    city = get_timezone_location(tz, locale=_babel_locale(), return_city=True)
    return f"{city} (UTC{offset[:3]}:{offset[3:]})"


def quiet_label(hours: tuple[int, int] | None) -> str:
    if hours is None:
        return _("No quiet hours")
    return _("Quiet from {start} to {end}").format(start=clock(hours[0]), end=clock(hours[1]))


def delivery_label(mode: str) -> str:
    labels: dict[str, str] = {
        DeliveryMode.INSTANT: _("Each alert at once"),
        DeliveryMode.DAILY: _("A daily digest"),
        DeliveryMode.WEEKLY: _("A weekly digest"),
    }
    return labels[mode]


def discreet_label(on: bool) -> str:
    return _("🙈 Discreet mode: on") if on else _("🙈 Discreet mode: off")


def birthdays_label(on: bool) -> str:
    return _("🎂 All birthdays: on") if on else _("🎂 All birthdays: off")


def protected_label(on: bool) -> str:
    return _("🛡 Protected messages: on") if on else _("🛡 Protected messages: off")


def autodelete_label(hours: int | None) -> str:
    if hours is None:
        return _("🗑 Keep alerts")
    return ngettext(
        "🗑 Delete alerts after {count} hour", "🗑 Delete alerts after {count} hours", hours
    ).format(count=number(hours))


def autodelete_state(hours: int | None) -> str:
    """Whether alerts delete themselves, said as a state (the settings' line and button),
    not as a command: "🗑 Keep alerts" there read as an order to keep them."""
    if hours is None:
        return _("🗑 Auto-delete: off")
    return ngettext(
        "🗑 Auto-delete: after {count} hour", "🗑 Auto-delete: after {count} hours", hours
    ).format(count=number(hours))


def long_date(day: dt.date) -> str:
    return format_date(day, "long", locale=_babel_locale())


def day_month(day: dt.date) -> str:
    """A day of the year without the year ("12 March"): a birthday."""
    return format_date(day, "d MMMM", locale=_babel_locale())


def short_moment(at: dt.datetime, tz: str) -> str:
    """A moment short enough for a button: 01.03.2099, 10:00 (the reader's way)."""
    return format_datetime(at.astimezone(ZoneInfo(tz)), "short", locale=_babel_locale())


def moment(at: dt.datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return _("{date} at {time}").format(
        date=format_date(local.date(), "long", locale=_babel_locale()),
        time=format_time(local.time(), "short", locale=_babel_locale()),
    )


def welcome(*, returning: bool | None, family: bool = False) -> str:
    """The greeting of /start (`returning`: whether the person had been here before), or
    with None the main menu's heading, which greets no one: a relative or a new staff
    member reaches it minutes after arriving. A relative is told how to reach the team."""
    intro = (
        _("<b>Umid</b>: the main menu.")
        if returning is None
        else _("Welcome back to <b>Umid</b>.")
        if returning
        else _(
            "Welcome to <b>Umid</b> — “hope”. Here you can follow the cases of prisoners of "
            "conscience in Central Asia, write them letters and hear about hearings and releases."
        )
    )
    note = _(
        "🔒 We do not store your name, username or phone number. Your Telegram id is kept "
        "only in encrypted form. /privacy explains the rest, and /forget deletes everything."
    )
    lang = _("Language: {language}. Change it with /language.").format(
        language=LANGUAGE_NAMES[_babel_locale()]
    )
    if family:
        relative = _(
            "📨 You can send the campaign team news of your relative with /report: only its "
            "editors read it."
        )
        return f"{intro}\n\n{relative}\n\n{note}\n\n{lang}"
    return f"{intro}\n\n{note}\n\n{lang}"


ROLE_NAMES: dict[str, LazyProxy] = {
    StaffRole.ADMIN: __("admin"),
    StaffRole.EDITOR: __("editor"),
    StaffRole.BROADCASTER: __("broadcaster"),
}


def role_name(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


def help_text(*, role: str | None = None, family: bool = False) -> str:
    """What the bot can do for this reader: a supporter's commands, then a relative's
    and their staff role's, from the same table as their command menu."""
    blocks = [
        _(
            "<b>What I can do</b>\n"
            "/cases — browse cases by country and status\n"
            "/case NAME — find a case by name, in any alphabet\n"
            "/follow NAME — follow a case and receive its news\n"
            "/unfollow NAME — stop following a case\n"
            "/mycases — the cases you follow\n"
            "/letter — a card or an appeal: add a name, or let the bot pick someone who "
            "needs letters now\n"
            "/check — check a letter's draft before you post it\n"
            "/me — what you have done\n"
            "/settings — time zone, quiet hours, digest, discreet mode\n"
            "/language — change the language\n"
            "/privacy — what we store and why\n"
            "/forget — delete everything about you\n"
            "/panic — delete this chat's messages at once\n\n"
            "You can also simply send a name to search for it."
        )
    ]
    if family:
        blocks.append(_("<b>For relatives</b>") + "\n" + _command_lines(FAMILY_COMMANDS))
    if role is not None:
        mine = tuple((cmd, desc) for cmd, desc, roles in STAFF_COMMANDS if role in roles)
        blocks.append(
            _("<b>For your role: {role}</b>").format(role=escape(role_name(role)))
            + "\n"
            + _command_lines(mine)
        )
    return "\n\n".join(blocks)


def _command_lines(commands: Sequence[tuple[str, LazyProxy]]) -> str:
    return "\n".join(
        _("/{command} — {description}").format(command=cmd, description=desc)
        for cmd, desc in commands
    )


def case_page(page: CasePage, country: str, status: str) -> str:
    filters = []
    if country:
        filters.append(country_label(country))
    if status:
        filters.append(status_label(status))
    header = _("<b>Cases</b>")
    if filters:
        header = f"{header} · {escape(' · '.join(filters))}"
    if not page.items:
        empty = _("No cases match these filters.")
        return f"{header}\n\n{empty}"
    count = ngettext("{count} case", "{count} cases", page.total).format(count=number(page.total))
    hint = _("Choose a case to read about it.")
    return f"{header}\n{count}\n\n{hint}"


def search_header(query: str, count: int) -> str:
    if not count:
        return _("Nothing found for “{query}”. Try another spelling or browse /cases.").format(
            query=escape(query)
        )
    return ngettext(
        "{count} case found for “{query}”:", "{count} cases found for “{query}”:", count
    ).format(count=number(count), query=escape(query))


def court_label(value: str) -> str:
    """A hearing's court in the reader's language if it is one of the list, as typed if
    not; plain text, for a button."""
    return courts.name(value, [_babel_locale()])


def court_name(value: str) -> str:
    """The same, escaped for a message."""
    return escape(court_label(value))


def hearing_line(hearing: Hearing, reader_tz: str) -> str:
    kind = HEARING_KINDS.get(hearing.kind, HEARING_KINDS[HearingKind.OTHER])
    when = moment(hearing.starts_at, reader_tz)
    if reader_tz != hearing.timezone:
        court_time = format_time(
            hearing.starts_at.astimezone(ZoneInfo(hearing.timezone)).time(),
            "short",
            locale=_babel_locale(),
        )
        return _("📅 {kind}: {when} (court time {court_time}), {court}").format(
            kind=kind, when=when, court_time=court_time, court=court_name(hearing.court)
        )
    return _("📅 {kind}: {when}, {court}").format(
        kind=kind, when=when, court=court_name(hearing.court)
    )


def snippet(text: str, limit: int = 300) -> str:
    """The start of a long plain text, escaped; cut before escaping, so no entity is halved."""
    return escape(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


# Telegram's limit for a message, less a margin for what Babel and translators add.
_ROOM = 4000
# On the case card the facility's rules and the topics are a foretaste; the letter
# prompt shows them whole.
_CARD_EXTRA = 300
_TAG = re.compile(r"<[^>]+>")


def _visible_len(html_text: str) -> int:
    return len(unescape(_TAG.sub("", html_text)))


def _fitted(room: int, items: list[tuple[str, str]], cap: int) -> list[str]:
    """Labelled texts (label with a {text} placeholder) sharing the room a message has
    left: each is cut to its share, and left out if its share is too small to read."""
    out = []
    share = room // max(len(items), 1)
    for label, value in items:
        limit = min(cap, share - _visible_len(label.format(text="")))
        if limit >= 40:
            out.append(label.format(text=snippet(value, limit)))
    return out


def language_name(locale: str) -> str:
    """A language named in the reader's language (Babel): Russian, русский, орыс тілі."""
    try:
        return str(Locale.parse(locale).get_display_name(_babel_locale()) or locale)
    except (ValueError, UnknownLocaleError):
        return locale


def fallback_note(locale: str) -> str:
    return _("🌐 Shown in {language}: there is no version in your language yet.").format(
        language=escape(language_name(locale))
    )


def born_line(born: dt.date, living: bool) -> str:
    """The date of birth, with the age while the person lives."""
    if not living:
        return _("🎂 Born {date}").format(date=long_date(born))
    now = today()
    age = now.year - born.year - ((now.month, now.day) < (born.month, born.day))
    return ngettext(
        "🎂 Born {date} ({count} year old)", "🎂 Born {date} ({count} years old)", age
    ).format(date=long_date(born), count=number(age))


def letters_sent(count: int) -> str:
    """The one way the bot says how many letters a person has been sent (every kind)."""
    return ngettext("{count} letter sent", "{count} letters sent", count).format(
        count=number(count)
    )


def letters_so_far(count: int) -> str:
    return ngettext(
        "✉️ {count} letter sent so far.", "✉️ {count} letters sent so far.", count
    ).format(count=number(count))


def no_address_text(waiting: bool) -> str:
    if waiting:
        return _(
            "📭 We do not have a safe postal address for this person yet, so a card cannot "
            "be sent now. You can prepare one: we will tell you as soon as letters can be sent."
        )
    return _(
        "📭 We do not have a safe postal address for this person yet, so a card cannot "
        "be sent now. You can prepare one, and ask us to tell you when letters can be sent."
    )


def letters_line(accepts: bool) -> str:
    if accepts:
        return _("✉️ Letters reach this person.")
    return _("🚫 Letters do not reach this person now.")


def letter_language_line(locale: str) -> str:
    return _(
        "✍️ <b>Language of letters:</b> {language}. The facility hands over only letters "
        "written in it."
    ).format(language=escape(language_name(locale)))


def _rules_heading() -> str:
    return _("📋 <b>The facility's rules for letters:</b>\n{text}")


def _topics_heading() -> str:
    return _("💬 <b>What you can talk about:</b>\n{text}")


def case_card(card: CaseCard, reader_tz: str) -> str:
    case, text = card.case, card.text
    in_custody = case.status in IN_CUSTODY
    lines = [
        f"<b>{escape(text.name)}</b>",
        f"{country_label(case.country)} · {status_label(case.status)}",
    ]
    if case.detained_on:
        lines.append(_("Detained since {date}").format(date=long_date(case.detained_on)))
    if case.born_on:
        lines.append(born_line(case.born_on, case.status != CaseStatus.DECEASED))
    if in_custody and case.release_expected_on and case.release_expected_on >= today():
        lines.append(
            _("🗓 Expected release: {date}").format(date=long_date(case.release_expected_on))
        )
    if text.charges:
        lines.append(_("<b>Charges:</b> {charges}").format(charges=escape(text.charges)))
    if text.sentence:
        lines.append(_("<b>Sentence:</b> {sentence}").format(sentence=escape(text.sentence)))
    if text.place_of_detention:
        lines.append(
            _("<b>Place of detention:</b> {place}").format(place=escape(text.place_of_detention))
        )
    if text.summary:
        lines.extend(["", escape(text.summary)])
    if text.locale != _babel_locale():
        # A case not yet described in the reader's language is shown in a fallback one;
        # say so, or a Kazakh reader may think the bot itself switched to Russian.
        lines.extend(["", fallback_note(text.locale)])
    letter_facts: list[tuple[str, str]] = []
    if in_custody:
        if case.accepts_letters and not case.prison_address:
            # Said before the Write button is pressed: the card cannot go in the post yet.
            lines.extend(["", _("📭 Letters reach this person, but we have no safe address yet.")])
        else:
            lines.extend(["", letters_line(case.accepts_letters)])
        if case.accepts_letters and case.letter_locale:
            lines.append(letter_language_line(case.letter_locale))
        if case.accepts_letters:
            if card.letter_rules:
                letter_facts.append((_rules_heading(), card.letter_rules))
            if card.topics:
                letter_facts.append((_topics_heading(), card.topics))
    # Where the rules and topics go; they take what room the rest of the card leaves.
    facts_at = len(lines)
    if card.next_hearing:
        lines.extend(["", hearing_line(card.next_hearing, reader_tz)])
    if card.action:
        lines.extend(
            [
                "",
                _("🚨 <b>Urgent action</b>, until {when}:").format(
                    when=moment(card.action.deadline, reader_tz)
                ),
                snippet(card.action.text),
            ]
        )
        if card.action.done:
            lines.append(_("✅ You did it. Thank you!"))
    if card.latest:
        day = card.latest.at.astimezone(ZoneInfo(reader_tz)).date()
        heading = (
            _("📰 <b>Latest news</b> ({date}):").format(date=long_date(day))
            if card.latest.locale == _babel_locale()
            else _("📰 <b>Latest news</b> ({date}), written in {language}:").format(
                date=long_date(day), language=escape(language_name(card.latest.locale))
            )
        )
        lines.extend(["", heading, snippet(card.latest.text)])
    followers = ngettext("{count} follower", "{count} followers", card.followers).format(
        count=number(card.followers)
    )
    lines.extend(["", f"👥 {followers} · ✉️ {letters_sent(card.letters)}"])
    if card.following:
        lines.append(_("⭐ You follow this case."))
    if letter_facts:
        room = _ROOM - _visible_len("\n".join(lines))
        lines[facts_at:facts_at] = _fitted(room, letter_facts, _CARD_EXTRA)
    return "\n".join(lines)


def need_offer(offer: Offer) -> str:
    """Who is offered to a supporter asking to write to someone who needs it."""
    name = escape(offer.name)
    if offer.recent == 0:
        lead = _("✍️ Nobody has recorded a card to <b>{name}</b> in the last 30 days.").format(
            name=name
        )
    else:
        lead = ngettext(
            "✍️ <b>{name}</b> has received few letters lately: {count} card in the last 30 days.",
            "✍️ <b>{name}</b> has received few letters lately: {count} cards in the last 30 days.",
            offer.recent,
        ).format(name=name, count=number(offer.recent))
    where = f"{country_label(offer.case.country)} · {status_label(offer.case.status)}"
    why = _(
        "A card from you tells them they are not forgotten, and shows the prison that "
        "people are watching."
    )
    return f"{lead}\n{where}\n\n{why}"


def letter_choice(name: str) -> str:
    return _("What would you like to write for <b>{name}</b>?").format(name=escape(name))


def letter_prompt(prompt: LetterPrompt) -> str:
    name = escape(prompt.text.name)
    if prompt.kind is LetterKind.CARD:
        title = _("💌 <b>A card for {name}</b>").format(name=name)
        tips = _(
            "<b>Write:</b> warm, simple words; that they are not forgotten; everyday news, "
            "the seasons, books, music; a drawing or a postcard.\n"
            "<b>Never write:</b> politics, the case or the charges, criticism of the "
            "authorities, names of organisations, your address or anything that could identify "
            "you or put the prisoner at risk. Prison staff read every letter."
        )
    else:
        title = _("📜 <b>An appeal for {name}</b>").format(name=name)
        tips = _(
            "<b>Write:</b> politely and firmly; who the person is and that they are held for "
            "peacefully exercising their rights; ask for their immediate release, access to a "
            "lawyer, to their family and to medical care.\n"
            "<b>Never write:</b> insults or threats, unverified facts, or details that could "
            "put the person or their family at risk."
        )
    case = prompt.case
    parts = [title]
    if not prompt.postable:
        # Said first, before any text to copy: this card cannot go in the post yet.
        parts.append(no_address_text(prompt.waiting))
    facts = []
    if case.born_on:
        facts.append(born_line(case.born_on, living=True))
    # An appeal says why no card is offered. A card with an address needs no line saying
    # letters arrive: the address under it says so, in fewer lines.
    if not case.accepts_letters:
        facts.append(letters_line(case.accepts_letters))
    if facts:
        parts.append("\n".join(facts))
    envelope = "\n".join(x for x in (prompt.recipient, prompt.address) if x)
    address = f"<code>{escape(envelope)}</code>" if prompt.address else ""
    if prompt.kind is LetterKind.APPEAL:
        # Whom to write to and where, in one block.
        addressee = escape(prompt.text.authority)
        parts.append(
            _("<b>Send to:</b> {addressee}\n{address}").format(addressee=addressee, address=address)
            if address
            else _("<b>Send to:</b> {addressee}").format(addressee=addressee)
        )
    elif address:
        parts.append(_("<b>Address for the card:</b>\n{address}").format(address=address))
    if prompt.kind is LetterKind.CARD and case.letter_locale:
        parts.append(letter_language_line(case.letter_locale))
    # Where the rules and topics go; they take what room the rest of the prompt leaves.
    facts_at = len(parts)
    parts.append(
        _("Version {variant} of {count}. Copy it, change it, make it yours:").format(
            variant=prompt.variant, count=prompt.variants
        )
    )
    parts.append(f"<blockquote>{escape(prompt.body.strip())}</blockquote>")
    parts.append(tips)
    if prompt.postable:  # nothing is counted where nothing can be sent
        parts.append(letters_so_far(prompt.total))
    letter_facts = [
        (label, value)
        for label, value in (
            (_rules_heading(), prompt.letter_rules),
            (_topics_heading(), prompt.topics),
        )
        if value
    ]
    if letter_facts:
        room = _ROOM - _visible_len("\n\n".join(parts))
        parts[facts_at:facts_at] = _fitted(room, letter_facts, _ROOM)
    return "\n\n".join(parts)


def _alert_lines(person: Person) -> list[str]:
    hours = (
        (person.quiet_from, person.quiet_to)
        if person.quiet_from is not None and person.quiet_to is not None
        else None
    )
    return [
        _("Time zone: {value}").format(value=escape(timezone_label(person.timezone))),
        _("Quiet hours: {value}").format(value=quiet_label(hours)),
        _("Delivery: {value}").format(value=delivery_label(person.delivery)),
        birthdays_label(person.birthday_prompts),
    ]


def _safety_lines(person: Person) -> list[str]:
    return [
        discreet_label(person.discreet),
        protected_label(person.protect_content),
        autodelete_state(person.autodelete_hours),
        _("🆘 Panic word: set") if panic.has_word(person) else _("🆘 Panic word: none"),
    ]


def settings_text(person: Person) -> str:
    """Every setting's state at a glance; the buttons lead to two groups of them."""
    return "\n".join(
        [
            _("<b>Your settings</b>"),
            "",
            _("<b>🔔 Alerts</b>"),
            *_alert_lines(person),
            "",
            _("<b>🛡 Safety</b>"),
            *_safety_lines(person),
        ]
    )


def alert_settings_text(person: Person) -> str:
    return _group_screen(
        _("<b>🔔 Alerts</b>"),
        _alert_lines(person),
        _(
            "Alerts that are not urgent wait until your quiet hours end. A digest "
            "gathers them into one message a day or a week."
        ),
    )


def safety_settings_text(person: Person) -> str:
    return _group_screen(
        _("<b>🛡 Safety</b>"),
        _safety_lines(person),
        _(
            "Discreet mode keeps prisoners' names out of notification previews. Protected "
            "messages cannot be forwarded or saved. Alerts can also delete themselves "
            "after a few hours, and a panic word clears this chat, so a phone that is "
            "searched shows less."
        ),
    )


def _group_screen(heading: str, states: list[str], why: str) -> str:
    """One group of settings: its heading, each state on a line, and why they exist."""
    return "\n".join([heading, *states, "", why])


def safety_text(*, safest: bool) -> str:
    """One screen on why the safety settings exist, for someone whose phone may be searched."""
    lines = [
        _("<b>🛡 Why these settings</b>"),
        "",
        _(
            "In Central Asia phones are searched at borders, at police stops and after "
            "arrests, and a chat about a political prisoner can be used against you or "
            "against the prisoner's family. These settings make this chat say as little "
            "as possible to whoever holds your phone."
        ),
        "",
        _(
            "🙈 <b>Discreet mode</b>: alerts start without the prisoner's name, so a "
            "notification on a locked screen gives nothing away."
        ),
        _(
            "🔐 <b>Protected messages</b>: they cannot be forwarded or saved, so they do not "
            "spread beyond this chat."
        ),
        _(
            "⏳ <b>Auto-delete</b>: the bot deletes each alert after the hours you choose. "
            "Telegram allows this for 48 hours, so the longest choice is 47."
        ),
        _(
            "🆘 <b>Panic</b>: /panic, or a word of your own, deletes at once what the bot "
            "can still delete in this chat."
        ),
        "",
        _(
            "The bot itself stores no name, username or phone number, and your Telegram id "
            "only encrypted. For more safety, set a passcode on Telegram and hide message "
            "previews in your phone's notification settings."
        ),
    ]
    if safest:
        lines += ["", _("✅ Every protection is on.")]
    return "\n".join(lines)


def privacy_text() -> str:
    return "\n\n".join([_privacy_main(), _privacy_details()])


def _privacy_main() -> str:
    return _(
        "<b>What Umid stores, and why</b>\n\n"
        "• Your Telegram id, encrypted, so that we can send you the alerts you asked for. "
        "It is found through a keyed fingerprint; the key is not kept in the database.\n"
        "• Your language and settings (time zone, quiet hours, delivery, discreet mode).\n"
        "• Which cases you follow, and which letters you recorded as sent.\n\n"
        "We never store your name, username, phone number or contacts, nor the text you send "
        "us. Logs hold no message text and no ids.\n\n"
        "Counters such as “letters sent” are anonymous and stay when you leave.\n\n"
        "/forget deletes everything else about you at once, for good."
    )


def _privacy_details() -> str:
    # Each a whole sentence in the catalogue: kept for the person's own safety, or sent
    # on purpose.
    return "\n\n".join(
        [
            _(
                "For 48 hours we keep the numbers of the messages in our chat (never their "
                "text), so that /panic can delete them."
            ),
            _(
                "If you are a prisoner's relative and send the campaign team a message with "
                "/report, it is kept encrypted, for the team's editors alone, until you delete "
                "it with /forget."
            ),
            _(
                "If you ask to be told when a card can be sent to someone, we keep that wish "
                "until we have told you, or until /forget."
            ),
        ]
    )


def report_limit_text(limit: int) -> str:
    """Past the daily number of messages to the campaign team (reports of either kind)."""
    return ngettext(
        "Thank you for everything you have sent today. So that the team can read each "
        "message with care, up to {count} message a day can be sent; please send the next "
        "one tomorrow.",
        "Thank you for everything you have sent today. So that the team can read each "
        "message with care, up to {count} messages a day can be sent; please send the next "
        "one tomorrow.",
        limit,
    ).format(count=number(limit))


def my_record(record: Record) -> str:
    """/me: the supporter's own record; every line a whole sentence with its own plural."""
    lines = [_("<b>📊 What you have done</b>"), ""]
    if record.letters == 0:
        lines.append(_("✉️ You have not recorded a letter yet."))
    else:
        lines.append(
            ngettext(
                "✉️ You have recorded {count} letter: {cards} to prisoners, {appeals} to the "
                "authorities.",
                "✉️ You have recorded {count} letters: {cards} to prisoners, {appeals} to the "
                "authorities.",
                record.letters,
            ).format(
                count=number(record.letters),
                cards=number(record.cards),
                appeals=number(record.appeals),
            )
        )
        lines.append(
            ngettext(
                "👥 You wrote for {count} person.",
                "👥 You wrote for {count} people.",
                record.written_to,
            ).format(count=number(record.written_to))
        )
        if record.free_now:
            lines.append(
                ngettext(
                    "🕊 {count} of the people you wrote for is free now.",
                    "🕊 {count} of the people you wrote for are free now.",
                    record.free_now,
                ).format(count=number(record.free_now))
            )
        else:
            lines.append(_("🕊 None of them is free yet. Your letters help them hold on."))
    if record.actions:
        lines.append(
            ngettext(
                "🚨 You took part in {count} urgent action.",
                "🚨 You took part in {count} urgent actions.",
                record.actions,
            ).format(count=number(record.actions))
        )
    lines.append(
        ngettext(
            "⭐ You follow {count} case.", "⭐ You follow {count} cases.", record.following
        ).format(count=number(record.following))
    )
    lines += [
        "",
        _(
            "Only you see this. It is worked out from what the bot keeps anyway, and "
            "/forget deletes it with everything else."
        ),
    ]
    return "\n".join(lines)
