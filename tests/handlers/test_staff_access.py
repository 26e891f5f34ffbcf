"""Staff access: deny by default, the full matrix of actions, roles and entry points;
single-use invitations; revocation effective on the next update; an audit without ids."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy import update

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import StaffCb
from bot.services import staff
from db.models import StaffInvite
from db.repositories import staff as staff_repo
from tests.support import Driver, Person

UNKNOWN = "I do not know this command"
ROLES = [None, "broadcaster", "editor", "admin"]
ADMIN_COMMANDS = ["/staff", "/invite editor", "/audit"]
ADMIN_BUTTONS = ["sf:list:0", "sf:audit:0", "sf:invite-editor:0", "sf:invite-admin:0"]


async def make(storage, settings, tg_id: int, role: str | None) -> Person:
    person = Person(id=tg_id)
    if role:
        async with storage.sessionmaker() as s, s.begin():
            await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return person


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_commands_matrix(driver: Driver, storage, settings, role, command):
    person = await make(storage, settings, 9_100_000_001, role)
    reply = await driver.send(person, command)
    if role == "admin":
        assert UNKNOWN not in reply.text and reply.texts
    else:
        assert UNKNOWN in reply.text  # exactly what any unknown command gets


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("data", ADMIN_BUTTONS)
async def test_buttons_matrix(driver: Driver, storage, settings, role, data):
    person = await make(storage, settings, 9_100_000_005, role)
    await driver.send(person, "/start")
    reply = await driver.callback(person, data)
    answers = [c for c in reply.calls if isinstance(c, AnswerCallbackQuery)]
    assert len(answers) == 1
    acted = [c for c in reply.calls if not isinstance(c, AnswerCallbackQuery)]
    if role == "admin":
        assert acted and "no longer valid" not in (answers[0].text or "")
    else:
        assert acted == [] and "no longer valid" in (answers[0].text or "")


async def test_admin_menu_by_buttons(driver: Driver, storage, settings):
    admin = await make(storage, settings, 9_100_000_006, "admin")
    menu = await driver.send(admin, "/admin")
    assert len(menu.buttons) == 14
    invite = await driver.press(admin, "editor")
    assert "start=inv-" in invite.text
    await driver.send(admin, "/admin")
    listing = await driver.press(admin, "👥")
    assert "Revoke" in " ".join(listing.labels())
    await driver.send(admin, "/admin")
    audit = await driver.press(admin, "📜")
    assert "staff.invite" in audit.text


@pytest.mark.parametrize("role", ROLES)
async def test_revoke_button_matrix(driver: Driver, storage, settings, role):
    target = await make(storage, settings, 9_100_000_010, "editor")
    await make(storage, settings, 9_100_000_011, "admin")  # so the editor is not alone
    person = await make(storage, settings, 9_100_000_012, role)
    await driver.send(person, "/start")
    async with storage.sessionmaker() as s:
        members = await staff_repo.members(s)
        editor_id = next(m.person_id for m in members if m.role == "editor")
    reply = await driver.callback(person, StaffCb(action="revoke", person=editor_id).pack())
    assert len([c for c in reply.calls if isinstance(c, AnswerCallbackQuery)]) == 1
    async with storage.sessionmaker() as s:
        still = await staff_repo.role_of(s, editor_id)
    assert (still is None) == (role == "admin")
    del target


async def test_invite_join_once_and_revoke_takes_effect_next_update(
    driver: Driver, storage, settings
):
    admin = await make(storage, settings, 9_100_000_020, "admin")
    reply = await driver.send(admin, "/invite editor")
    code = re.search(r"start=(inv-[\w-]+)", reply.text)
    assert code, reply.text
    newcomer = Person(id=9_100_000_021)
    joined = await driver.send(newcomer, f"/start {code.group(1)}")
    assert "Your role: editor" in joined.text
    again = await driver.send(Person(id=9_100_000_022), f"/start {code.group(1)}")
    assert "not valid" in again.text
    forged = await driver.send(Person(id=9_100_000_023), "/start inv-guessed-code")
    assert forged.text == again.text  # one neutral answer for every bad code

    promoted = await make(storage, settings, 9_100_000_021, "admin")
    assert UNKNOWN not in (await driver.send(promoted, "/staff")).text
    async with storage.sessionmaker() as s, s.begin():
        person_id = next(m.person_id for m in await staff_repo.members(s) if m.role == "admin"
                         and m.person_id != 1)  # fmt: skip
        await staff.revoke(s, IdentityCipher(settings.key_bytes), person_id, "test")
    assert UNKNOWN in (await driver.send(promoted, "/staff")).text


async def test_expired_invitation_is_refused(driver: Driver, storage, settings):
    admin = await make(storage, settings, 9_100_000_030, "admin")
    code = re.search(r"start=(inv-[\w-]+)", (await driver.send(admin, "/invite broadcaster")).text)
    assert code
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(StaffInvite).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        )
    reply = await driver.send(Person(id=9_100_000_031), f"/start {code.group(1)}")
    assert "not valid" in reply.text


async def test_audit_names_nobody(driver: Driver, storage, settings):
    admin = await make(storage, settings, 9_100_000_040, "admin")
    await driver.send(admin, "/invite editor")
    reply = await driver.send(admin, "/audit")
    assert "staff.invite" in reply.text and "staff.grant" in reply.text
    assert "9100000040" not in reply.text
    async with storage.sessionmaker() as s:
        for entry in await staff_repo.audit_all(s):
            assert "9100000040" not in f"{entry.actor}{entry.target}"


async def test_the_last_admin_stays(storage, settings):
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        person = await staff.grant(s, cipher, 9_100_000_050, "admin", "test", "en")
        assert person.id is not None
        assert not await staff.revoke(s, cipher, person.id, "test")
        assert await staff_repo.role_of(s, person.id) == "admin"


MENU = {
    None: None,
    "editor": {
        "New case",
        "Edit a case",
        "Hearings",
        "Case update",
        "Family reports",
        "Invitations",
        "Statistics",
    },
    "broadcaster": {"New broadcast", "Broadcast queue", "Statistics"},
}


@pytest.mark.parametrize("role", [None, "editor", "broadcaster"])
async def test_admin_menu_shows_each_role_its_own_work(driver: Driver, storage, settings, role):
    person = await make(storage, settings, 9_100_000_060, role)
    menu = await driver.send(person, "/admin")
    expected = MENU[role]
    if expected is None:
        assert UNKNOWN in menu.text
        return
    labels = menu.labels()
    assert len(labels) == len(expected)
    assert all(any(part in label for label in labels) for part in expected)
    assert not any("Invite" in label or "Staff" in label for label in labels)


@pytest.mark.parametrize(
    ("role", "label", "answer"),
    [
        ("editor", "Hearings", "Which case?"),
        ("editor", "Case update", "Which case?"),
        ("editor", "New case", "country"),
        ("editor", "Edit a case", "Hidden and archived"),
        ("editor", "Family reports", "report"),
        ("broadcaster", "New broadcast", "Who should receive it?"),
        ("broadcaster", "Statistics", "Statistics"),
        ("admin", "New broadcast", "Who should receive it?"),
    ],
)
async def test_admin_menu_buttons_open_the_dialogues(
    driver: Driver, storage, settings, role, label, answer
):
    person = await make(storage, settings, 9_100_000_070, role)
    await driver.send(person, "/admin")
    assert answer in (await driver.press(person, label)).text
