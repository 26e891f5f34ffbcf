"""Pending invitations through the real dispatcher: the list (staff and family, pending
only, soonest to expire first, in the reader's time zone), cancelling (the code stops
working, the audit names no code), stale and forged buttons, and who may do what."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import AnswerCallbackQuery
from babel.dates import format_date, format_time
from sqlalchemy import select, update
from sqlmodel import col

from bot.crypto import IdentityCipher, code_digest
from bot.presentation.callbacks import InviteCb
from bot.services import identity, staff
from db.models import AuditEntry, FamilyInvite, StaffInvite
from db.repositories import staff as staff_repo
from tests.support import Driver, Person, Reply

UNKNOWN = "I do not know this command. Send /help to see what I can do."
STALE = "This button is no longer valid."
CANCELLED = "Invitation cancelled: its link and code no longer work."
SPENT = "This invitation was already used or cancelled; nothing was cancelled."
EXPIRED = "This invitation has already expired; nothing was cancelled."
GONE = "This invitation no longer exists; nothing was cancelled."
FAMILY_REFUSED = (
    "This invitation does not work. It may be mistyped, used already or expired: please ask "
    "the person who gave it to you for a new one. After several tries, wait 15 minutes "
    "before trying again."
)
STAFF_REFUSED = "This invitation is not valid."
STAFF_LINK = re.compile(r"start=inv-([\w-]+)")
FAMILY_LINK = re.compile(r"start=fam-([\w-]+)")
PAST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


async def make(storage, settings, tg_id: int, role: str | None = None) -> Person:
    if role:
        async with storage.sessionmaker() as s, s.begin():
            await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id)


async def staff_code(driver: Driver, admin: Person, role: str) -> str:
    found = STAFF_LINK.search((await driver.send(admin, f"/invite {role}")).text)
    assert found
    return found.group(1)


async def family_code(driver: Driver, editor: Person, case: str = "test-detained") -> str:
    found = FAMILY_LINK.search((await driver.send(editor, f"/invite family {case}")).text)
    assert found
    return found.group(1)


def cancel_buttons(reply: Reply) -> list[tuple[str, str]]:
    return [(label, data) for label, data in reply.buttons if data.startswith("iv:cancel:")]


async def tag_of(storage, settings, tg_id: int) -> str:
    async with storage.sessionmaker() as s:
        row = await identity.lookup(s, IdentityCipher(settings.key_bytes), tg_id)
    assert row is not None
    return staff.actor_of(IdentityCipher(settings.key_bytes), row.id)


async def audits(storage, action: str) -> list[AuditEntry]:
    async with storage.sessionmaker() as s:
        return [e for e in await staff_repo.audit_all(s) if e.action == action]


async def expire_all(storage, model: type[StaffInvite] | type[FamilyInvite]) -> None:
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(model).where(col(model.used).is_(False)).values(expires_at=PAST))


async def test_list_shows_pending_staff_and_family_invitations_only(
    driver: Driver, storage, settings, small_cases
):
    admin = await make(storage, settings, 9_500_000_001, "admin")
    other = await make(storage, settings, 9_500_000_002, "admin")
    empty = await driver.send(admin, "/invites")
    assert "No invitation is waiting to be used." in empty.text
    assert cancel_buttons(empty) == []

    used = await staff_code(driver, admin, "editor")
    assert (
        "Your role: editor"
        in (await driver.send(Person(id=9_500_000_003), f"/start inv-{used}")).text
    )
    await family_code(driver, admin, "test-released")
    await expire_all(storage, FamilyInvite)  # Bermet Freeova's invitation has run out
    await staff_code(driver, other, "broadcaster")
    await family_code(driver, admin, "test-detained")

    async with storage.sessionmaker() as s, s.begin():
        row = await identity.lookup(s, IdentityCipher(settings.key_bytes), admin.id)
        assert row is not None
        row.timezone = "Asia/Tashkent"
        s.add(row)
        pending_family = (
            (await s.execute(select(FamilyInvite).where(col(FamilyInvite.used).is_(False))))
            .scalars()
            .all()
        )
    listing = await driver.send(admin, "/invites")
    text = listing.text
    assert "2 invitations are waiting to be used, the soonest to expire first." in text
    assert "cannot show one again" in text
    assert "staff role: broadcaster" in text and "relative of Alisher Testov" in text
    assert "staff role: editor" not in text and "Bermet Freeova" not in text
    # The staff invitation (24 hours) expires before the family one (72 hours).
    assert text.index("broadcaster") < text.index("Alisher Testov")
    assert f"made by {await tag_of(storage, settings, other.id)}, expires" in text
    assert "relative of Alisher Testov\nmade by you, expires" in text
    # Times are in the reader's zone, formatted as elsewhere ("{date} at {time}").
    [family_invite] = [i for i in pending_family if i.expires_at > dt.datetime.now(dt.UTC)]
    local = family_invite.expires_at.astimezone(ZoneInfo("Asia/Tashkent"))
    day = format_date(local.date(), "long", locale="en")
    when = f"{day} at {format_time(local.time(), 'short', locale='en')}"
    assert f"made by you, expires {when}" in text
    buttons = cancel_buttons(listing)
    assert [label for label, _ in buttons] == ["❌ Cancel 1", "❌ Cancel 2"]
    assert [data.split(":")[2] for _, data in buttons] == ["staff", "family"]
    assert all(len(data.encode()) <= 64 for _, data in buttons)

    # The same screen from /staff and from /admin.
    await driver.send(admin, "/staff")
    assert (await driver.press(admin, "⏳ Invitations")).text == text
    await driver.send(admin, "/admin")
    assert (await driver.press(admin, "⏳ Invitations")).text == text


async def test_cancelling_stops_the_code_and_is_audited_without_it(
    driver: Driver, storage, settings, small_cases
):
    admin = await make(storage, settings, 9_500_000_010, "admin")
    editor_code = await staff_code(driver, admin, "editor")
    relative_code = await family_code(driver, admin)
    listing = await driver.send(admin, "/invites")
    family_button = next(d for _, d in cancel_buttons(listing) if ":family:" in d)
    done = await driver.callback(admin, family_button)
    assert done.notices == [CANCELLED]
    assert "1 invitation is waiting to be used" in done.text
    assert "Alisher Testov" not in done.text and "staff role: editor" in done.text

    staff_button = driver.button(admin, "Cancel 1")
    assert ":staff:" in staff_button
    done = await driver.callback(admin, staff_button)
    assert done.notices == [CANCELLED]
    assert "No invitation is waiting to be used." in done.text

    relative = Person(id=9_500_000_011)
    assert (await driver.send(relative, f"/join {relative_code}")).text == FAMILY_REFUSED
    assert (await driver.send(relative, f"/start fam-{relative_code}")).text == FAMILY_REFUSED
    newcomer = Person(id=9_500_000_012)
    assert (await driver.send(newcomer, f"/start inv-{editor_code}")).text == STAFF_REFUSED
    assert UNKNOWN in (await driver.send(newcomer, "/staff")).text

    [family_entry] = await audits(storage, "family.invite.cancel")
    [staff_entry] = await audits(storage, "staff.invite.cancel")
    assert family_entry.target == "case:test-detained" and staff_entry.target == "editor"
    admin_tag = await tag_of(storage, settings, admin.id)
    assert family_entry.actor == staff_entry.actor == admin_tag
    refs = [code_digest(relative_code, "family-invite"), code_digest(editor_code, "staff-invite")]
    assert {b.split(":")[3] for b in (family_button, staff_button)} == {r.hex()[:16] for r in refs}
    secrets = [relative_code, editor_code, *(r.hex()[:16] for r in refs)]
    async with storage.sessionmaker() as s:
        for entry in await staff_repo.audit_all(s):
            assert not any(secret in f"{entry.actor} {entry.target}" for secret in secrets)
    assert "invite.cancel" in (await driver.send(admin, "/audit")).text


async def test_stale_buttons_say_what_happened(driver: Driver, storage, settings, small_cases):
    admin = await make(storage, settings, 9_500_000_020, "admin")
    await staff_code(driver, admin, "editor")
    used_code = await family_code(driver, admin)
    listing = await driver.send(admin, "/invites")
    staff_button = next(d for _, d in cancel_buttons(listing) if ":staff:" in d)
    family_button = next(d for _, d in cancel_buttons(listing) if ":family:" in d)

    # Pressed twice: the second press says so, and nothing more is audited.
    assert (await driver.callback(admin, staff_button)).notices == [CANCELLED]
    assert (await driver.callback(admin, staff_button)).notices == [SPENT]
    assert len(await audits(storage, "staff.invite.cancel")) == 1

    # Used by the relative after the list was shown.
    joined = await driver.send(Person(id=9_500_000_021), f"/join {used_code}")
    assert "You are now connected" in joined.text
    after_use = await driver.callback(admin, family_button)
    assert after_use.notices == [SPENT]
    assert "No invitation is waiting to be used." in after_use.text

    # Expired after the list was shown.
    await family_code(driver, admin)
    expiring = next(d for _, d in cancel_buttons(await driver.send(admin, "/invites")))
    await expire_all(storage, FamilyInvite)
    assert (await driver.callback(admin, expiring)).notices == [EXPIRED]

    # A reference nothing answers to.
    forged = InviteCb(action="cancel", kind="family", ref="0" * 16).pack()
    assert (await driver.callback(admin, forged)).notices == [GONE]
    assert await audits(storage, "family.invite.cancel") == []


@pytest.mark.parametrize("role", [None, "broadcaster", "editor"])
async def test_others_cannot_list_or_cancel_staff_invitations(
    driver: Driver, storage, settings, small_cases, role
):
    admin = await make(storage, settings, 9_500_000_030, "admin")
    code = await staff_code(driver, admin, "admin")
    ref = cancel_buttons(await driver.send(admin, "/invites"))[0][1].split(":")[3]
    person = await make(storage, settings, 9_500_000_031, role)
    await driver.send(person, "/start")
    listing = await driver.send(person, "/invites")
    if role == "editor":
        assert "No invitation is waiting to be used." in listing.text
    else:
        assert listing.text == UNKNOWN
    forged = [InviteCb(action="cancel", kind="staff", ref=ref).pack()]
    if role != "editor":
        forged.append(InviteCb(action="list").pack())
    for data in forged:
        reply = await driver.callback(person, data)
        assert [type(c) for c in reply.calls] == [AnswerCallbackQuery]
        assert reply.notices == [STALE]
    assert await audits(storage, "staff.invite.cancel") == []
    joined = await driver.send(Person(id=9_500_000_032), f"/start inv-{code}")
    assert "Your role: admin" in joined.text


@pytest.mark.parametrize("role", [None, "broadcaster"])
async def test_others_cannot_cancel_family_invitations(
    driver: Driver, storage, settings, small_cases, role
):
    editor = await make(storage, settings, 9_500_000_040, "editor")
    code = await family_code(driver, editor)
    ref = cancel_buttons(await driver.send(editor, "/invites"))[0][1].split(":")[3]
    person = await make(storage, settings, 9_500_000_041, role)
    await driver.send(person, "/start")
    reply = await driver.callback(person, InviteCb(action="cancel", kind="family", ref=ref).pack())
    assert [type(c) for c in reply.calls] == [AnswerCallbackQuery]
    assert reply.notices == [STALE]
    joined = await driver.send(Person(id=9_500_000_042), f"/join {code}")
    assert "You are now connected" in joined.text


async def test_editors_see_and_cancel_family_invitations_only(
    driver: Driver, storage, settings, small_cases
):
    admin = await make(storage, settings, 9_500_000_050, "admin")
    editor = await make(storage, settings, 9_500_000_051, "editor")
    await staff_code(driver, admin, "broadcaster")
    by_admin = await family_code(driver, admin)
    await family_code(driver, editor, "test-released")
    menu = await driver.send(editor, "/admin")
    listing = await driver.press(editor, "⏳ Invitations")
    assert "2 invitations are waiting to be used" in listing.text
    assert "broadcaster" not in listing.text
    assert f"made by {await tag_of(storage, settings, admin.id)}" in listing.text
    assert "made by you" in listing.text
    assert all(":family:" in d for _, d in cancel_buttons(listing))
    del menu
    # The admin's family invitation to Alisher Testov's case expires first.
    done = await driver.press(editor, "Cancel 1")
    assert done.notices == [CANCELLED]
    assert (await driver.send(Person(id=9_500_000_052), f"/join {by_admin}")).text == FAMILY_REFUSED
    [entry] = await audits(storage, "family.invite.cancel")
    assert entry.actor == await tag_of(storage, settings, editor.id)
    # The admin still sees the broadcaster invitation and the editor's own family one.
    text = (await driver.send(admin, "/invites")).text
    assert "staff role: broadcaster" in text and "Bermet Freeova" in text


async def test_a_long_list_shows_the_soonest_to_expire(driver: Driver, storage, settings):
    admin = await make(storage, settings, 9_500_000_060, "admin")
    for _ in range(23):
        await staff_code(driver, admin, "editor")
    listing = await driver.send(admin, "/invites")
    assert "23 invitations are waiting to be used" in listing.text
    assert "The 20 that expire soonest are shown." in listing.text
    assert len(cancel_buttons(listing)) == 20
