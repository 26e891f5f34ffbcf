"""Every button fits a phone, in every language: a button alone in its row at most 30
characters, two or more in a row at most 18 each, state suffixes included; a command's
description in the menu at most 32. Walked through the real screens, so a label is
measured where it is shown and the way it is laid out: a supporter's (following a case,
an urgent action on its card and in its alert), and staff's and a relative's (invitations,
a relative's report made an update, hearings, the family, staff, an urgent action
published, a broadcast composed, sent and cancelled)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import re
import unicodedata

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, gettext

from bot import commands
from bot.crypto import IdentityCipher
from bot.delivery.specs import read_spec
from bot.i18n import make_i18n
from bot.presentation.alert_views import AlertRenderer
from bot.services import hearings, identity, updates
from config.settings import SUPPORTED_LOCALES
from db.models import Delivery, HearingKind
from db.types import utcnow
from tests.handlers.test_reports import relative
from tests.handlers.test_staff_updates import readers, rows, staff_member, the_case
from tests.handlers.test_urgent_actions import CALL, in_days
from tests.support import Driver, Person, Reply, reader_for

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


def button_data(driver: Driver, person: Person, pattern: str) -> str:
    """The callback data of the button on the last keyboard whose data matches `pattern`
    (fnmatch): for the buttons whose label is all words, which differ in each language."""
    message = driver.keyboard(person)
    assert message is not None, "no keyboard shown"
    found = [str(b.get("callback_data") or "") for b in message.buttons()]
    for data in found:
        if fnmatch.fnmatchcase(data, pattern):
            return data
    raise AssertionError(f"no button with data {pattern!r} in {found}")


async def walk(driver: Driver, person: Person, steps: list[tuple[str, str]]) -> list[str]:
    """Each step a message sent ("send"), or a button pressed by a part of its label
    ("press") or by its callback data ("data", an fnmatch pattern)."""
    found: list[str] = []
    for kind, what in steps:
        if kind == "send":
            reply = await driver.send(person, what)
        elif kind == "press":
            reply = await driver.press(person, what)
        else:
            reply = await driver.callback(person, button_data(driver, person, what))
        found.extend(too_wide(reply))
    return found


SUPPORTER = [
    ("send", "/start"),
    ("send", "/settings"),
    ("press", "🔔"),
    ("press", "🕒"),
    ("send", "/settings"),
    ("press", "🔔"),
    ("press", "🌙"),
    ("send", "/settings"),
    ("press", "🔔"),
    ("press", "📬"),
    ("send", "/settings"),
    ("press", "🛡"),
    ("press", "🗑"),
    ("send", "/settings"),
    ("press", "🛡"),
    ("press", "❔"),
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
# An urgent action is published on the case the supporter now follows: its card offers
# "✅ I did the urgent action" alone and "🔕 Unfollow" beside "✉️ Write a letter".
ON_THE_CARD = [("send", "/case Testov")]
# Its alert has come ("✅ I did it"): pressed, it says "✅ Done — thank you".
IN_THE_ALERT = [("press", "✅"), ("send", "/case Testov")]


async def publish_action(storage) -> None:
    case = await the_case(storage)
    async with storage.sessionmaker() as s, s.begin():
        await updates.publish(
            s, case, "action", {"en": CALL}, actor="t", deadline=utcnow() + dt.timedelta(days=3)
        )


async def deliver_alerts(driver: Driver, storage, settings, person: Person) -> Reply:
    """The person's alerts as the delivery worker renders and sends them."""
    async with storage.sessionmaker() as s:
        row = await identity.lookup(s, IdentityCipher(settings.key_bytes), person.id)
    assert row is not None
    renderer = AlertRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    before = len(driver.session.calls)
    for delivery in await rows(storage, Delivery):
        if delivery.person_id != row.id:
            continue
        shown = await renderer(read_spec(delivery.spec), await reader_for(storage, delivery))
        assert shown is not None
        sent = await driver.bot.send_message(person.id, shown.text, reply_markup=shown.markup)
        driver.last_keyboard[person.id] = sent.message_id
    reply = Reply(driver.session.calls[before:])
    assert reply.calls, "no alert for the person"
    return reply


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_a_supporters_buttons_fit_a_phone(
    driver: Driver, storage, settings, small_cases, locale: str
):
    person = Person(
        id=9_800_000_000 + len(locale), language_code=TELEGRAM_CODES.get(locale, locale)
    )
    if locale == "uz_Cyrl":
        await driver.send(person, "/language")
        await driver.press(person, "Ўзбекча")
    found = await walk(driver, person, SUPPORTER)
    await publish_action(storage)
    found += await walk(driver, person, ON_THE_CARD)
    found += too_wide(await deliver_alerts(driver, storage, settings, person))
    found += await walk(driver, person, IN_THE_ALERT)
    assert not found, "\n".join(found)


RELATIVE = [("send", "/start"), ("send", "/report"), ("send", "A lawyer visited him today.")]


def staff_steps() -> list[tuple[str, str]]:
    """An admin's walk; the relative has sent a report, a hearing is scheduled."""
    soon = (utcnow() + dt.timedelta(days=5)).strftime("%d.%m.%Y 12:00")
    return [
        ("send", "/admin"),
        ("send", "/editcase Testov"),
        ("press", "✏️"),
        ("send", "/hearing Testov"),  # "Move: {when}", "Cancel: {when}"
        ("data", "hg:cancel:*"),
        ("send", "/family Testov"),  # "Unlink {who}"
        ("data", "fm:unlink:*"),
        # An urgent action published, then offered further information.
        ("send", "/update Testov"),
        ("data", "up:kind:*:action"),
        ("data", "up:lang:*:en"),
        ("send", CALL),
        ("data", "up:next:*"),
        ("send", in_days(10)),
        ("data", "up:publish:*"),
        ("send", "/update Testov"),  # "ℹ️ Further information", once there is an action
        ("data", "up:kind:*:info"),
        # Ten invitations: "❌ Cancel {number}" four a row, up to two digits.
        ("send", "/invite editor"),
        *[("send", "/invite family Testov")] * 9,
        ("send", "/invites"),
        ("data", "iv:cancel:*"),
        ("send", "/staff"),  # "❌ Revoke {number}"
        # The relative's report, made a case update up to its preview.
        ("send", "/reports"),
        ("data", "rp:open:*"),
        ("data", "rp:update:*"),
        ("data", "up:next:*"),
        ("data", "up:aud:*:public"),
        ("send", "/checkwords ru"),
        ("data", "ckw:ru:1"),
        # A broadcast: each step of the composer, a time set then taken back, sent now,
        # and cancelled while it goes.
        ("send", "/broadcast"),
        ("data", "bc:aud:*:language"),
        ("data", "bc:back:*"),
        ("data", "bc:aud:*:cases"),
        ("send", "test-detained"),
        ("data", "bc:cases-done:*"),
        ("data", "bc:photo-skip:*"),
        ("data", "bc:lang:*:en"),
        ("send", "Write to him today."),
        ("data", "bc:btn-skip:*"),
        ("data", "bc:ver-done:*"),
        ("data", "bc:later:*"),
        ("send", soon),
        ("data", "bc:back:*"),
        ("data", "bc:back:*"),
        ("data", "bc:now:*"),
        ("data", "bc:submit:*"),
        ("data", "bc:pause:*"),
        ("data", "bc:cancel:*"),  # "⏹ Yes, cancel the rest"
        ("data", "bc:cancel-yes:*"),
    ]


async def schedule_hearing(storage) -> None:
    case = await the_case(storage)
    day = (utcnow() + dt.timedelta(days=20)).date()
    starts, tz = hearings.court_time(case, day, dt.time(10, 0))
    async with storage.sessionmaker() as s, s.begin():
        await hearings.schedule(s, case, starts, tz, "City Court", HearingKind.TRIAL, "t")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_staff_and_family_buttons_fit_a_phone(
    driver: Driver, storage, settings, small_cases, locale: str
):
    admin = await staff_member(storage, settings, 9_800_000_100 + len(locale), "admin")
    mother, _ = await relative(storage, settings, 9_800_000_200 + len(locale), locale=locale)
    await readers(storage, settings, [9_800_000_300 + len(locale)], locale=locale)
    await schedule_hearing(storage)
    await driver.send(admin, "/language")
    await driver.press(admin, {"uz_Cyrl": "Ўзбекча"}.get(locale, _language_button(locale)))
    found = await walk(driver, mother, RELATIVE)
    found += await walk(driver, admin, staff_steps())
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


@functools.cache
def _button_msgids() -> frozenset[str]:
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
                    if name in {"button", "_button", "InlineKeyboardButton"}:
                        texts.extend(kw.value for kw in node.keywords if kw.arg == "text")
                        if name == "_button" and len(node.args) > 1:
                            texts.append(node.args[1])  # update_views: _button(kb, text, ...)
                for text in texts:
                    for inner in ast.walk(text):
                        if (
                            isinstance(inner, ast.Call)
                            and getattr(inner.func, "id", "") in {"_", "ngettext"}
                            and inner.args
                            and isinstance(inner.args[0], ast.Constant)
                        ):
                            found.add(str(inner.args[0].value))
    return frozenset(found)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_button_label_fits_a_row(locale: str):
    """Whatever screen shows it, no button's own words are wider than a phone's row
    (placeholders counted as empty: a name or a date is fitted where it is put in)."""
    i18n: I18n = make_i18n()
    labels = _button_msgids()
    assert len(labels) > 100  # the search finds the buttons
    with i18n.context(), i18n.use_locale(locale):
        shown = {label: gettext(label) for label in labels}
    long = [
        f"{label!r} → {text!r}"
        for label, text in shown.items()
        if width(re.sub(r"\{\w+\}", "", text)) > FULL
    ]
    assert not long, "\n".join(sorted(long))
