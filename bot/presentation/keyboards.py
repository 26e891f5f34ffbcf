"""Inline keyboards. Labels go through gettext; data through the CallbackData factories."""

from __future__ import annotations

from typing import Literal

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.i18n import LANGUAGE_NAMES
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import (
    ActionCb,
    CaseCb,
    FamilyReportCb,
    FilterCb,
    ForgetCb,
    LangCb,
    LetterCb,
    ListCb,
    MenuCb,
    NeedCb,
    SetCb,
)
from bot.presentation.per_language import per_language
from bot.services.cases import COUNTRIES, CasePage, CaseSummary, OpenAction
from bot.services.letters import LetterPrompt, kinds_for, original_locale
from bot.services.preferences import AUTODELETE_HOURS, DIGEST_HOURS, QUIET_PRESETS, TIMEZONES
from db.models import Case, CaseStatus, DeliveryMode, LetterKind, Person


@per_language
def main_menu(*, family: bool = False) -> InlineKeyboardMarkup:
    """The main menu; a prisoner's relative finds /report at its top, the way in for what
    they came to do."""
    kb = InlineKeyboardBuilder()
    if family:
        kb.button(
            text=_("📨 Send news of your relative"), callback_data=FamilyReportCb(action="start")
        )
    kb.button(text=_("📂 Browse cases"), callback_data=MenuCb(to="cases"))
    kb.button(text=_("⭐ My cases"), callback_data=MenuCb(to="my"))
    kb.button(text=_("🎲 Someone who needs letters"), callback_data=NeedCb())
    kb.button(text=_("✉️ Write a letter"), callback_data=MenuCb(to="letter"))
    kb.button(text=_("📊 What I have done"), callback_data=MenuCb(to="me"))
    kb.button(text=_("⚙️ Settings"), callback_data=MenuCb(to="settings"))
    kb.button(text=_("🌐 Language"), callback_data=MenuCb(to="language"))
    kb.button(text=_("🔒 Privacy"), callback_data=MenuCb(to="privacy"))
    kb.adjust(*((1,) if family else ()), 2, 1, 2, 2, 1)
    return kb.as_markup()


@per_language
def back_to_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("« Menu"), callback_data=MenuCb(to="start"))
    return kb.as_markup()


def languages(current: str | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for loc, name in LANGUAGE_NAMES.items():
        kb.button(text=f"✓ {name}" if loc == current else name, callback_data=LangCb(locale=loc))
    kb.adjust(2)
    return kb.as_markup()


def case_page(page: CasePage, country: str, status: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for item in page.items:
        kb.button(text=views.list_label(item), callback_data=CaseCb(action="view", id=item.id))
    kb.adjust(1)
    nav = InlineKeyboardBuilder()
    if page.page > 0:
        nav.button(
            text="‹", callback_data=ListCb(country=country, status=status, page=page.page - 1)
        )
    if page.pages > 1:
        # Where the reader is, not a way anywhere: pressed, it only stops spinning.
        nav.button(text=f"{page.page + 1}/{page.pages}", callback_data=MenuCb(to="here"))
    if page.page + 1 < page.pages:
        nav.button(
            text="›", callback_data=ListCb(country=country, status=status, page=page.page + 1)
        )
    kb.attach(nav)
    filters = InlineKeyboardBuilder()
    filters.button(
        text=_("🌍 Country"), callback_data=FilterCb(what="country", country=country, status=status)
    )
    filters.button(
        text=_("🏷 Status"), callback_data=FilterCb(what="status", country=country, status=status)
    )
    kb.attach(filters)
    return kb.as_markup()


def search_results(items: list[CaseSummary]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for item in items:
        kb.button(text=views.list_label(item), callback_data=CaseCb(action="view", id=item.id))
    kb.button(text=_("📂 Browse all cases"), callback_data=ListCb())
    kb.adjust(1)
    return kb.as_markup()


def countries(counts: dict[str, int], status: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("All countries"), callback_data=ListCb(status=status))
    for code in COUNTRIES:
        label = f"{views.country_label(code)} ({counts.get(code, 0)})"
        kb.button(text=label, callback_data=ListCb(country=code, status=status))
    kb.adjust(1, 2)
    return kb.as_markup()


def statuses(country: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Any status"), callback_data=ListCb(country=country))
    for status in CaseStatus:
        kb.button(
            text=views.status_label(status.value),
            callback_data=ListCb(country=country, status=status.value),
        )
    kb.adjust(1, 2)
    return kb.as_markup()


def case_card(
    case: Case, following: bool, action: OpenAction | None = None
) -> InlineKeyboardMarkup:
    assert case.id is not None
    kb = InlineKeyboardBuilder()
    if action is not None and not action.done:
        kb.button(
            text=_("✅ I did the urgent action"),
            callback_data=ActionCb(id=action.id, card=True),
        )
    if following:
        kb.button(text=_("🔕 Unfollow"), callback_data=CaseCb(action="unfollow", id=case.id))
    else:
        kb.button(text=_("⭐ Follow"), callback_data=CaseCb(action="follow", id=case.id))
    if kinds_for(case):
        kb.button(text=_("✉️ Write a letter"), callback_data=CaseCb(action="letter", id=case.id))
    if case.photo:
        kb.button(text=_("📷 Photo"), callback_data=CaseCb(action="photo", id=case.id))
    kb.button(text=_("⚠️ Report an inaccuracy"), callback_data=CaseCb(action="wrong", id=case.id))
    kb.button(text=_("« All cases"), callback_data=ListCb())
    if action is not None and not action.done:
        kb.adjust(1, 2, 1)
    else:
        kb.adjust(2, 1)
    return kb.as_markup()


def letter_kinds(case: Case) -> InlineKeyboardMarkup:
    assert case.id is not None
    kb = InlineKeyboardBuilder()
    for kind in kinds_for(case):
        label = (
            _("💌 A card to the prisoner")
            if kind is LetterKind.CARD
            else _("📜 An appeal to the authorities")
        )
        kb.button(text=label, callback_data=LetterCb(action="show", id=case.id, kind=kind.value))
    kb.button(text=_("« Back to the case"), callback_data=CaseCb(action="view", id=case.id))
    kb.adjust(1)
    return kb.as_markup()


def letter(prompt: LetterPrompt, reader_locale: str) -> InlineKeyboardMarkup:
    case_id = prompt.case.id
    assert case_id is not None
    kind = prompt.kind.value
    # The authorities' language for an appeal, the one the facility requires for a card.
    original = original_locale(prompt.case, prompt.kind)
    in_original = original is not None and prompt.locale == original != reader_locale
    kb = InlineKeyboardBuilder()
    sent = LetterCb(action="sent", id=case_id, kind=kind, variant=prompt.variant, orig=in_original)
    if not prompt.postable:
        # Nothing to count yet; the supporter can ask to hear when a card can be sent.
        wait = LetterCb(
            action="unwait" if prompt.waiting else "wait",
            id=case_id,
            kind=kind,
            variant=prompt.variant,
            orig=in_original,
        )
        label = (
            _("🔕 Don't tell me after all")
            if prompt.waiting
            else _("🔔 Tell me when I can send it")
        )
        kb.button(text=label, callback_data=wait)
    elif prompt.recorded:
        kb.button(text=_("✅ Recorded — thank you"), callback_data=sent)
    else:
        kb.button(text=_("✅ I sent it"), callback_data=sent)
    if prompt.variants > 1 and not in_original:
        kb.button(
            text=_("🔄 Another version"),
            callback_data=LetterCb(action="next", id=case_id, kind=kind, variant=prompt.variant),
        )
    if prompt.address:
        kb.button(
            text=_("🖨 Printable letter (PDF)"),
            callback_data=LetterCb(
                action="pdf", id=case_id, kind=kind, variant=prompt.variant, orig=in_original
            ),
        )
    if original is not None and original != prompt.locale:
        language = LANGUAGE_NAMES.get(original, original)
        kb.button(
            text=_("🏛 The text in {language}").format(language=language)
            if prompt.kind is LetterKind.APPEAL
            else _("✍️ The text in {language}").format(language=language),
            callback_data=LetterCb(action="orig", id=case_id, kind=kind, variant=prompt.variant),
        )
    elif in_original:
        kb.button(
            text=_("🌐 In my language"),
            callback_data=LetterCb(action="show", id=case_id, kind=kind, variant=prompt.variant),
        )
    if prompt.kind is LetterKind.CARD:  # an appeal is not read by the prison's censor
        kb.button(
            text=_("🔎 Check a draft"),
            callback_data=LetterCb(action="check", id=case_id, kind=kind),
        )
    kb.button(text=_("« Back to the case"), callback_data=CaseCb(action="view", id=case_id))
    kb.adjust(1)
    return kb.as_markup()


def need_offer(case: Case) -> InlineKeyboardMarkup:
    assert case.id is not None
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("💌 Write a card"),
        callback_data=LetterCb(action="show", id=case.id, kind=LetterKind.CARD),
    )
    kb.button(text=_("📄 About the case"), callback_data=CaseCb(action="view", id=case.id))
    kb.button(text=_("🎲 Someone else"), callback_data=NeedCb(skip=case.id))
    kb.button(text=_("📋 Choose from a list"), callback_data=MenuCb(to="letter"))
    kb.button(text=_("« Menu"), callback_data=MenuCb(to="start"))
    kb.adjust(1, 2, 1, 1)
    return kb.as_markup()


def my_record() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🎲 Someone who needs letters"), callback_data=NeedCb())
    kb.button(text=_("⭐ My cases"), callback_data=MenuCb(to="my"))
    kb.button(text=_("« Menu"), callback_data=MenuCb(to="start"))
    kb.adjust(1)
    return kb.as_markup()


def letter_cases(items: list[CaseSummary]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for item in items:
        kb.button(text=views.list_label(item), callback_data=CaseCb(action="letter", id=item.id))
    kb.button(text=_("📂 Browse all cases"), callback_data=ListCb())
    kb.adjust(1)
    return kb.as_markup()


def settings() -> InlineKeyboardMarkup:
    """Two groups of settings, the language and the way back: a screen that fits a phone."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔔 Alerts"), callback_data=SetCb(field="menu", value="alerts"))
    kb.button(text=_("🛡 Safety"), callback_data=SetCb(field="menu", value="safety"))
    kb.button(text=_("🌐 Language"), callback_data=MenuCb(to="language"))
    kb.button(text=_("« Menu"), callback_data=MenuCb(to="start"))
    kb.adjust(2, 2)
    return kb.as_markup()


def alert_settings(person: Person) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🕒 Time zone"), callback_data=SetCb(field="menu", value="tz"))
    kb.button(text=_("🌙 Quiet hours"), callback_data=SetCb(field="menu", value="quiet"))
    kb.button(text=_("📬 Delivery"), callback_data=SetCb(field="menu", value="delivery"))
    kb.button(
        text=views.birthdays_label(person.birthday_prompts), callback_data=SetCb(field="birthdays")
    )
    kb.button(text=_("« Settings"), callback_data=SetCb(field="menu", value="main"))
    kb.adjust(2, 1, 1, 1)
    return kb.as_markup()


def safety_settings(person: Person, *, safest: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if not safest:
        kb.button(text=_("🛡 Turn on every protection"), callback_data=SetCb(field="safest"))
    kb.button(text=views.discreet_label(person.discreet), callback_data=SetCb(field="discreet"))
    kb.button(
        text=views.protected_label(person.protect_content), callback_data=SetCb(field="protect")
    )
    kb.button(
        text=views.autodelete_state(person.autodelete_hours),
        callback_data=SetCb(field="menu", value="autodelete"),
    )
    kb.button(text=_("🆘 Panic word"), callback_data=SetCb(field="panic", value="menu"))
    kb.button(text=_("❔ Why these settings"), callback_data=SetCb(field="menu", value="why"))
    kb.button(text=_("« Settings"), callback_data=SetCb(field="menu", value="main"))
    kb.adjust(1)
    return kb.as_markup()


def back_to(kb: InlineKeyboardBuilder, group: Literal["alerts", "safety"]) -> None:
    """The way back from a setting's own screen to its group."""
    label = _("« Alerts") if group == "alerts" else _("« Safety")
    kb.button(text=label, callback_data=SetCb(field="menu", value=group))


def safety(*, safest: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if not safest:
        kb.button(text=_("🛡 Turn on every protection"), callback_data=SetCb(field="safest"))
    back_to(kb, "safety")
    kb.adjust(1)
    return kb.as_markup()


def autodelete(current: int | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for hours in AUTODELETE_HOURS:
        label = views.autodelete_label(hours)
        kb.button(
            text=f"✓ {label}" if hours == current else label,
            callback_data=SetCb(field="autodelete", value=str(hours or 0)),
        )
    back_to(kb, "safety")
    kb.adjust(1)
    return kb.as_markup()


def zone_confirm() -> InlineKeyboardMarkup:
    """Under the note that a first follow set the reader's time zone: one tap to keep it."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ That is right"), callback_data=SetCb(field="zone-ok"))
    kb.button(text=_("🕒 Another zone"), callback_data=SetCb(field="menu", value="tz"))
    kb.adjust(2)
    return kb.as_markup()


def timezones(current: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for tz in TIMEZONES:
        label = views.timezone_label(tz)
        kb.button(
            text=f"✓ {label}" if tz == current else label, callback_data=SetCb(field="tz", value=tz)
        )
    back_to(kb, "alerts")
    kb.adjust(1)
    return kb.as_markup()


def quiet_hours(current: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for index, hours in enumerate(QUIET_PRESETS):
        label = views.quiet_label(hours)
        kb.button(
            text=f"✓ {label}" if index == current else label,
            callback_data=SetCb(field="quiet", value=str(index)),
        )
    back_to(kb, "alerts")
    kb.adjust(1)
    return kb.as_markup()


def delivery(person: Person) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for mode in DeliveryMode:
        label = views.delivery_label(mode.value)
        kb.button(
            text=f"✓ {label}" if person.delivery == mode.value else label,
            callback_data=SetCb(field="delivery", value=mode.value),
        )
    if person.delivery != DeliveryMode.INSTANT:
        for hour in DIGEST_HOURS:
            label = views.clock(hour)
            kb.button(
                text=f"✓ {label}" if person.digest_hour == hour else label,
                callback_data=SetCb(field="hour", value=str(hour)),
            )
    back_to(kb, "alerts")
    kb.adjust(1, 1, 1, 4, 1)
    return kb.as_markup()


def forget_confirm() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🗑 Yes, delete everything"), callback_data=ForgetCb(confirm=True))
    kb.button(text=_("Cancel"), callback_data=ForgetCb(confirm=False))
    kb.adjust(1)
    return kb.as_markup()


def privacy() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🗑 Delete my data"), callback_data=MenuCb(to="forget"))
    kb.button(text=_("« Menu"), callback_data=MenuCb(to="start"))
    kb.adjust(1)
    return kb.as_markup()
