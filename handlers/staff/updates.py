"""/update: editors publish a case update (a status change or news) in a dialogue.

The steps: the case, the kind (a new status, or news), the text in one or more
languages (for a status change an optional note), the audience (news may be for the
family alone), and a preview made by the same code that renders the alert for readers.
Nothing is written before "Publish"; the alerts then go through the outbox. State lives
in aiogram's FSM storage; /cancel or "Stop" ends the dialogue with nothing changed, and
"Back" returns to the step before (the steps taken are kept in the dialogue's data).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import alert_views, views
from bot.presentation.callbacks import UpdateCb
from bot.services import actions, cases, reports, staff, updates
from bot.services.identity import Visitor
from db.models import Case, CaseStatus, StaffRole, UpdateKind
from db.types import utcnow
from handlers.common import show
from handlers.filters import HasRole
from handlers.staff import case_picker

EDITORS = HasRole(StaffRole.ADMIN.value, StaffRole.EDITOR.value)
STATUS = UpdateKind.STATUS.value
NEWS = UpdateKind.NEWS.value
ACTION = UpdateKind.ACTION.value
INFO = UpdateKind.INFO.value


class UpdateForm(StatesGroup):
    case = State()
    kind = State()
    status = State()
    language = State()
    text = State()
    more = State()
    audience = State()
    deadline = State()
    confirm = State()


Event = Message | CallbackQuery


def _button(
    kb: InlineKeyboardBuilder, text: str, action: str, value: str = "", case: int = 0
) -> None:
    kb.button(text=text, callback_data=UpdateCb(action=action, case=case, value=value))


def _nav(kb: InlineKeyboardBuilder, back: bool = True) -> InlineKeyboardMarkup:
    row = InlineKeyboardBuilder()
    if back:
        _button(row, _("« Back"), "back")
    _button(row, _("✖ Stop"), "stop")
    row.adjust(2)
    kb.attach(row)
    return kb.as_markup()


def _languages(texts: dict[str, str]) -> str:
    return ", ".join(LANGUAGE_NAMES[loc] for loc in LANGUAGE_NAMES if loc in texts)


async def _case(session: AsyncSession, state: FSMContext) -> Case | None:
    data = await state.get_data()
    return await cases.visible_case(session, int(data.get("case", 0)))


async def _name(session: AsyncSession, case: Case, visitor: Visitor) -> str:
    assert case.id is not None
    return cases.pick_text(await cases.texts_for(session, case.id), visitor.chain).name


# ---------------------------------------------------------------- screens, one per step


async def _kind_screen(event: Event, session: AsyncSession, visitor: Visitor, case: Case) -> None:
    assert case.id is not None
    text = "\n".join(
        [
            _("<b>Update: {name}</b>").format(name=escape(await _name(session, case, visitor))),
            _("Status now: {status}").format(status=views.status_label(case.status)),
            "",
            _(
                "What would you like to publish? A status change tells readers the case's "
                "new status. News is anything else: new charges, a transfer, a visit, a "
                "statement."
            ),
            _(
                "An urgent action asks followers to act before a deadline; they can mark it "
                "done, those who have not get one reminder, and further information later "
                "goes to those who acted."
            ),
        ]
    )
    kb = InlineKeyboardBuilder()
    _button(kb, _("🔄 Status change"), "kind", STATUS, case.id)
    _button(kb, _("📰 News"), "kind", NEWS, case.id)
    _button(kb, _("🚨 Urgent action"), "kind", ACTION, case.id)
    if await actions.latest(session, case.id) is not None:
        _button(kb, _("ℹ️ Further information on the action"), "kind", INFO, case.id)
    kb.adjust(2, 1, 1)
    await show(event, text, _nav(kb, back=False))


async def _status_screen(event: Event, case: Case) -> None:
    kb = InlineKeyboardBuilder()
    for status in CaseStatus:
        if status.value != case.status:
            _button(kb, views.status_label(status.value), "status", status.value)
    kb.adjust(2)
    text = _("The case's status now: {status}. Choose the new one:").format(
        status=views.status_label(case.status)
    )
    await show(event, text, _nav(kb))


async def _language_screen(event: Event, data: dict[str, Any]) -> None:
    texts: dict[str, str] = data.get("texts", {})
    kb = InlineKeyboardBuilder()
    for loc, name in LANGUAGE_NAMES.items():
        _button(kb, f"✓ {name}" if loc in texts else name, "lang", loc)
    if texts:
        _button(kb, _("Continue »"), "next")
    elif data.get("kind") == STATUS:
        _button(kb, _("Skip the note"), "next")
    kb.adjust(2, 2, 2, 2, 1)
    if data.get("kind") == STATUS:
        text = _(
            "You can add a note in the language of your choice. Without one, readers get the "
            "status sentence alone, in their own language."
        )
    else:
        text = _("In which language will you write? You can add more languages after.")
    await show(event, text, _nav(kb))


async def _text_screen(event: Event, data: dict[str, Any]) -> None:
    language = LANGUAGE_NAMES.get(str(data.get("lang")), "")
    kb = InlineKeyboardBuilder()
    if data.get("kind") == STATUS:
        text = _("Send the note in {language} as plain text, at most {limit} characters.")
        if not data.get("texts"):
            _button(kb, _("Skip the note"), "next")
    elif data.get("kind") == ACTION:
        text = _(
            "Send the call to act in {language} as plain text, at most {limit} characters: "
            "what to do, whom to write to and how, and why it matters now."
        )
    elif data.get("kind") == INFO:
        text = _(
            "Send the further information in {language} as plain text, at most {limit} "
            "characters: what came of the action, and what comes next."
        )
    else:
        text = _("Send the news in {language} as plain text, at most {limit} characters.")
    limit = views.number(updates.MAX_TEXT)
    await show(event, text.format(language=language, limit=limit), _nav(kb))


async def _more_screen(event: Event, data: dict[str, Any]) -> None:
    kb = InlineKeyboardBuilder()
    _button(kb, _("➕ Another language"), "more")
    _button(kb, _("Continue »"), "next")
    kb.adjust(2)
    text = _("Saved. Written so far in: {languages}.").format(
        languages=_languages(data.get("texts", {}))
    )
    await show(event, text, _nav(kb))


async def _deadline_screen(event: Event, case: Case) -> None:
    zone = cases.COURT_TIMEZONES.get(case.country, "UTC")
    text = _(
        "By when must people act? Send the deadline as YYYY-MM-DD (the end of that day) or "
        "YYYY-MM-DD HH:MM, in the time of {zone}, the court's."
    ).format(zone=escape(views.timezone_label(zone)))
    await show(event, text, _nav(InlineKeyboardBuilder()))


async def _audience_screen(event: Event) -> None:
    kb = InlineKeyboardBuilder()
    _button(kb, _("📢 Followers and family"), "aud", "public")
    _button(kb, _("👪 The family only"), "aud", "family")
    kb.adjust(1)
    await show(event, _("Who should receive it?"), _nav(kb))


async def _preview_screen(
    event: Event, session: AsyncSession, visitor: Visitor, case: Case, data: dict[str, Any]
) -> None:
    assert case.id is not None
    texts: dict[str, str] = data.get("texts", {})
    family = bool(data.get("family"))
    kind = str(data.get("kind"))
    note = updates.pick_note(texts, visitor.chain)
    # The worker's own rendering, in the editor's language with the readers' fallbacks.
    if kind in (ACTION, INFO):
        until = ""
        if data.get("deadline"):
            deadline = dt.datetime.fromisoformat(str(data["deadline"]))
            until = views.moment(deadline, visitor.timezone)
        headline, body = alert_views.action_headline(kind, until), escape(note or "")
        discreet = alert_views.action_discreet(kind)
    else:
        headline, body = alert_views.update_parts(data.get("new"), note, family)
        discreet = alert_views.update_discreet()
    alert = alert_views.alert_text(await _name(session, case, visitor), headline, body)
    action_id = int(data["action"]) if kind == INFO and data.get("action") else None
    count = await updates.recipients(session, case.id, family, action_id)
    if kind == INFO:
        reach = ngettext(
            "It will go to {count} person who did the action.",
            "It will go to {count} people who did the action.",
            count,
        )
    elif family:
        reach = ngettext(
            "It will go to {count} family member.", "It will go to {count} family members.", count
        )
    else:
        reach = ngettext(
            "It will go to {count} person (followers and family).",
            "It will go to {count} people (followers and family).",
            count,
        )
    languages = (
        _("Written in: {languages}.").format(languages=_languages(texts))
        if texts
        else _("No note: readers get the status sentence in their own language.")
    )
    lines = [
        _("<b>Preview.</b> A follower who reads the bot in {language} will receive:").format(
            language=LANGUAGE_NAMES.get(visitor.locale, visitor.locale)
        ),
        "",
        alert,
        "",
        _("In discreet mode: {text}").format(text=discreet),
        languages,
        reach.format(count=views.number(count)),
    ]
    kb = InlineKeyboardBuilder()
    _button(kb, _("✅ Publish"), "publish")
    await show(event, "\n".join(lines), _nav(kb))


async def _screen(
    event: Event, step: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    """Show the screen of `step` from what the dialogue holds."""
    case = await _case(session, state)
    if case is None:
        await state.clear()
        await show(event, _("This case is not available."))
        return
    await state.set_state(step)
    data = await state.get_data()
    if step == UpdateForm.kind.state:
        await _kind_screen(event, session, visitor, case)
    elif step == UpdateForm.status.state:
        await _status_screen(event, case)
    elif step == UpdateForm.language.state:
        await _language_screen(event, data)
    elif step == UpdateForm.text.state:
        await _text_screen(event, data)
    elif step == UpdateForm.more.state:
        await _more_screen(event, data)
    elif step == UpdateForm.audience.state:
        await _audience_screen(event)
    elif step == UpdateForm.deadline.state:
        await _deadline_screen(event, case)
    else:
        await _preview_screen(event, session, visitor, case, data)


async def _forward(
    event: Event, step: State, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    """Go on to `step`, remembering where we were for "Back"."""
    current = await state.get_state()
    trail: list[str] = list((await state.get_data()).get("trail", []))
    if current is not None:
        trail.append(current)
    await state.update_data(trail=trail)
    assert step.state is not None
    await _screen(event, step.state, state, session, visitor)


async def _after_texts(
    event: Event, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    data = await state.get_data()
    if data.get("kind") == NEWS:
        await _forward(event, UpdateForm.audience, state, session, visitor)
    elif data.get("kind") == ACTION:
        await _forward(event, UpdateForm.deadline, state, session, visitor)
    else:
        await _forward(event, UpdateForm.confirm, state, session, visitor)


# ---------------------------------------------------------------- handlers


async def update_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if command.args:
        await state.clear()
        await _pick_case(message, command.args, state, session, visitor)
        return
    await case_picker.ask(
        message, state, UpdateForm.case, _nav(InlineKeyboardBuilder(), back=False)
    )


async def start_button(callback: CallbackQuery, state: FSMContext) -> None:
    """The /admin menu's way in: the same first step as /update."""
    await case_picker.ask(
        callback, state, UpdateForm.case, _nav(InlineKeyboardBuilder(), back=False)
    )


async def start_prefilled(
    event: Event,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
    case_id: int,
    text: str,
    report_id: int,
) -> bool:
    """Begin /update for `case_id` as news with `text` already written in the editor's
    language (a relative's report turned into news). The editor reviews it, may rewrite
    or translate it and picks the audience as usual; the report, kept in the dialogue,
    is marked published when the update is. False (nothing begun) if the case is not
    available; a text the dialogue could not take is left for the editor to write."""
    case = await cases.visible_case(session, case_id)
    if case is None or case.id is None:
        return False
    text = updates.clean_text(text)
    lang = visitor.locale
    await state.clear()
    data: dict[str, Any] = {"case": case.id, "kind": NEWS, "texts": {}, "report": report_id}
    data["trail"] = [UpdateForm.kind.state]
    if not text or len(text) > updates.MAX_TEXT or lang not in LANGUAGE_NAMES:
        await state.set_data(data)
        await _screen(event, UpdateForm.language.state or "", state, session, visitor)
        return True
    # As if the editor had chosen news and their language and typed the text: "Back"
    # goes to the text step, where sending a new text replaces it.
    data.update(
        texts={lang: text},
        lang=lang,
        trail=[UpdateForm.kind.state, UpdateForm.language.state, UpdateForm.text.state],
    )
    await state.set_data(data)
    await state.set_state(UpdateForm.more)
    lines = [
        _("<b>Update: {name}</b>").format(name=escape(await _name(session, case, visitor))),
        _("📰 News, written in {language} from the report:").format(language=LANGUAGE_NAMES[lang]),
        f"<blockquote>{escape(text)}</blockquote>",
        _(
            "Read it as a stranger would before it goes out: take out anything that could "
            "point to the family or put them at risk. To change the text, press Back and "
            "send it anew."
        ),
    ]
    kb = InlineKeyboardBuilder()
    _button(kb, _("➕ Another language"), "more")
    _button(kb, _("Continue »"), "next")
    kb.adjust(2)
    await show(event, "\n".join(lines), _nav(kb))
    return True


async def _pick_case(
    message: Message, query: str, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    markup = _nav(InlineKeyboardBuilder(), back=False)
    case_id = await case_picker.find_one(
        message, query, state, UpdateForm.case, markup, session, visitor
    )
    if case_id is None:
        return
    await state.set_data({"case": case_id, "trail": []})
    await _screen(message, UpdateForm.kind.state or "", state, session, visitor)


async def case_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _pick_case(message, message.text or "", state, session, visitor)


async def kind_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    case = await cases.visible_case(session, callback_data.case)
    if case is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    if callback_data.value not in {STATUS, NEWS, ACTION, INFO}:
        await callback.answer(_("This button is no longer valid."))
        return
    action = await actions.latest(session, case.id or 0) if callback_data.value == INFO else None
    if callback_data.value == INFO and action is None:
        await callback.answer(_("This button is no longer valid."))
        return
    # A fresh dialogue for this case, whatever an older message's button left behind;
    # only a report it was begun from stays linked, if it is about this very case.
    old = await state.get_data()
    fresh: dict[str, Any] = {"case": case.id, "kind": callback_data.value, "texts": {}, "trail": []}
    if old.get("report") and old.get("case") == case.id:
        fresh["report"] = old["report"]
    if action is not None:
        fresh["action"] = action.id
    await state.set_state(UpdateForm.kind)
    await state.set_data(fresh)
    step = UpdateForm.status if callback_data.value == STATUS else UpdateForm.language
    await _forward(callback, step, state, session, visitor)


async def status_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    case = await _case(session, state)
    if callback_data.value not in updates.STATUSES or case is None:
        await callback.answer(_("This button is no longer valid."))
        return
    if callback_data.value == case.status:
        await callback.answer(_("The case has this status already."))
        return
    await state.update_data(new=callback_data.value)
    await _forward(callback, UpdateForm.language, state, session, visitor)


async def language_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if callback_data.value not in LANGUAGE_NAMES:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.update_data(lang=callback_data.value)
    await _forward(callback, UpdateForm.text, state, session, visitor)


async def text_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    text = updates.clean_text(message.text or "")
    data = await state.get_data()
    if data.get("lang") not in LANGUAGE_NAMES:
        await stop(message, state)
        return
    if len(text) > updates.MAX_TEXT or not text:
        warning = _(
            "That text has {count} characters; at most {limit} fit. Please send a shorter one."
        ).format(count=views.number(len(text)), limit=views.number(updates.MAX_TEXT))
        await message.answer(warning)
        await _text_screen(message, data)
        return
    texts = dict(data.get("texts", {}))
    texts[str(data.get("lang"))] = text
    await state.update_data(texts=texts)
    await _forward(message, UpdateForm.more, state, session, visitor)


async def another_language(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    await _forward(callback, UpdateForm.language, state, session, visitor)


async def texts_done(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    data = await state.get_data()
    if data.get("kind") != STATUS and not data.get("texts"):
        await callback.answer(_("This button is no longer valid."))
        return
    await _after_texts(callback, state, session, visitor)


async def deadline_step(
    message: Message, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    case = await _case(session, state)
    if case is None:
        await stop(message, state)
        return
    zone = cases.COURT_TIMEZONES.get(case.country, "UTC")
    try:
        deadline = actions.parse_deadline(message.text or "", zone, utcnow())
    except actions.DeadlineError as exc:
        problem = {
            "format": _("Please send the date as YYYY-MM-DD, or YYYY-MM-DD HH:MM."),
            "soon": _("That is past, or too soon: give people at least two hours."),
            "far": _("That is more than 90 days away: an urgent action needs a near deadline."),
        }[exc.reason]
        await message.answer(problem)
        await _deadline_screen(message, case)
        return
    await state.update_data(deadline=deadline.isoformat())
    await _forward(message, UpdateForm.confirm, state, session, visitor)


async def audience_chosen(
    callback: CallbackQuery,
    callback_data: UpdateCb,
    state: FSMContext,
    session: AsyncSession,
    visitor: Visitor,
) -> None:
    if callback_data.value not in {"public", "family"}:
        await callback.answer(_("This button is no longer valid."))
        return
    await state.update_data(family=callback_data.value == "family")
    await _forward(callback, UpdateForm.confirm, state, session, visitor)


async def publish(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cipher: IdentityCipher,
    visitor: Visitor,
) -> None:
    data = await state.get_data()
    case = await _case(session, state)
    await state.clear()
    if case is None or case.id is None or visitor.person is None:
        await callback.answer(_("This case is not available."), show_alert=True)
        return
    family = bool(data.get("family"))
    actor = staff.actor_of(cipher, visitor.person.id)
    deadline = dt.datetime.fromisoformat(data["deadline"]) if data.get("deadline") else None
    action = await updates.by_id(session, int(data["action"])) if data.get("action") else None
    try:
        await updates.publish(
            session,
            case,
            str(data.get("kind")),
            dict(data.get("texts", {})),
            family_only=family,
            new_status=data.get("new"),
            actor=actor,
            deadline=deadline,
            action=action,
        )
    except updates.UpdateError:
        # Someone changed the case meanwhile (its status, most likely).
        await callback.answer(
            _("The case has changed since you began. Nothing was published."), show_alert=True
        )
        return
    if data.get("report"):
        await reports.published(session, int(data["report"]), case.id, actor)
    count = await updates.recipients(session, case.id, family, action.id if action else None)
    done = ngettext(
        "✅ Published. It is on its way to {count} person.",
        "✅ Published. It is on its way to {count} people.",
        count,
    ).format(count=views.number(count))
    await show(callback, done)


async def back(
    callback: CallbackQuery, state: FSMContext, session: AsyncSession, visitor: Visitor
) -> None:
    trail: list[str] = list((await state.get_data()).get("trail", []))
    if not trail:
        await stop(callback, state)
        return
    step = trail.pop()
    await state.update_data(trail=trail)
    await _screen(callback, step, state, session, visitor)


async def stop(event: Event, state: FSMContext) -> None:
    await state.clear()
    await show(event, _("Stopped. Nothing was changed."))


async def stop_command(message: Message, state: FSMContext) -> None:
    await stop(message, state)


def router() -> Router:
    """Editors and admins only: to anyone else /update is an unknown command and the
    buttons are stale ones."""
    r = Router(name="staff-updates")
    r.message.register(stop_command, Command("cancel"), EDITORS, StateFilter(UpdateForm))
    r.message.register(update_command, Command("update"), EDITORS)
    r.message.register(case_step, UpdateForm.case, F.text, ~F.text.startswith("/"), EDITORS)
    r.message.register(text_step, UpdateForm.text, F.text, ~F.text.startswith("/"), EDITORS)
    r.message.register(deadline_step, UpdateForm.deadline, F.text, ~F.text.startswith("/"), EDITORS)
    r.callback_query.register(start_button, UpdateCb.filter(F.action == "start"), EDITORS)
    r.callback_query.register(kind_chosen, UpdateCb.filter(F.action == "kind"), EDITORS)
    r.callback_query.register(
        status_chosen, UpdateCb.filter(F.action == "status"), UpdateForm.status, EDITORS
    )
    r.callback_query.register(
        language_chosen, UpdateCb.filter(F.action == "lang"), UpdateForm.language, EDITORS
    )
    r.callback_query.register(
        another_language, UpdateCb.filter(F.action == "more"), UpdateForm.more, EDITORS
    )
    r.callback_query.register(
        texts_done,
        UpdateCb.filter(F.action == "next"),
        StateFilter(UpdateForm.language, UpdateForm.text, UpdateForm.more),
        EDITORS,
    )
    r.callback_query.register(
        audience_chosen, UpdateCb.filter(F.action == "aud"), UpdateForm.audience, EDITORS
    )
    r.callback_query.register(
        publish, UpdateCb.filter(F.action == "publish"), UpdateForm.confirm, EDITORS
    )
    r.callback_query.register(back, UpdateCb.filter(F.action == "back"), EDITORS)
    r.callback_query.register(stop, UpdateCb.filter(F.action == "stop"), EDITORS)
    return r
