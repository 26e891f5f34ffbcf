"""Every button fits a phone, in every language: a button alone in its row at most 30
characters, two or more in a row at most 18 each, state suffixes included; a command's
description in the menu at most 32. Walked through the real screens, so a label is
measured where it is shown and the way it is laid out."""

from __future__ import annotations

import unicodedata

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot import commands
from bot.i18n import make_i18n
from config.settings import SUPPORTED_LOCALES
from tests.handlers.test_reports import relative
from tests.handlers.test_staff_updates import staff_member
from tests.support import Driver, Person, Reply

FULL = 30
HALF = 18
DESCRIPTION = 32
TELEGRAM_CODES = {"uz_Cyrl": None}


def width(label: str) -> int:
    """Characters as a phone shows them: an emoji with its variation selector is one."""
    return sum(1 for c in label if unicodedata.category(c) not in {"Mn", "Cf"})


def too_wide(reply: Reply) -> list[str]:
    out: list[str] = []
    for call in reply.calls:
        markup = getattr(call, "reply_markup", None)
        if not isinstance(markup, InlineKeyboardMarkup):
            continue
        for row in markup.inline_keyboard:
            limit = FULL if len(row) == 1 else HALF
            out.extend(
                f"{b.text!r} ({width(b.text)} > {limit})" for b in row if width(b.text) > limit
            )
    return out


async def walk(driver: Driver, person: Person, steps: list[tuple[str, str]]) -> list[str]:
    found: list[str] = []
    for kind, what in steps:
        reply = await (driver.send if kind == "send" else driver.press)(person, what)
        found.extend(too_wide(reply))
    return found


SUPPORTER = [
    ("send", "/start"),
    ("send", "/settings"),
    ("press", "🕒"),
    ("send", "/settings"),
    ("press", "🌙"),
    ("send", "/settings"),
    ("press", "📬"),
    ("send", "/settings"),
    ("press", "🗑"),
    ("send", "/settings"),
    ("press", "🛡"),
    ("send", "/language"),
    ("send", "/case Testov"),
    ("press", "⭐"),  # the card again, now with "🔕 Unfollow"
    ("send", "/case Testov"),
    ("press", "✉️"),
    ("press", "💌"),
    ("send", "/case Testov"),
    ("press", "⚠️"),
    ("send", "/cases"),
    ("send", "/me"),
    ("send", "/privacy"),
    ("send", "/forget"),
]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_a_supporters_buttons_fit_a_phone(driver: Driver, small_cases, locale: str):
    person = Person(
        id=9_800_000_000 + len(locale), language_code=TELEGRAM_CODES.get(locale, locale)
    )
    if locale == "uz_Cyrl":
        await driver.send(person, "/language")
        await driver.press(person, "Ўзбекча")
    found = await walk(driver, person, SUPPORTER)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_staff_and_family_buttons_fit_a_phone(
    driver: Driver, storage, settings, small_cases, locale: str
):
    admin = await staff_member(storage, settings, 9_800_000_100 + len(locale), "admin")
    mother, _ = await relative(storage, settings, 9_800_000_200 + len(locale), locale=locale)
    await driver.send(admin, "/language")
    await driver.press(admin, {"uz_Cyrl": "Ўзбекча"}.get(locale, _language_button(locale)))
    found = await walk(
        driver,
        admin,
        [
            ("send", "/admin"),
            ("send", "/editcase Testov"),
            ("press", "✏️"),
            ("send", "/hearing Testov"),
            ("send", "/update Testov"),
            ("send", "/broadcast"),
        ],
    )
    found += await walk(driver, mother, [("send", "/start"), ("send", "/report")])
    assert not found, "\n".join(found)


def _language_button(locale: str) -> str:
    from bot.i18n import LANGUAGE_NAMES

    return LANGUAGE_NAMES[locale]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_command_descriptions_fit_the_menu(locale: str):
    i18n: I18n = make_i18n()
    listed = commands.commands_for(i18n, locale, role="admin", family=True)
    long = [f"/{c.command}: {c.description!r}" for c in listed if len(c.description) > DESCRIPTION]
    assert not long, "\n".join(long)


def _button_msgids() -> set[str]:
    """Every literal `_("…")` that is, or is in, the text of an inline button in the code:
    `kb.button(text=…)` and `InlineKeyboardButton(text=…)`."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent.parent
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                texts: list[ast.AST] = []
                if isinstance(node, ast.FunctionDef) and node.name.endswith("_label"):
                    texts.append(node)  # the labels the settings' toggles are made of
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    if name in {"button", "InlineKeyboardButton"}:
                        texts.extend(kw.value for kw in node.keywords if kw.arg == "text")
                for text in texts:
                    for inner in ast.walk(text):
                        if (
                            isinstance(inner, ast.Call)
                            and getattr(inner.func, "id", "") in {"_", "ngettext"}
                            and inner.args
                            and isinstance(inner.args[0], ast.Constant)
                        ):
                            found.add(str(inner.args[0].value))
    return found


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_button_label_fits_a_row(locale: str):
    """Whatever screen shows it, no button's own words are wider than a phone's row
    (placeholders counted as empty: a name or a date is fitted where it is put in)."""
    import re

    i18n: I18n = make_i18n()
    labels = _button_msgids()
    assert len(labels) > 100  # the search finds the buttons
    with i18n.context(), i18n.use_locale(locale):
        from aiogram.utils.i18n import gettext

        shown = {label: gettext(label) for label in labels}
    long = [
        f"{label!r} → {text!r}"
        for label, text in shown.items()
        if width(re.sub(r"\{\w+\}", "", text)) > FULL
    ]
    assert not long, "\n".join(sorted(long))
