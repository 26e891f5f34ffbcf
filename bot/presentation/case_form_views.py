"""What editors see while they fill the /newcase form (handlers/staff/new_case.py): each
step's question with its limit and what it holds now, the step's own buttons, and the
whole draft before Save. The same steps, with only their texts, add a language version.

The dialogue's Back and Stop are put under a step's buttons by the handler. What staff
typed is escaped wherever it is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CaseEditCb
from bot.presentation.case_edit_views import (
    field_name,
    language,
    letters_line,
    limit_line,
    shorten,
)
from bot.services.case_editing import NEW_CASE_STATUS, CaseDraft
from bot.services.case_rules import is_optional

QUESTIONS = {
    "country": __("<b>New case</b>\n\nIn which country is the person held?"),
    "locale": __(
        "In which language will you write this first version? It must be English or "
        "Russian, the languages every reader can fall back to. You can add the other "
        "languages afterwards with /editcase."
    ),
    "name": __("The person's full name, as supporters should see it:"),
    "slug": __(
        "A short name for the case in links and in the case file: small Latin letters, "
        "digits and dashes, for example ivan-petrov."
    ),
    "summary": __("A short account of the case for supporters (optional):"),
    "charges": __("The charges (optional):"),
    "authority": __(
        "To whom do appeals go? The authority as addressee, for example: Prosecutor "
        "General of the Republic of Uzbekistan"
    ),
    "salutation": __("How does an appeal begin? For example: Dear Prosecutor General,"),
    "authority_address": __("The authority's postal address, as it goes on the envelope:"),
    "authority_locale": __(
        "In which language does this authority work? Appeals are offered in it too."
    ),
    "prison_address": __("Where cards to the person go: the prison's postal address (optional):"),
    "detained_on": __("The date of detention, for example 25.12.2024 (optional):"),
    "accepts_letters": __("Can the person receive letters now?"),
}
# The fields a language version has, in the order the form asks them.
VERSION_FIELDS = ("name", "summary", "charges", "authority", "salutation")


def _choice_label(step: str, value: str) -> str:
    if step == "country":
        return views.country_label(value)
    if step == "accepts_letters":
        return _("✅ Yes") if value == "1" else _("🚫 No")
    return language(value)


def step_buttons(step: str, choices: Sequence[str], suggested: str | None) -> InlineKeyboardBuilder:
    """The step's own buttons: its `choices`, the slug `suggested` from the name, Skip
    for an optional step."""
    kb = InlineKeyboardBuilder()
    sizes: list[int] = []
    for value in choices:
        kb.button(
            text=_choice_label(step, value),
            callback_data=CaseEditCb(action="pick", field=step, value=value),
        )
    if choices:
        sizes = [2] * ((len(choices) + 1) // 2)
    elif step == "slug" and suggested:
        kb.button(
            text=_("Use: {slug}").format(slug=suggested), callback_data=CaseEditCb(action="slug")
        )
        sizes = [1]
    if is_optional(step):
        kb.button(text=_("Skip"), callback_data=CaseEditCb(action="skip", field=step))
        sizes.append(1)
    kb.adjust(*sizes)
    return kb


def step_text(step: str, now: str | None, version: str | None) -> str:
    """The step's question and limit; what it holds `now` (Back returns to steps already
    answered); over it, for a new language `version`, which language is being written."""
    lines = []
    if version is not None:
        lines.append(
            _("<b>New language version: {language}</b>").format(language=escape(language(version)))
        )
    question = str(QUESTIONS[step])
    limit = limit_line(step)
    lines.append(f"{question}\n{limit}" if limit else question)
    if now is not None:
        lines.append(_("Now: {value}").format(value=escape(shorten(now))))
    return "\n\n".join(lines)


def _draft_lines(draft: CaseDraft, *, new_case: bool) -> list[str]:
    def line(field: str, value: str | None) -> str:
        shown = escape(shorten(value)) if value else "—"
        return _("<b>{field}:</b> {value}").format(field=field_name(field), value=shown)

    lines = []
    if new_case:
        lines.append(
            _("<b>Country:</b> {country}").format(country=views.country_label(draft.country))
        )
        lines.append(
            _("<b>Language of this version:</b> {language}").format(
                language=escape(language(draft.locale))
            )
        )
        lines.append(_("<b>Slug:</b> {slug}").format(slug=escape(draft.slug)))
    for field in VERSION_FIELDS:
        lines.append(line(field, getattr(draft, field)))
    if new_case:
        lines.append(line("authority_address", draft.authority_address))
        lines.append(line("authority_locale", language(draft.authority_locale)))
        lines.append(line("prison_address", draft.prison_address))
        detained = draft.detained_on
        day = views.long_date(dt.date.fromisoformat(detained)) if detained else None
        lines.append(line("detained_on", day))
        lines.append(letters_line(draft.accepts_letters))
    return lines


def confirmation(draft: CaseDraft, *, new_case: bool) -> tuple[str, InlineKeyboardBuilder]:
    """The whole draft to read before Save, and Save: a new case (which starts hidden), or
    a new language version (which readers see at once)."""
    if new_case:
        head = _(
            "Save this case? New cases start <b>hidden</b>: supporters will not see it until "
            "you publish it from /editcase. It starts with the status “{status}”; change "
            "the status with /update."
        ).format(status=views.STATUS_NAMES[NEW_CASE_STATUS])
    else:
        head = _("Add this language version? Supporters who read it will see it at once.")
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Save"), callback_data=CaseEditCb(action="save"))
    return "\n\n".join([head, "\n".join(_draft_lines(draft, new_case=new_case))]), kb
