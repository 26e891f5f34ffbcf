"""What editors see of a case while they create and change it (handlers/staff/new_case.py,
edit_case.py, edit_field.py): the fields' names, why a value was refused, the case as an
editor sees it, and the menus and questions of /editcase.

One wording for both dialogues, so they never say the same thing two ways. What staff
typed is escaped wherever it is shown. Nothing here reads the database: the case comes
in. The dialogue's own Back and Stop are put under a step's buttons by the handler.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from bot.i18n import LANGUAGE_NAMES
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CaseEditCb
from bot.services import cases
from bot.services.case_editing import EditorCase, StaffMatch
from bot.services.case_rules import (
    CASE_FIELDS,
    DATE_FIELDS,
    LOCALES,
    TEXT_FIELDS,
    Problem,
    RuleError,
    is_optional,
    limit_of,
)
from db.models import Visibility

# A screen: its text and its buttons.
Screen = tuple[str, InlineKeyboardMarkup]

# Long texts are cut on screens that show many of them: a message holds 4096 characters.
PREVIEW = 400

FIELD_NAMES = {
    "name": __("Name"),
    "summary": __("Summary"),
    "charges": __("Charges"),
    "sentence": __("Sentence"),
    "place_of_detention": __("Place of detention"),
    "authority": __("Addressee of appeals"),
    "salutation": __("Salutation"),
    "detained_on": __("Date of detention"),
    "accepts_letters": __("Accepts letters"),
    "authority_locale": __("Authority's language"),
    "authority_address": __("Authority's address"),
    "prison_address": __("Prison address"),
    "letter_rules": __("Facility's letter rules"),
    "topics": __("What to talk about"),
    "born_on": __("Date of birth"),
    "release_expected_on": __("Expected release"),
    "letter_locale": __("Language of letters"),
}
VISIBILITY_LINES = {
    Visibility.PUBLIC: __("👁 Public: supporters can find and follow it."),
    Visibility.HIDDEN: __("🙈 Hidden: supporters do not see it."),
    Visibility.ARCHIVED: __("🗄 Archived: supporters do not see it."),
}
VISIBILITY_ICONS: dict[str, str] = {
    Visibility.PUBLIC: "👁",
    Visibility.HIDDEN: "🙈",
    Visibility.ARCHIVED: "🗄",
}


# --- the fields, as both dialogues name them ---------------------------------------------


def shorten(text: str, limit: int = PREVIEW) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_name(field: str) -> str:
    return str(FIELD_NAMES.get(field, field))


def language(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale, locale)


def letters_line(accepts: bool) -> str:
    return _("✉️ Accepts letters: yes") if accepts else _("🚫 Accepts letters: no")


def limit_line(field: str) -> str | None:
    """The limit under a question that asks for free text; None for other fields."""
    limit = limit_of(field)
    if limit is None:
        return None
    return ngettext("At most {count} character.", "At most {count} characters.", limit).format(
        count=views.number(limit)
    )


def problem(err: RuleError) -> str:
    """What to tell an editor about a refused value; the step then repeats."""
    if err.problem is Problem.TOO_LONG and err.limit is not None:
        return ngettext(
            "That is too long: at most {limit} character. Please send a shorter text.",
            "That is too long: at most {limit} characters. Please send a shorter text.",
            err.limit,
        ).format(limit=views.number(err.limit))
    if err.problem is Problem.REQUIRED:
        return _("This cannot be left empty. Please send the text.")
    if err.problem is Problem.FUTURE and err.field == "born_on":
        return _("That date is in the future. Please send the person's date of birth.")
    if err.problem is Problem.FUTURE:
        return _("That date is in the future. Please send the day the person was detained.")
    if err.problem is Problem.TAKEN:
        return _("Another case already has this slug. Please choose another one.")
    if err.problem is Problem.EXISTS:
        return _("This case already has a version in that language.")
    if err.field == "slug":
        return _(
            "A slug is 3 to 64 characters: small Latin letters, digits and dashes, "
            "not starting or ending with a dash. For example: ivan-petrov"
        )
    if err.field == "born_on":
        return _("That is not a date of birth. Please write it like 1980-05-12.")
    if err.field in DATE_FIELDS:
        return _("That is not a date. Please write it like 2021-03-15.")
    return _("This value cannot be used. Please send another one.")


def saved(changed: bool) -> str:
    return _("Saved.") if changed else _("That is what it already says. Nothing was changed.")


# --- the case, as an editor sees it --------------------------------------------------------


def back_to_case(case_id: int) -> CaseEditCb:
    """Where Back leads from a screen opened from the case's view: the view again."""
    return CaseEditCb(action="view", case=case_id)


def _dates(view: EditorCase) -> list[str]:
    case = view.case
    lines = []
    if case.detained_on:
        lines.append(
            _("<b>Date of detention:</b> {date}").format(date=views.long_date(case.detained_on))
        )
    if case.born_on:
        lines.append(_("<b>Date of birth:</b> {date}").format(date=views.long_date(case.born_on)))
    if case.release_expected_on:
        lines.append(
            _("<b>Expected release:</b> {date}").format(
                date=views.long_date(case.release_expected_on)
            )
        )
    return lines


def _editor_text(view: EditorCase, chain: list[str]) -> str:
    case, texts = view.case, view.texts
    name = cases.pick_text(texts, chain).name if texts else case.slug
    lines = [
        f"✏️ <b>{escape(name)}</b>",
        f"<code>{escape(case.slug)}</code> · {views.country_label(case.country)} · "
        f"{views.status_label(case.status)}",
        str(VISIBILITY_LINES.get(case.visibility, case.visibility)),
        _("📷 Photo: yes") if case.photo else _("📷 Photo: none"),
        letters_line(case.accepts_letters),
        *_dates(view),
    ]
    if case.letter_locale:
        lines.append(
            _("<b>Language of letters:</b> {language}").format(
                language=escape(language(case.letter_locale))
            )
        )
    lines.append(
        _("<b>Authority's language:</b> {language}").format(
            language=escape(language(case.authority_locale))
        )
    )
    lines.append(
        _("<b>Authority's address:</b> {address}").format(
            address=escape(shorten(case.authority_address))
        )
    )
    if case.prison_address:
        lines.append(
            _("<b>Prison address:</b> {address}").format(
                address=escape(shorten(case.prison_address))
            )
        )
    lines.extend(["", _("<b>Language versions</b>")])
    for loc, text in texts.items():
        lines.append(f"• {escape(language(loc))}: {escape(text.name)}")
    for field in ("letter_rules", "topics"):
        having = [language(loc) for loc, text in texts.items() if getattr(text, field)]
        shown = escape(", ".join(having)) if having else "—"
        lines.append(_("<b>{field}:</b> {value}").format(field=field_name(field), value=shown))
    lines.extend(
        [
            "",
            _(
                "The country and the slug stay as they were created. Status changes "
                "(released, sentenced, transferred …) are made with /update, so that "
                "followers are told."
            ),
        ]
    )
    return "\n".join(lines)


def _editor_markup(view: EditorCase) -> InlineKeyboardMarkup:
    case = view.case
    assert case.id is not None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✏️ Edit a field"), callback_data=CaseEditCb(action="fields", case=case.id))
    if len(view.texts) < len(LOCALES):
        kb.button(
            text=_("🌐 Add a language"), callback_data=CaseEditCb(action="lang", case=case.id)
        )
    kb.button(text=_("📷 Photo"), callback_data=CaseEditCb(action="photo", case=case.id))
    labels = {
        Visibility.PUBLIC: _("👁 Publish"),
        Visibility.HIDDEN: _("🙈 Hide"),
        Visibility.ARCHIVED: _("🗄 Archive"),
    }
    for visibility, label in labels.items():
        if visibility != case.visibility:
            kb.button(
                text=label, callback_data=CaseEditCb(action="vis", case=case.id, value=visibility)
            )
    kb.adjust(1)
    return kb.as_markup()


def editor_view(view: EditorCase, chain: list[str]) -> Screen:
    """The case as it now is, with what an editor may do to it."""
    return _editor_text(view, chain), _editor_markup(view)


def visibility_notice(visibility: str) -> str | None:
    """What a change of visibility did; None for a visibility there is not."""
    notices: dict[str, str] = {
        Visibility.PUBLIC: _("The case is public: supporters can find it now."),
        Visibility.HIDDEN: _("The case is hidden from supporters."),
        Visibility.ARCHIVED: _("The case is archived: supporters no longer see it."),
    }
    return notices.get(visibility)


# --- /editcase's questions and menus --------------------------------------------------------


def find_question() -> str:
    return _(
        "Which case? Send the person's name or the case's slug. Hidden and archived "
        "cases are found too."
    )


def matches(query: str, found: Sequence[StaffMatch]) -> tuple[str, InlineKeyboardBuilder]:
    """The cases a search found (none, or more than one), each a button that opens it."""
    kb = InlineKeyboardBuilder()
    for match in found:
        kb.button(
            text=f"{VISIBILITY_ICONS.get(match.visibility, '')} {match.name} · {match.slug}",
            callback_data=CaseEditCb(action="view", case=match.id),
        )
    kb.adjust(1)
    shown = escape(cases.normalise_query(query))
    if found:
        text = _("Several cases match “{query}”. Choose one, or send a more exact name.")
    else:
        text = _("No case matches “{query}”. Send another name or the case's slug.")
    return text.format(query=shown), kb


def _menu(kb: InlineKeyboardBuilder, case_id: int, columns: int = 2) -> InlineKeyboardMarkup:
    """A menu's choices two a row (or `columns`), and Back to the case."""
    kb.adjust(columns)
    kb.row(InlineKeyboardButton(text=_("« Back"), callback_data=back_to_case(case_id).pack()))
    return kb.as_markup()


def fields_menu(case_id: int) -> Screen:
    kb = InlineKeyboardBuilder()
    for field in (*TEXT_FIELDS, *CASE_FIELDS):
        kb.button(
            text=field_name(field),
            callback_data=CaseEditCb(action="field", case=case_id, field=field),
        )
    text = _(
        "Which field? The country and the slug cannot be changed; the status is changed "
        "with /update."
    )
    # One a row: a field's name ("The facility's rules for letters") is too long for half
    # a phone's width in most languages.
    return text, _menu(kb, case_id, columns=1)


def versions_menu(case_id: int, field: str, locales: Iterable[str]) -> Screen:
    """Which language version of a text field to change."""
    kb = InlineKeyboardBuilder()
    for loc in locales:
        kb.button(
            text=language(loc),
            callback_data=CaseEditCb(action="field", case=case_id, field=field, locale=loc),
        )
    text = _("Which language version of “{field}”?").format(field=field_name(field))
    return text, _menu(kb, case_id)


def languages_menu(case_id: int, missing: Iterable[str]) -> Screen:
    """Which language version to add: those the case has not."""
    kb = InlineKeyboardBuilder()
    for loc in missing:
        kb.button(
            text=language(loc), callback_data=CaseEditCb(action="lang", case=case_id, locale=loc)
        )
    return _("Which language do you want to add?"), _menu(kb, case_id)


def choices_menu(case_id: int, field: str, current: Any) -> Screen:
    """A field set by pressing: its values, the current one ticked, Clear if optional."""
    kb = InlineKeyboardBuilder()
    if field == "accepts_letters":
        options = [("1", _("✅ Yes")), ("0", _("🚫 No"))]
        chosen = "1" if current else "0"
        question = _("Can the person receive letters now?")
    elif field == "letter_locale":
        options = [(loc, language(loc)) for loc in LOCALES]
        chosen = str(current)
        question = _(
            "Does the facility hand over only letters in one language? Choose it, or clear "
            "it if letters in any language arrive."
        )
    else:
        options = [(loc, language(loc)) for loc in LOCALES]
        chosen = str(current)
        question = _("In which language does this authority work? Appeals are offered in it too.")
    for value, label in options:
        kb.button(
            text=f"✓ {label}" if value == chosen else label,
            callback_data=CaseEditCb(action="set", case=case_id, field=field, value=value),
        )
    if is_optional(field):
        kb.button(
            text=_("🗑 Clear"), callback_data=CaseEditCb(action="clear", case=case_id, field=field)
        )
    return question, _menu(kb, case_id)


def value_question(field: str, locale: str, current: str | dt.date | None) -> str:
    """What to send for a typed field, and what it holds now."""
    if field in DATE_FIELDS:
        if field == "born_on":
            ask = _(
                "Send the date of birth, for example 25.12.1980. Only a date the family or a "
                "public source gives: prisons ask for it on the envelope."
            )
        elif field == "release_expected_on":
            ask = _("Send the date the sentence is expected to end, for example 25.12.2030.")
        else:
            ask = _("Send the date of detention, for example 25.12.2024.")
        now = views.long_date(current) if isinstance(current, dt.date) else None
    else:
        if locale:
            ask = _("Send the new “{field}” in {language}.").format(
                field=field_name(field), language=language(locale)
            )
        else:
            ask = _("Send the new “{field}”.").format(field=field_name(field))
        limit = limit_line(field)
        ask = f"{ask}\n{limit}" if limit else ask
        now = escape(shorten(current)) if isinstance(current, str) and current else None
    shown = _("Now: {value}").format(value=now) if now else _("Now: empty")
    return f"{ask}\n\n{shown}"


def clear_value(case_id: int, field: str, locale: str) -> InlineKeyboardBuilder:
    """Clear, under the question for a typed field that may be left empty."""
    kb = InlineKeyboardBuilder()
    if is_optional(field):
        kb.button(
            text=_("🗑 Clear"),
            callback_data=CaseEditCb(action="clear", case=case_id, field=field, locale=locale),
        )
    return kb


def photo_question(case_id: int, *, has_photo: bool) -> tuple[str, InlineKeyboardBuilder]:
    kb = InlineKeyboardBuilder()
    if has_photo:
        kb.button(
            text=_("🗑 Remove the photo"), callback_data=CaseEditCb(action="unphoto", case=case_id)
        )
    text = _(
        "Send the photo as a photo, not as a file. Supporters open it from the case card; "
        "it is sent to them protected, so it cannot be forwarded or saved. Use a photo the "
        "family agreed to publish."
    )
    return text, kb
