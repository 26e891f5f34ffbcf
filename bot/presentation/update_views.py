"""What an editor sees while publishing a case update (handlers/staff/updates.py): the
dialogue's questions with their own buttons (Back and Stop are the dialogue's, put under
them by the handler) and the preview, which shows the alert as the worker renders it.
Nothing here reads the database: names, counts and the alert's parts come in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.i18n import LANGUAGE_NAMES
from bot.presentation import alert_views, views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import UpdateAction, UpdateCb
from bot.services import updates
from db.models import CaseStatus, UpdateKind

# A question and the buttons that answer it.
Question = tuple[str, InlineKeyboardBuilder]


def _button(
    kb: InlineKeyboardBuilder, text: str, action: UpdateAction, value: str = "", case: int = 0
) -> None:
    kb.button(text=text, callback_data=UpdateCb(action=action, case=case, value=value))


def languages(texts: Mapping[str, str]) -> str:
    """The languages written so far, in the bot's order."""
    return ", ".join(LANGUAGE_NAMES[loc] for loc in LANGUAGE_NAMES if loc in texts)


def _header(name: str) -> str:
    return _("<b>Update: {name}</b>").format(name=escape(name))


def kind_question(name: str, status: str, case_id: int, *, has_action: bool) -> Question:
    text = "\n".join(
        [
            _header(name),
            _("Status now: {status}").format(status=views.status_label(status)),
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
    _button(kb, _("🔄 Status change"), "kind", UpdateKind.STATUS, case_id)
    _button(kb, _("📰 News"), "kind", UpdateKind.NEWS, case_id)
    _button(kb, _("🚨 Urgent action"), "kind", UpdateKind.ACTION, case_id)
    if has_action:
        _button(kb, _("ℹ️ Further information"), "kind", UpdateKind.INFO, case_id)
    kb.adjust(2, 1, 1)
    return text, kb


def status_question(current: str) -> Question:
    kb = InlineKeyboardBuilder()
    for status in CaseStatus:
        if status.value != current:
            _button(kb, views.status_label(status.value), "status", status.value)
    kb.adjust(2)
    text = _("The case's status now: {status}. Choose the new one:").format(
        status=views.status_label(current)
    )
    return text, kb


def language_question(kind: str | None, texts: Mapping[str, str]) -> Question:
    kb = InlineKeyboardBuilder()
    for loc, name in LANGUAGE_NAMES.items():
        _button(kb, f"✓ {name}" if loc in texts else name, "lang", loc)
    if texts:
        _button(kb, _("Continue »"), "next")
    elif kind == UpdateKind.STATUS:
        _button(kb, _("Skip the note"), "next")
    kb.adjust(2, 2, 2, 2, 1)
    if kind == UpdateKind.STATUS:
        text = _(
            "You can add a note in the language of your choice. Without one, readers get the "
            "status sentence alone, in their own language."
        )
    else:
        text = _("In which language will you write? You can add more languages after.")
    return text, kb


def text_question(kind: str | None, locale: str, *, first: bool) -> Question:
    """The text in `locale`: a status change's optional note (skipped while it is the
    `first` text), the call to act, the further information, or the news."""
    kb = InlineKeyboardBuilder()
    if kind == UpdateKind.STATUS:
        text = _("Send the note in {language} as plain text, at most {limit} characters.")
        if first:
            _button(kb, _("Skip the note"), "next")
    elif kind == UpdateKind.ACTION:
        text = _(
            "Send the call to act in {language} as plain text, at most {limit} characters: "
            "what to do, whom to write to and how, and why it matters now."
        )
    elif kind == UpdateKind.INFO:
        text = _(
            "Send the further information in {language} as plain text, at most {limit} "
            "characters: what came of the action, and what comes next."
        )
    else:
        text = _("Send the news in {language} as plain text, at most {limit} characters.")
    language = LANGUAGE_NAMES.get(locale, "")
    return text.format(language=language, limit=views.number(updates.MAX_TEXT)), kb


def too_long(length: int) -> str:
    return _(
        "That text has {count} characters; at most {limit} fit. Please send a shorter one."
    ).format(count=views.number(length), limit=views.number(updates.MAX_TEXT))


def _more_buttons() -> InlineKeyboardBuilder:
    kb = InlineKeyboardBuilder()
    _button(kb, _("➕ Another language"), "more")
    _button(kb, _("Continue »"), "next")
    kb.adjust(2)
    return kb


def more_question(texts: Mapping[str, str]) -> Question:
    text = _("Saved. Written so far in: {languages}.").format(languages=languages(texts))
    return text, _more_buttons()


def from_report(name: str, locale: str, report_text: str) -> Question:
    """The news as a relative's report has it, with a word on what to take out."""
    lines = [
        _header(name),
        _("📰 News, written in {language} from the report:").format(
            language=LANGUAGE_NAMES[locale]
        ),
        f"<blockquote>{escape(report_text)}</blockquote>",
        _(
            "Read it as a stranger would before it goes out: take out anything that could "
            "point to the family or put them at risk. To change the text, press Back and "
            "send it anew."
        ),
    ]
    return "\n".join(lines), _more_buttons()


def deadline_question(zone: str) -> Question:
    text = _(
        "By when must people act? Send the deadline as a date, like 10.12.2026 (the end of "
        "that day), or a date and a time, like 10.12.2026 18:00, in the time of {zone}, the "
        "court's."
    ).format(zone=escape(views.timezone_label(zone)))
    return text, InlineKeyboardBuilder()


def deadline_problem(reason: str) -> str:
    return {
        "format": _("Please send the date like 10.12.2026, or 10.12.2026 18:00."),
        "soon": _("That is past, or too soon: give people at least two hours."),
        "far": _("That is more than 90 days away: an urgent action needs a near deadline."),
    }[reason]


def audience_question() -> Question:
    kb = InlineKeyboardBuilder()
    _button(kb, _("📢 Followers and family"), "aud", "public")
    _button(kb, _("👪 The family only"), "aud", "family")
    kb.adjust(1)
    return _("Who should receive it?"), kb


def preview(
    name: str,
    *,
    kind: str | None,
    new: str | None,
    note: str | None,
    family: bool,
    deadline: dt.datetime | None,
    texts: Mapping[str, str],
    count: int,
    locale: str,
    zone: str,
) -> Question:
    """The alert as the worker renders it for a reader in the editor's language (`note` is
    the text in that language or the nearest one), in which languages it is written, and
    how many it reaches."""
    if kind in (UpdateKind.ACTION, UpdateKind.INFO):
        until = views.moment(deadline, zone) if deadline else ""
        headline, body = alert_views.action_headline(str(kind), until), escape(note or "")
        discreet = alert_views.action_discreet(str(kind))
    else:
        headline, body = alert_views.update_parts(new, note, family)
        discreet = alert_views.update_discreet()
    alert = alert_views.alert_text(name, headline, body)
    if kind == UpdateKind.INFO:
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
    written = (
        _("Written in: {languages}.").format(languages=languages(texts))
        if texts
        else _("No note: readers get the status sentence in their own language.")
    )
    lines = [
        _("<b>Preview.</b> A follower who reads the bot in {language} will receive:").format(
            language=LANGUAGE_NAMES.get(locale, locale)
        ),
        "",
        alert,
        "",
        _("In discreet mode: {text}").format(text=discreet),
        written,
        reach.format(count=views.number(count)),
    ]
    kb = InlineKeyboardBuilder()
    _button(kb, _("✅ Publish"), "publish")
    return "\n".join(lines), kb


def already_published(count: int) -> str:
    """A button of the update dialogue pressed after the update went out."""
    return ngettext(
        "This update was already published: it went to {count} person.",
        "This update was already published: it went to {count} people.",
        count,
    ).format(count=views.number(count))


def published(count: int) -> str:
    return ngettext(
        "✅ Published. It is on its way to {count} person.",
        "✅ Published. It is on its way to {count} people.",
        count,
    ).format(count=views.number(count))
