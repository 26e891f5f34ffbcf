"""Each person's command menu and /help show what their role and family link let them
use: set when a role is granted or revoked and when a relative joins; a supporter's
/help lists each command once; the menu button greets no one as returning."""

from __future__ import annotations

import re

from aiogram.methods import DeleteMyCommands, SetMyCommands
from aiogram.types import BotCommandScopeChat

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import StaffCb
from bot.services import staff
from db.repositories import staff as staff_repo
from tests.support import Driver, Person, Reply


def menu_of(reply: Reply, chat_id: int) -> list[str] | None:
    """The commands of the last chat menu the reply set for `chat_id`."""
    menus = [
        c
        for c in reply.calls
        if isinstance(c, SetMyCommands)
        and isinstance(c.scope, BotCommandScopeChat)
        and c.scope.chat_id == chat_id
    ]
    return [c.command for c in menus[-1].commands] if menus else None


async def test_a_granted_role_joins_the_menu_and_a_revoked_one_leaves_it(
    driver: Driver, storage, settings
):
    cipher = IdentityCipher(settings.key_bytes)
    admin = Person(id=9_400_300_001)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, cipher, admin.id, "admin", "test", "en")
    reply = await driver.send(admin, "/invite editor")
    code = re.search(r"start=(inv-[\w-]+)", reply.text)
    assert code, reply.text
    editor = Person(id=9_400_300_002)
    joined = await driver.send(editor, f"/start {code.group(1)}")
    menu = menu_of(joined, editor.id)
    assert menu is not None
    assert {"admin", "newcase", "update", "hearing", "stats", "cases"} <= set(menu)
    assert not {"broadcast", "staff", "audit", "report"} & set(menu)

    async with storage.sessionmaker() as s:
        target = next(m.person_id for m in await staff_repo.members(s) if m.role == "editor")
    await driver.send(admin, "/staff")
    revoked = await driver.callback(admin, StaffCb(action="revoke", person=target).pack())
    assert "• editor" not in revoked.text  # the staff list no longer has them
    menu = menu_of(revoked, editor.id)
    assert menu is not None and "admin" not in menu and "newcase" not in menu
    assert "cases" in menu


async def test_help_lists_what_the_role_may_use_and_each_command_once(
    driver: Driver, storage, settings
):
    supporter, broadcaster = Person(id=9_400_300_003), Person(id=9_400_300_004)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(
            s, IdentityCipher(settings.key_bytes), broadcaster.id, "broadcaster", "test", "en"
        )
    await driver.send(supporter, "/start")
    plain = (await driver.send(supporter, "/help")).text
    assert plain.count("/letter") == 1 and "/check" in plain and "/panic" in plain
    assert "/broadcast" not in plain and "/admin" not in plain and "/report" not in plain
    staffed = (await driver.send(broadcaster, "/help")).text
    assert "/broadcast" in staffed and "/admin" in staffed and "/stats" in staffed
    assert "/newcase" not in staffed and "/staff" not in staffed


async def test_the_menu_button_welcomes_no_one_back(driver: Driver):
    newcomer = Person(id=9_400_300_005)
    await driver.send(newcomer, "/help")  # their first message: no /start
    shown = await driver.press(newcomer, "Menu")
    assert "Welcome back" not in shown.text and "Umid" in shown.text


async def test_forget_removes_the_chat_menu(driver: Driver):
    person = Person(id=9_400_300_006)
    await driver.send(person, "/start")
    await driver.send(person, "/forget")
    gone = await driver.press(person, "🗑")
    assert any(
        isinstance(c, DeleteMyCommands)
        and isinstance(c.scope, BotCommandScopeChat)
        and c.scope.chat_id == person.id
        for c in gone.calls
    )


async def test_a_role_granted_from_the_command_line_joins_the_menu_at_admin(
    driver: Driver, storage, settings
):
    editor = Person(id=9_400_300_007)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), editor.id, "editor", "cli", "en")
    reply = await driver.send(editor, "/admin")
    menu = menu_of(reply, editor.id)
    assert menu is not None and "newcase" in menu and "admin" in menu


async def test_the_page_indicator_is_answered_quietly(driver: Driver, demo_cases):
    person = Person(id=9_400_300_008)
    listing = await driver.send(person, "/cases")
    indicator = next(label for label in listing.labels() if "/" in label)
    assert indicator.startswith("1/")
    pressed = await driver.press(person, indicator)
    assert [type(c).__name__ for c in pressed.calls] == ["AnswerCallbackQuery"]
    assert pressed.calls[0].text is None  # type: ignore[attr-defined]


async def test_a_first_start_after_a_staff_grant_is_a_welcome(driver: Driver, storage, settings):
    """A grant makes the person's record before they ever write: their first /start must
    not welcome them back. Their second does."""
    admin = Person(id=9_400_300_007)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), admin.id, "admin", "cli", "en")
    first = await driver.send(admin, "/start")
    assert "Welcome to Umid" in first.text and "Welcome back" not in first.text
    again = await driver.send(admin, "/start")
    assert "Welcome back" in again.text
    newcomer = Person(id=9_400_300_008)
    assert "Welcome back" not in (await driver.send(newcomer, "/start")).text
    assert "Welcome back" in (await driver.send(newcomer, "/start")).text
