"""/newcase and /editcase: editors create and change cases in a step-by-step dialogue.

State lives in aiogram's FSM storage (memory, or Redis with hashed keys), so it holds
only JSON values: ids, codes and what was typed so far. /cancel or "Stop" ends a
dialogue with nothing changed; "Back" returns to the previous step. What staff type is
plain text: stored as typed, escaped whenever it is shown. Status changes are not made
here but with /update, so that followers are told.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import views
from bot.presentation.callbacks import CaseEditCb
from bot.services import case_editing, cases, staff
from bot.services.case_editing import CaseDraft, EditorCase
from bot.services.case_rules import (
    BASE_LOCALES,
    CASE_FIELDS,
    COUNTRIES,
    DATE_FIELDS,
    LOCALES,
    TEXT_FIELDS,
    Problem,
    RuleError,
    check,
    is_optional,
    limit_of,
)
from bot.services.identity import Visitor
from db.models import Case, StaffRole, Visibility
from handlers.common import MAX_ARGUMENT, show
from handlers.filters import HasRole

EDITORS = HasRole(StaffRole.ADMIN.value, StaffRole.EDITOR.value)

# Only the format is the dialogue's own rule; what a valid date is, case_rules decides.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Long texts are cut on screens that show many of them: a message holds 4096 characters.
_PREVIEW = 400

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
# Fields an editor sets by pressing a button rather than typing.
CHOICE_FIELDS = frozenset({"accepts_letters", "authority_locale", "letter_locale"})
VISIBILITY_LINES = {
    Visibility.PUBLIC.value: __("👁 Public: supporters can find and follow it."),
    Visibility.HIDDEN.value: __("🙈 Hidden: supporters do not see it."),
    Visibility.ARCHIVED.value: __("🗄 Archived: supporters do not see it."),
}
VISIBILITY_ICONS = {
    Visibility.PUBLIC.value: "👁",
    Visibility.HIDDEN.value: "🙈",
    Visibility.ARCHIVED.value: "🗄",
}


class CaseForm(StatesGroup):
    """/newcase, and a new language version of a case (only the text steps)."""

    country = State()
    locale = State()
    name = State()
    slug = State()
    summary = State()
    charges = State()
    authority = State()
    salutation = State()
    authority_address = State()
    authority_locale = State()
    prison_address = State()
    detained_on = State()
    accepts_letters = State()
    confirm = State()


class CaseEdit(StatesGroup):
    find = State()
    value = State()
    photo = State()


NEW_STEPS: tuple[str, ...] = (
    "country",
    "locale",
    "name",
    "slug",
    "summary",
    "charges",
    "authority",
    "salutation",
    "authority_address",
    "authority_locale",
    "prison_address",
    "detained_on",
    "accepts_letters",
)
LANGUAGE_STEPS: tuple[str, ...] = ("name", "summary", "charges", "authority", "salutation")
CHOICE_STEPS = frozenset({"country", "locale", "authority_locale", "accepts_letters"})
TEXT_STEPS = frozenset(NEW_STEPS) - CHOICE_STEPS
_STEP_OF = {getattr(CaseForm, step).state: step for step in NEW_STEPS}


def _steps(data: dict[str, Any]) -> tuple[str, ...]:
    return LANGUAGE_STEPS if data.get("mode") == "lang" else NEW_STEPS


def _shorten(text: str, limit: int = _PREVIEW) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_name(field: str) -> str:
    return str(FIELD_NAMES.get(field, field))


def _language(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale, locale)


def _problem(err: RuleError) -> str:
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


def _checked_date(raw: str, field: str = "detained_on") -> str:
    """The shared date rule, after the dialogue's own format: YYYY-MM-DD only."""
    if not _DATE.match(raw.strip()):
        raise RuleError(field, Problem.INVALID)
    return str(check(field, raw.strip()).isoformat())


# --- the /newcase and add-language steps ---------------------------------------------


def _step_markup(step: str, data: dict[str, Any]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    sizes: list[int] = []
    if step == "country":
        for code in COUNTRIES:
            kb.button(
                text=views.country_label(code),
                callback_data=CaseEditCb(action="pick", field=step, value=code),
            )
        sizes = [2, 2, 1]
    elif step in {"locale", "authority_locale"}:
        choices = BASE_LOCALES if step == "locale" else LOCALES
        for loc in choices:
            kb.button(
                text=_language(loc), callback_data=CaseEditCb(action="pick", field=step, value=loc)
            )
        sizes = [2] * ((len(choices) + 1) // 2)
    elif step == "accepts_letters":
        kb.button(text=_("✅ Yes"), callback_data=CaseEditCb(action="pick", field=step, value="1"))
        kb.button(text=_("🚫 No"), callback_data=CaseEditCb(action="pick", field=step, value="0"))
        sizes = [2]
    elif step == "slug" and data.get("suggested"):
        kb.button(
            text=_("Use: {slug}").format(slug=data["suggested"]),
            callback_data=CaseEditCb(action="slug"),
        )
        sizes = [1]
    if is_optional(step):
        kb.button(text=_("Skip"), callback_data=CaseEditCb(action="skip", field=step))
        sizes.append(1)
    first = _steps(data)[0] == step and data.get("mode") != "lang"
    if not first:
        kb.button(text=_("« Back"), callback_data=CaseEditCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=CaseEditCb(action="stop"))
    kb.adjust(*sizes, 1 if first else 2)
    return kb.as_markup()


def _limit_line(field: str) -> str | None:
    limit = limit_of(field)
    if limit is None:
        return None
    return ngettext("At most {count} character.", "At most {count} characters.", limit).format(
        count=views.number(limit)
    )


def _step_question(step: str) -> str:
    if step == "country":
        return _("<b>New case</b>\n\nIn which country is the person held?")
    if step == "locale":
        return _(
            "In which language will you write this first version? It must be English or "
            "Russian, the languages every reader can fall back to. You can add the other "
            "languages afterwards with /editcase."
        )
    if step == "name":
        return _("The person's full name, as supporters should see it:")
    if step == "slug":
        return _(
            "A short name for the case in links and in the case file: small Latin letters, "
            "digits and dashes, for example ivan-petrov."
        )
    if step == "summary":
        return _("A short account of the case for supporters (optional):")
    if step == "charges":
        return _("The charges (optional):")
    if step == "authority":
        return _(
            "To whom do appeals go? The authority as addressee, for example: Prosecutor "
            "General of the Republic of Uzbekistan"
        )
    if step == "salutation":
        return _("How does an appeal begin? For example: Dear Prosecutor General,")
    if step == "authority_address":
        return _("The authority's postal address, as it goes on the envelope:")
    if step == "authority_locale":
        return _("In which language does this authority work? Appeals are offered in it too.")
    if step == "prison_address":
        return _("Where cards to the person go: the prison's postal address (optional):")
    if step == "detained_on":
        return _("The date of detention, YYYY-MM-DD (optional):")
    return _("Can the person receive letters now?")


def _step_text(step: str, data: dict[str, Any]) -> str:
    lines = []
    if data.get("mode") == "lang":
        lines.append(
            _("<b>New language version: {language}</b>").format(
                language=escape(_language(str(data.get("locale", ""))))
            )
        )
    question = _step_question(step)
    limit = _limit_line(step)
    lines.append(f"{question}\n{limit}" if limit else question)
    current = data.get(step)
    if step in TEXT_STEPS and isinstance(current, str):
        lines.append(_("Now: {value}").format(value=escape(_shorten(current))))
    return "\n\n".join(lines)


async def _ask(
    event: Message | CallbackQuery, state: FSMContext, step: str, notice: str | None = None
) -> None:
    await state.set_state(getattr(CaseForm, step))
    data = await state.get_data()
    await show(event, _step_text(step, data), _step_markup(step, data), notice)


async def _advance(
    event: Message | CallbackQuery, state: FSMContext, session: AsyncSession, step: str
) -> None:
    data = await state.get_data()
    steps = _steps(data)
    following = steps[steps.index(step) + 1 :] if step in steps else ()
    if step == "name" and data.get("mode") != "lang":
        suggested = case_editing.suggest_slug(str(data.get("name", "")))
        if suggested and await case_editing.slug_taken(session, suggested):
            suggested = None
        await state.update_data(suggested=suggested)
    if following:
        await _ask(event, state, following[0])
    else:
        await _confirm(event, state)


async def newcase_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_data({"mode": "new"})
    await _ask(message, state, "country")


async def new_button(callback: CallbackQuery, state: FSMContext) -> None:
    """The /admin menu's way in: the same first step as /newcase."""
    await state.clear()
    await state.set_data({"mode": "new"})
    await _ask(callback, state, "country")


async def text_step(message: Message, state: FSMContext, session: AsyncSession) -> None:
    step = _STEP_OF.get(await state.get_state() or "")
    data = await state.get_data()
    if step is None or step not in _steps(data):
        return
    raw = message.text or ""
    try:
        if step == "detained_on":
            value: Any = _checked_date(raw)
        else:
            value = check(step, raw.strip() if step == "slug" else raw)
        if step == "slug" and await case_editing.slug_taken(session, value):
            raise RuleError("slug", Problem.TAKEN)
    except RuleError as err:
        await message.answer(_problem(err), reply_markup=_step_markup(step, data))
        return
    await state.update_data({step: value})
    await _advance(message, state, session, step)


async def choice_typed(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    if current == CaseForm.confirm.state:
        await _confirm(message, state)
        return
    step = _STEP_OF.get(current or "", "")
    await message.answer(
        _("Please choose with the buttons."),
        reply_markup=_step_markup(step, await state.get_data()),
    )


async def pick(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    step = _STEP_OF.get(await state.get_state() or "")
    options: dict[str, dict[str, Any]] = {
        "country": {c: c for c in COUNTRIES},
        "locale": {c: c for c in BASE_LOCALES},
        "authority_locale": {c: c for c in LOCALES},
        "accepts_letters": {"1": True, "0": False},
    }
    choices = options.get(step or "", {})
    if step != callback_data.field or callback_data.value not in choices:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.update_data({step: choices[callback_data.value]})
    await _advance(callback, state, session, step)


async def skip(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    step = _STEP_OF.get(await state.get_state() or "")
    if step is None or step != callback_data.field or not is_optional(step):
        await callback.answer(_("This button is no longer valid."))
        return
    await state.update_data({step: None})
    await _advance(callback, state, session, step)


async def use_suggestion(callback: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    suggested = data.get("suggested")
    if not isinstance(suggested, str) or await case_editing.slug_taken(session, suggested):
        await callback.answer(_("Another case already has this slug. Please choose another one."))
        return
    await state.update_data(slug=suggested)
    await _advance(callback, state, session, "slug")


def _draft_lines(data: dict[str, Any]) -> list[str]:
    def line(field: str, value: str | None) -> str:
        shown = escape(_shorten(value)) if value else "—"
        return _("<b>{field}:</b> {value}").format(field=_field_name(field), value=shown)

    lines = []
    if data.get("mode") != "lang":
        lines.append(
            _("<b>Country:</b> {country}").format(country=views.country_label(data["country"]))
        )
        lines.append(
            _("<b>Language of this version:</b> {language}").format(
                language=escape(_language(data["locale"]))
            )
        )
        lines.append(_("<b>Slug:</b> {slug}").format(slug=escape(data["slug"])))
    for field in LANGUAGE_STEPS:
        lines.append(line(field, data.get(field)))
    if data.get("mode") != "lang":
        lines.append(line("authority_address", data.get("authority_address")))
        lines.append(line("authority_locale", _language(data["authority_locale"])))
        lines.append(line("prison_address", data.get("prison_address")))
        detained = data.get("detained_on")
        day = views.long_date(dt.date.fromisoformat(detained)) if detained else None
        lines.append(line("detained_on", day))
        lines.append(_letters_line(bool(data.get("accepts_letters"))))
    return lines


def _letters_line(accepts: bool) -> str:
    return _("✉️ Accepts letters: yes") if accepts else _("🚫 Accepts letters: no")


async def _confirm(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(CaseForm.confirm)
    data = await state.get_data()
    if data.get("mode") == "lang":
        head = _("Add this language version? Supporters who read it will see it at once.")
    else:
        head = _(
            "Save this case? New cases start <b>hidden</b>: supporters will not see it until "
            "you publish it from /editcase. It starts with the status “{status}”; change "
            "the status with /update."
        ).format(status=views.STATUS_NAMES[case_editing.NEW_CASE_STATUS])
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Save"), callback_data=CaseEditCb(action="save"))
    kb.button(text=_("« Back"), callback_data=CaseEditCb(action="back"))
    kb.button(text=_("✖ Stop"), callback_data=CaseEditCb(action="stop"))
    kb.adjust(1, 2)
    await show(event, "\n\n".join([head, "\n".join(_draft_lines(data))]), kb.as_markup())


def _actor(cipher: IdentityCipher, visitor: Visitor) -> str | None:
    return staff.actor_of(cipher, visitor.person.id) if visitor.person is not None else None


async def save(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    data = await state.get_data()
    actor = _actor(cipher, visitor)
    if actor is None:
        await stop(callback, state)
        return
    try:
        if data.get("mode") == "lang":
            case = await cases.by_id(session, int(data.get("case", 0)))
            if case is None:
                await state.clear()
                await callback.answer(_("This case is not available."), show_alert=True)
                return
            locale = str(data.get("locale", ""))
            await case_editing.add_language(
                session, case, locale, {f: data.get(f) for f in TEXT_FIELDS}, actor
            )
            notice = _("The {language} version is added.").format(language=_language(locale))
        else:
            case = await case_editing.create(session, _draft(data), actor)
            notice = _("The case is saved. It stays hidden until you publish it.")
    except RuleError as err:
        # Something changed since the step was answered (another editor took the slug):
        # the editor goes back to that step rather than losing the whole dialogue.
        if err.field in _steps(data):
            await _ask(callback, state, err.field, _problem(err)[:200])
        else:
            await callback.answer(_problem(err)[:200], show_alert=True)
        return
    await state.clear()
    assert case.id is not None
    await _editor_screen(callback, session, visitor, case.id, notice)


def _draft(data: dict[str, Any]) -> CaseDraft:
    return CaseDraft(
        slug=str(data.get("slug", "")),
        country=str(data.get("country", "")),
        locale=str(data.get("locale", "")),
        name=str(data.get("name", "")),
        authority=str(data.get("authority", "")),
        salutation=str(data.get("salutation", "")),
        authority_address=str(data.get("authority_address", "")),
        authority_locale=str(data.get("authority_locale", "")),
        summary=data.get("summary"),
        charges=data.get("charges"),
        prison_address=data.get("prison_address"),
        detained_on=data.get("detained_on"),
        accepts_letters=bool(data.get("accepts_letters", True)),
    )


async def back(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    current = await state.get_state()
    data = await state.get_data()
    steps = _steps(data)
    if current == CaseForm.confirm.state:
        await _ask(callback, state, steps[-1])
        return
    step = _STEP_OF.get(current or "")
    if step is not None and step in steps and steps.index(step) > 0:
        await _ask(callback, state, steps[steps.index(step) - 1])
        return
    if data.get("mode") == "lang" and data.get("case"):
        await state.clear()
        await _editor_screen(callback, session, visitor, int(data["case"]))
        return
    await stop(callback, state)


async def stop(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(event, _("Stopped. Nothing was changed."))


async def stop_command(message: Message, state: FSMContext) -> None:
    await stop(message, state)


# --- /editcase: the editor's view of a case -------------------------------------------


def _editor_text(view: EditorCase, chain: list[str]) -> str:
    case, texts = view.case, view.texts
    name = cases.pick_text(texts, chain).name if texts else case.slug
    lines = [
        f"✏️ <b>{escape(name)}</b>",
        f"<code>{escape(case.slug)}</code> · {views.country_label(case.country)} · "
        f"{views.status_label(case.status)}",
        str(VISIBILITY_LINES.get(case.visibility, case.visibility)),
        _("📷 Photo: yes") if case.photo else _("📷 Photo: none"),
        _letters_line(case.accepts_letters),
    ]
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
    if case.letter_locale:
        lines.append(
            _("<b>Language of letters:</b> {language}").format(
                language=escape(_language(case.letter_locale))
            )
        )
    lines.append(
        _("<b>Authority's language:</b> {language}").format(
            language=escape(_language(case.authority_locale))
        )
    )
    lines.append(
        _("<b>Authority's address:</b> {address}").format(
            address=escape(_shorten(case.authority_address))
        )
    )
    if case.prison_address:
        lines.append(
            _("<b>Prison address:</b> {address}").format(
                address=escape(_shorten(case.prison_address))
            )
        )
    lines.extend(["", _("<b>Language versions</b>")])
    for loc, text in texts.items():
        lines.append(f"• {escape(_language(loc))}: {escape(text.name)}")
    for field in ("letter_rules", "topics"):
        having = [_language(loc) for loc, text in texts.items() if getattr(text, field)]
        shown = escape(", ".join(having)) if having else "—"
        lines.append(_("<b>{field}:</b> {value}").format(field=_field_name(field), value=shown))
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
        Visibility.PUBLIC.value: _("👁 Publish"),
        Visibility.HIDDEN.value: _("🙈 Hide"),
        Visibility.ARCHIVED.value: _("🗄 Archive"),
    }
    for visibility, label in labels.items():
        if visibility != case.visibility:
            kb.button(
                text=label, callback_data=CaseEditCb(action="vis", case=case.id, value=visibility)
            )
    kb.adjust(1)
    return kb.as_markup()


async def _editor_screen(
    event: Message | CallbackQuery,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    notice: str | None = None,
) -> None:
    view = await case_editing.editor_case(session, case_id)
    if view is None:
        if isinstance(event, CallbackQuery):
            await event.answer(_("This case is not available."), show_alert=True)
        else:
            await event.answer(_("This case is not available."))
        return
    await show(event, _editor_text(view, visitor.chain), _editor_markup(view), notice)


def _find_nav() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Stop"), callback_data=CaseEditCb(action="stop"))
    return kb.as_markup()


async def editcase_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    await state.clear()
    if command.args:
        await _find(message, command.args, state, session, visitor)
        return
    await state.set_state(CaseEdit.find)
    await message.answer(
        _(
            "Which case? Send the person's name or the case's slug. Hidden and archived "
            "cases are found too."
        ),
        reply_markup=_find_nav(),
    )


async def find_button(callback: CallbackQuery, state: FSMContext) -> None:
    """The /admin menu's way in: the same first step as /editcase."""
    await state.clear()
    await state.set_state(CaseEdit.find)
    await show(
        callback,
        _(
            "Which case? Send the person's name or the case's slug. Hidden and archived "
            "cases are found too."
        ),
        _find_nav(),
    )


async def _find(
    message: Message, query: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    if len(query) > MAX_ARGUMENT:
        await state.set_state(CaseEdit.find)
        await message.answer(
            _("That is too long for a name. Please send a shorter search."),
            reply_markup=_find_nav(),
        )
        return
    found = await case_editing.find_any(session, query, visitor.chain)
    if len(found) == 1:
        await state.clear()
        await _editor_screen(message, session, visitor, found[0].id)
        return
    await state.set_state(CaseEdit.find)
    kb = InlineKeyboardBuilder()
    for match in found:
        kb.button(
            text=f"{VISIBILITY_ICONS.get(match.visibility, '')} {match.name} · {match.slug}",
            callback_data=CaseEditCb(action="view", case=match.id),
        )
    kb.button(text=_("✖ Stop"), callback_data=CaseEditCb(action="stop"))
    kb.adjust(1)
    shown = escape(cases.normalise_query(query))
    if found:
        text = _("Several cases match “{query}”. Choose one, or send a more exact name.").format(
            query=shown
        )
    else:
        text = _("No case matches “{query}”. Send another name or the case's slug.").format(
            query=shown
        )
    await message.answer(text, reply_markup=kb.as_markup())


async def find_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _find(message, message.text or "", state, session, visitor)


async def view_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    await state.clear()
    await _editor_screen(callback, session, visitor, callback_data.case)


def _back_to(case_id: int) -> CaseEditCb:
    return CaseEditCb(action="view", case=case_id)


async def fields_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    await state.clear()
    view = await case_editing.editor_case(session, callback_data.case)
    if view is None or view.case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    kb = InlineKeyboardBuilder()
    for field in (*TEXT_FIELDS, *CASE_FIELDS):
        kb.button(
            text=_field_name(field),
            callback_data=CaseEditCb(action="field", case=view.case.id, field=field),
        )
    kb.button(text=_("« Back"), callback_data=_back_to(view.case.id))
    kb.adjust(2)
    await show(
        callback,
        _(
            "Which field? The country and the slug cannot be changed; the status is changed "
            "with /update."
        ),
        kb.as_markup(),
    )


def _value_markup(case_id: int, field: str, locale: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if is_optional(field):
        kb.button(
            text=_("🗑 Clear"),
            callback_data=CaseEditCb(action="clear", case=case_id, field=field, locale=locale),
        )
    kb.button(text=_("« Back"), callback_data=_back_to(case_id))
    kb.button(text=_("✖ Stop"), callback_data=CaseEditCb(action="stop"))
    if is_optional(field):
        kb.adjust(1, 2)
    else:
        kb.adjust(2)
    return kb.as_markup()


async def field_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    field, locale = callback_data.field, callback_data.locale
    view = await case_editing.editor_case(session, callback_data.case)
    if view is None or view.case.id is None or field not in (*TEXT_FIELDS, *CASE_FIELDS):
        await callback.answer(_("This button is no longer valid."))
        return
    case_id = view.case.id
    if field in TEXT_FIELDS and locale not in view.texts:
        if len(view.texts) == 1:
            locale = next(iter(view.texts))
        else:
            kb = InlineKeyboardBuilder()
            for loc in view.texts:
                kb.button(
                    text=_language(loc),
                    callback_data=CaseEditCb(action="field", case=case_id, field=field, locale=loc),
                )
            kb.button(text=_("« Back"), callback_data=_back_to(case_id))
            kb.adjust(2)
            await show(
                callback,
                _("Which language version of “{field}”?").format(field=_field_name(field)),
                kb.as_markup(),
            )
            return
    if field in TEXT_FIELDS:
        current: Any = getattr(view.texts[locale], field)
    else:
        locale = ""
        current = getattr(view.case, field)
    if field in CHOICE_FIELDS:
        await state.clear()
        await _choice_screen(callback, case_id, field, current)
        return
    await state.set_state(CaseEdit.value)
    await state.set_data({"case": case_id, "field": field, "locale": locale})
    await show(
        callback, _value_prompt(field, locale, current), _value_markup(case_id, field, locale)
    )


def _value_prompt(field: str, locale: str, current: Any) -> str:
    if field in DATE_FIELDS:
        if field == "born_on":
            ask = _(
                "Send the date of birth, YYYY-MM-DD. Only a date the family or a public "
                "source gives: prisons ask for it on the envelope."
            )
        elif field == "release_expected_on":
            ask = _("Send the date the sentence is expected to end, YYYY-MM-DD.")
        else:
            ask = _("Send the date of detention, YYYY-MM-DD.")
        now = views.long_date(current) if current else None
    else:
        if locale:
            ask = _("Send the new “{field}” in {language}.").format(
                field=_field_name(field), language=_language(locale)
            )
        else:
            ask = _("Send the new “{field}”.").format(field=_field_name(field))
        limit = _limit_line(field)
        ask = f"{ask}\n{limit}" if limit else ask
        now = escape(_shorten(current)) if current else None
    shown = _("Now: {value}").format(value=now) if now else _("Now: empty")
    return f"{ask}\n\n{shown}"


async def _choice_screen(callback: CallbackQuery, case_id: int, field: str, current: Any) -> None:
    kb = InlineKeyboardBuilder()
    if field == "accepts_letters":
        options = [("1", _("✅ Yes")), ("0", _("🚫 No"))]
        chosen = "1" if current else "0"
        question = _("Can the person receive letters now?")
    elif field == "letter_locale":
        options = [(loc, _language(loc)) for loc in LOCALES]
        chosen = str(current)
        question = _(
            "Does the facility hand over only letters in one language? Choose it, or clear "
            "it if letters in any language arrive."
        )
    else:
        options = [(loc, _language(loc)) for loc in LOCALES]
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
    kb.button(text=_("« Back"), callback_data=_back_to(case_id))
    kb.adjust(2)
    await show(callback, question, kb.as_markup())


async def _apply(
    session: AsyncSession, case: Case, field: str, locale: str, value: Any, actor: str
) -> bool:
    if field in TEXT_FIELDS:
        return await case_editing.set_text(session, case, locale, field, value, actor)
    return await case_editing.set_field(session, case, field, value, actor)


def _saved(changed: bool) -> str:
    return _("Saved.") if changed else _("That is what it already says. Nothing was changed.")


async def value_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    data = await state.get_data()
    case = await cases.by_id(session, int(data.get("case", 0)))
    actor = _actor(cipher, visitor)
    if case is None or case.id is None or actor is None:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    field, locale = str(data.get("field", "")), str(data.get("locale", ""))
    raw = message.text or ""
    try:
        value = _checked_date(raw, field) if field in DATE_FIELDS else raw
        changed = await _apply(session, case, field, locale, value, actor)
    except RuleError as err:
        await message.answer(_problem(err), reply_markup=_value_markup(case.id, field, locale))
        return
    await state.clear()
    await _editor_screen(message, session, visitor, case.id, _saved(changed))


async def set_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    """A value chosen with a button ("set") or an optional field emptied ("clear")."""
    case = await cases.by_id(session, callback_data.case)
    actor = _actor(cipher, visitor)
    field = callback_data.field
    value: Any
    if callback_data.action == "clear":
        value = None
        allowed = is_optional(field) and field in (*TEXT_FIELDS, *CASE_FIELDS)
    elif field == "accepts_letters":
        value = {"1": True, "0": False}.get(callback_data.value)
        allowed = value is not None
    else:
        value = callback_data.value
        allowed = field in {"authority_locale", "letter_locale"}
    if case is None or case.id is None or actor is None or not allowed:
        await callback.answer(_("This button is no longer valid."))
        return
    try:
        changed = await _apply(session, case, field, callback_data.locale, value, actor)
    except RuleError:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.clear()
    await _editor_screen(callback, session, visitor, case.id, _saved(changed))


async def language_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    view = await case_editing.editor_case(session, callback_data.case)
    if view is None or view.case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    missing = [loc for loc in LOCALES if loc not in view.texts]
    locale = callback_data.locale
    if locale in missing:
        await state.clear()
        await state.set_data({"mode": "lang", "case": view.case.id, "locale": locale})
        await _ask(callback, state, LANGUAGE_STEPS[0])
        return
    if locale and locale not in LOCALES:
        await callback.answer(_("This button is no longer valid."))
        return
    if locale or not missing:
        await callback.answer(_("This case already has a version in that language."))
        return
    kb = InlineKeyboardBuilder()
    for loc in missing:
        kb.button(
            text=_language(loc),
            callback_data=CaseEditCb(action="lang", case=view.case.id, locale=loc),
        )
    kb.button(text=_("« Back"), callback_data=_back_to(view.case.id))
    kb.adjust(2)
    await show(callback, _("Which language do you want to add?"), kb.as_markup())


async def photo_button(
    callback: CallbackQuery, callback_data: CaseEditCb, state: FSMContext, session: AsyncSession
) -> None:
    case = await cases.by_id(session, callback_data.case)
    if case is None or case.id is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    await state.set_state(CaseEdit.photo)
    await state.set_data({"case": case.id})
    kb = InlineKeyboardBuilder()
    if case.photo:
        kb.button(
            text=_("🗑 Remove the photo"), callback_data=CaseEditCb(action="unphoto", case=case.id)
        )
    kb.button(text=_("« Back"), callback_data=_back_to(case.id))
    kb.button(text=_("✖ Stop"), callback_data=CaseEditCb(action="stop"))
    if case.photo:
        kb.adjust(1, 2)
    else:
        kb.adjust(2)
    text = _(
        "Send the photo as a photo, not as a file. Supporters open it from the case card; "
        "it is sent to them protected, so it cannot be forwarded or saved. Use a photo the "
        "family agreed to publish."
    )
    await show(callback, text, kb.as_markup())


async def photo_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    data = await state.get_data()
    case = await cases.by_id(session, int(data.get("case", 0)))
    actor = _actor(cipher, visitor)
    if case is None or case.id is None or actor is None or not message.photo:
        await state.clear()
        await message.answer(_("This case is not available."))
        return
    # The largest size comes last; Telegram makes the smaller ones from it.
    try:
        await case_editing.set_photo(session, case, message.photo[-1].file_id, actor)
    except RuleError as err:
        await message.answer(_problem(err))
        return
    await state.clear()
    await _editor_screen(message, session, visitor, case.id, _("The photo is saved."))


async def photo_expected(message: Message) -> None:
    await message.answer(_("Please send a photo (not a file), or press Back."))


async def unphoto_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    case = await cases.by_id(session, callback_data.case)
    actor = _actor(cipher, visitor)
    if case is None or case.id is None or actor is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    await case_editing.set_photo(session, case, None, actor)
    await state.clear()
    await _editor_screen(callback, session, visitor, case.id, _("The photo is removed."))


async def visibility_button(
    callback: CallbackQuery,
    callback_data: CaseEditCb,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    case = await cases.by_id(session, callback_data.case)
    actor = _actor(cipher, visitor)
    notices = {
        Visibility.PUBLIC.value: _("The case is public: supporters can find it now."),
        Visibility.HIDDEN.value: _("The case is hidden from supporters."),
        Visibility.ARCHIVED.value: _("The case is archived: supporters no longer see it."),
    }
    if case is None or case.id is None or actor is None or callback_data.value not in notices:
        await callback.answer(_("This button is no longer valid."))
        return
    await case_editing.set_visibility(session, case, callback_data.value, actor)
    await state.clear()
    await _editor_screen(callback, session, visitor, case.id, notices[callback_data.value])


def router() -> Router:
    r = Router(name="staff-cases")
    everything = StateFilter(CaseForm, CaseEdit)
    not_command = ~F.text.startswith("/")
    r.message.register(stop_command, Command("cancel"), EDITORS, everything)
    r.message.register(newcase_command, Command("newcase"), EDITORS)
    r.message.register(editcase_command, Command("editcase"), EDITORS)
    r.message.register(
        text_step,
        StateFilter(*(getattr(CaseForm, s) for s in TEXT_STEPS)),
        F.text,
        not_command,
        EDITORS,
    )
    r.message.register(
        choice_typed,
        StateFilter(*(getattr(CaseForm, s) for s in CHOICE_STEPS), CaseForm.confirm),
        F.text,
        not_command,
        EDITORS,
    )
    r.message.register(find_step, CaseEdit.find, F.text, not_command, EDITORS)
    r.message.register(value_step, CaseEdit.value, F.text, not_command, EDITORS)
    r.message.register(photo_step, CaseEdit.photo, F.photo, EDITORS)
    r.message.register(photo_expected, CaseEdit.photo, not_command, EDITORS)
    r.callback_query.register(
        pick, CaseEditCb.filter(F.action == "pick"), StateFilter(CaseForm), EDITORS
    )
    r.callback_query.register(new_button, CaseEditCb.filter(F.action == "new"), EDITORS)
    r.callback_query.register(find_button, CaseEditCb.filter(F.action == "find"), EDITORS)
    r.callback_query.register(skip, CaseEditCb.filter(F.action == "skip"), EDITORS)
    r.callback_query.register(
        use_suggestion, CaseEditCb.filter(F.action == "slug"), CaseForm.slug, EDITORS
    )
    r.callback_query.register(
        save, CaseEditCb.filter(F.action == "save"), CaseForm.confirm, EDITORS
    )
    r.callback_query.register(back, CaseEditCb.filter(F.action == "back"), EDITORS)
    r.callback_query.register(stop, CaseEditCb.filter(F.action == "stop"), EDITORS)
    r.callback_query.register(view_button, CaseEditCb.filter(F.action == "view"), EDITORS)
    r.callback_query.register(fields_button, CaseEditCb.filter(F.action == "fields"), EDITORS)
    r.callback_query.register(field_button, CaseEditCb.filter(F.action == "field"), EDITORS)
    r.callback_query.register(
        set_button, CaseEditCb.filter(F.action.in_({"set", "clear"})), EDITORS
    )
    r.callback_query.register(language_button, CaseEditCb.filter(F.action == "lang"), EDITORS)
    r.callback_query.register(photo_button, CaseEditCb.filter(F.action == "photo"), EDITORS)
    r.callback_query.register(unphoto_button, CaseEditCb.filter(F.action == "unphoto"), EDITORS)
    r.callback_query.register(visibility_button, CaseEditCb.filter(F.action == "vis"), EDITORS)
    return r
