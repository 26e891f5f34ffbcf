"""Families joining a case, through the real dispatcher: invitations by editors, joining by
link and by /join, a relative's safety settings, single use, expiry, one neutral answer,
the limit on guessing (family and staff codes), who may invite, /family with "Unlink",
forged buttons, several cases, and /forget."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage, SetMyCommands
from aiogram.types import BotCommandScopeChat
from sqlalchemy import func, select, update
from sqlmodel import col

from bot.crypto import IdentityCipher, code_digest
from bot.presentation.callbacks import FamilyCb
from bot.services import families, identity, staff
from db.models import AuditEntry, FamilyInvite, FamilyMember, JoinAttempt, StaffInvite
from db.models import Person as PersonRow
from db.repositories import cases as cases_repo
from db.repositories import staff as staff_repo
from tests.support import Driver, Person

UNKNOWN = "I do not know this command. Send /help to see what I can do."
STALE = "This button is no longer valid."
NEUTRAL = (
    "This invitation does not work. It may be mistyped, used already or expired: please ask "
    "the person who gave it to you for a new one. After several tries, wait 15 minutes "
    "before trying again."
)
STAFF_NEUTRAL = "This invitation is not valid."
LINK = re.compile(r"https://t\.me/umid_bot\?start=fam-([\w-]+)")


async def make(storage, settings, tg_id: int, role: str | None = None) -> Person:
    if role:
        async with storage.sessionmaker() as s, s.begin():
            await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id)


async def invite(driver: Driver, editor: Person, case: str = "test-detained") -> str:
    reply = await driver.send(editor, f"/invite family {case}")
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


async def person_row(storage, settings, tg_id: int) -> PersonRow | None:
    async with storage.sessionmaker() as s:
        return await identity.lookup(s, IdentityCipher(settings.key_bytes), tg_id)


async def memberships(storage, settings, tg_id: int) -> set[str]:
    """The slugs of the cases whose family the person belongs to."""
    row = await person_row(storage, settings, tg_id)
    if row is None:
        return set()
    async with storage.sessionmaker() as s:
        ids = (
            await s.execute(
                select(col(FamilyMember.case_id)).where(col(FamilyMember.person_id) == row.id)
            )
        ).scalars()
        return {c.slug for i in ids if (c := await cases_repo.by_id(s, i)) is not None}


async def count(storage, model) -> int:
    async with storage.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def audits(storage, action: str) -> list[AuditEntry]:
    async with storage.sessionmaker() as s:
        return [e for e in await staff_repo.audit_all(s) if e.action == action]


async def age_attempts(storage, minutes: int) -> None:
    async with storage.sessionmaker() as s, s.begin():
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        await s.execute(update(JoinAttempt).values(at=old))


async def test_editor_invites_and_relative_joins_by_link(
    driver: Driver, storage, settings, small_cases
):
    editor = await make(storage, settings, 9_400_000_001, "editor")
    reply = await driver.send(editor, "/invite family test-detained")
    found = LINK.search(reply.text)
    assert found, reply.text
    code = found.group(1)
    assert len(code) >= 24
    assert "Alisher Testov" in reply.text and "72 hours" in reply.text
    assert "only to the relative" in reply.text
    assert f"\n{code}" in reply.text  # the bare code for /join, on a line of its own
    async with storage.sessionmaker() as s:
        stored = (await s.execute(select(FamilyInvite))).scalars().all()
    assert [i.code_hash for i in stored] == [code_digest(code, "family-invite")]
    assert code.encode() not in stored[0].code_hash
    assert not stored[0].used
    assert [e.target for e in await audits(storage, "family.invite")] == ["case:test-detained"]

    relative = Person(id=9_400_000_002)
    joined = await driver.send(relative, f"/start fam-{code}")
    assert "You are now connected to the case of Alisher Testov." in joined.text
    assert "including news meant for the family only" in joined.text
    assert "Other supporters can never see who the family members are." in joined.text
    assert "deleted 24 hours after they arrive" in joined.text
    assert "/settings" in joined.text and "/forget" in joined.text
    assert [c.protect_content for c in joined.calls if isinstance(c, SendMessage)] == [True]
    assert await memberships(storage, settings, relative.id) == {"test-detained"}
    # /report is in the relative's own menu, and in their /help.
    (menu,) = [c for c in joined.calls if isinstance(c, SetMyCommands)]
    assert isinstance(menu.scope, BotCommandScopeChat) and menu.scope.chat_id == relative.id
    assert "report" in [c.command for c in menu.commands]
    assert "/report" in (await driver.send(relative, "/help")).text
    row = await person_row(storage, settings, relative.id)
    assert row is not None
    assert (row.discreet, row.protect_content, row.autodelete_hours) == (True, True, 24)
    async with storage.sessionmaker() as s:
        assert (await s.execute(select(FamilyInvite))).scalars().one().used
    assert await audits(storage, "family.join") == []  # joining leaves no timestamp behind


@pytest.mark.parametrize("form", ["/join {code}", "/join fam-{code}", "/join   {code}  "])
async def test_join_by_command(driver: Driver, storage, settings, small_cases, form):
    editor = await make(storage, settings, 9_400_000_010, "admin")
    code = await invite(driver, editor)
    relative = Person(id=9_400_000_011)
    joined = await driver.send(relative, form.format(code=code))
    assert "You are now connected to the case of Alisher Testov." in joined.text
    assert await memberships(storage, settings, relative.id) == {"test-detained"}


async def test_join_without_a_code_explains(driver: Driver, storage, settings, small_cases):
    reply = await driver.send(Person(id=9_400_000_015), "/join")
    assert reply.text == "Send /join followed by the invitation code you were given."
    assert await count(storage, JoinAttempt) == 0


async def test_stricter_choices_stay(driver: Driver, storage, settings, small_cases):
    editor = await make(storage, settings, 9_400_000_020, "editor")
    cipher = IdentityCipher(settings.key_bytes)
    careful, relaxed = Person(id=9_400_000_021), Person(id=9_400_000_022)
    async with storage.sessionmaker() as s, s.begin():
        row = await identity.ensure(s, cipher, careful.id, "en")
        row.autodelete_hours, row.protect_content = 6, False
        row2 = await identity.ensure(s, cipher, relaxed.id, "en")
        row2.autodelete_hours = 47
        s.add_all([row, row2])
    joined = await driver.send(careful, f"/join {await invite(driver, editor)}")
    assert "deleted 6 hours after they arrive" in joined.text
    await driver.send(relaxed, f"/join {await invite(driver, editor)}")
    careful_row = await person_row(storage, settings, careful.id)
    relaxed_row = await person_row(storage, settings, relaxed.id)
    assert careful_row and relaxed_row
    assert (careful_row.discreet, careful_row.protect_content) == (True, True)
    assert careful_row.autodelete_hours == 6
    assert relaxed_row.autodelete_hours == 24


async def test_used_expired_and_wrong_codes_get_one_neutral_answer(
    driver: Driver, storage, settings, small_cases
):
    editor = await make(storage, settings, 9_400_000_030, "editor")
    code = await invite(driver, editor)
    await driver.send(Person(id=9_400_000_031), f"/join {code}")
    second = Person(id=9_400_000_032)
    used = await driver.send(second, f"/start fam-{code}")
    assert used.text == NEUTRAL

    expiring = await invite(driver, editor)
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(FamilyInvite)
            .where(col(FamilyInvite.used).is_(False))
            .values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        )
    expired = await driver.send(second, f"/join {expiring}")
    wrong = await driver.send(second, "/join fam-NoSuchCodeAtAll123456789")
    overlong = await driver.send(second, "/join " + "x" * 200)
    assert expired.text == wrong.text == overlong.text == NEUTRAL
    assert await memberships(storage, settings, second.id) == set()
    # A stranger's failures leave no person row, only keyed hashes.
    assert await person_row(storage, settings, second.id) is None
    async with storage.sessionmaker() as s:
        attempts = (await s.execute(select(JoinAttempt))).scalars().all()
    assert len(attempts) == 4
    assert all(str(second.id).encode() not in a.who for a in attempts)


async def test_after_five_failures_even_a_valid_code_is_refused_until_the_window_passes(
    driver: Driver, storage, settings, small_cases
):
    editor = await make(storage, settings, 9_400_000_040, "editor")
    code = await invite(driver, editor)
    guesser = Person(id=9_400_000_041)
    for n in range(5):
        assert (await driver.send(guesser, f"/join wrong-code-{n}")).text == NEUTRAL
    refused = await driver.send(guesser, f"/start fam-{code}")
    assert refused.text == NEUTRAL
    assert await memberships(storage, settings, guesser.id) == set()
    async with storage.sessionmaker() as s:
        # The code was not even looked at: still unused, and no sixth failure was counted.
        assert not (await s.execute(select(FamilyInvite))).scalars().one().used
    assert await count(storage, JoinAttempt) == 5
    # Someone else is not held back by the guesser.
    other = await driver.send(Person(id=9_400_000_042), f"/join {await invite(driver, editor)}")
    assert "You are now connected" in other.text

    await age_attempts(storage, 14)
    assert (await driver.send(guesser, f"/join {code}")).text == NEUTRAL
    await age_attempts(storage, 16)
    joined = await driver.send(guesser, f"/join {code}")
    assert "You are now connected to the case of Alisher Testov." in joined.text
    assert await memberships(storage, settings, guesser.id) == {"test-detained"}


async def test_staff_invitation_codes_are_limited_the_same_way(
    driver: Driver, storage, settings, small_cases
):
    admin = await make(storage, settings, 9_400_000_050, "admin")
    reply = await driver.send(admin, "/invite editor")
    found = re.search(r"start=(inv-[\w-]+)", reply.text)
    assert found
    guesser = Person(id=9_400_000_051)
    for n in range(3):
        assert (await driver.send(guesser, f"/start inv-guess{n}")).text == STAFF_NEUTRAL
    for n in range(2):  # failures with family codes count towards the same limit
        assert (await driver.send(guesser, f"/join guess{n}")).text == NEUTRAL
    refused = await driver.send(guesser, f"/start {found.group(1)}")
    assert refused.text == STAFF_NEUTRAL
    async with storage.sessionmaker() as s:
        assert not (await s.execute(select(StaffInvite))).scalars().one().used
    assert UNKNOWN in (await driver.send(guesser, "/staff")).text

    await age_attempts(storage, 16)
    joined = await driver.send(guesser, f"/start {found.group(1)}")
    assert "Welcome to the team. Your role: editor." in joined.text


async def test_a_relative_seen_lately_gains_and_loses_report_with_the_next_message(
    driver: Driver, storage, settings, small_cases
):
    """Whether someone is family comes with who they are, and people seen lately are kept
    in memory (bot/services/known_people.py): a link made or removed must still count on
    their very next message."""
    editor = await make(storage, settings, 9_400_000_085, "editor")
    relative = Person(id=9_400_000_086)
    await driver.send(relative, "/start")
    await driver.send(relative, "/help")  # kept now
    assert (await driver.send(relative, "/report")).text == UNKNOWN
    await driver.send(relative, f"/join {await invite(driver, editor)}")
    assert (await driver.send(relative, "/report")).text != UNKNOWN
    await driver.send(relative, "/help")
    listing = await driver.send(editor, "/family Testov")
    tag = re.findall(r"• ([0-9a-f]{10})", listing.text)[0]
    await driver.press(editor, f"Unlink {tag}")
    await driver.press(editor, "✅ Unlink")
    assert (await driver.send(relative, "/report")).text == UNKNOWN


@pytest.mark.parametrize("role", [None, "broadcaster"])
async def test_invite_family_is_unknown_to_others(driver: Driver, storage, settings, small_cases,
                                                  role):  # fmt: skip
    person = await make(storage, settings, 9_400_000_060, role)
    assert (await driver.send(person, "/invite family test-detained")).text == UNKNOWN
    assert (await driver.send(person, "/family test-detained")).text == UNKNOWN
    assert await count(storage, FamilyInvite) == 0


async def test_invite_routing_keeps_staff_invitations(
    driver: Driver, storage, settings, small_cases
):
    admin = await make(storage, settings, 9_400_000_070, "admin")
    editor = await make(storage, settings, 9_400_000_071, "editor")
    assert "start=inv-" in (await driver.send(admin, "/invite editor")).text
    assert LINK.search((await driver.send(admin, "/invite Family test-detained")).text)
    assert (await driver.send(editor, "/invite editor")).text == UNKNOWN
    usage = await driver.send(editor, "/invite family")
    assert usage.text == "Send /invite family followed by the person's name or the case's slug."
    none = await driver.send(editor, "/invite family Nobody Atall")
    assert "No case matches" in none.text
    hidden = await driver.send(editor, "/invite family test-hidden")
    assert LINK.search(hidden.text) and "Hidden Person" in hidden.text
    assert await count(storage, FamilyInvite) == 2


async def test_family_lists_and_unlinks_with_audit(driver: Driver, storage, settings,
                                                   small_cases):  # fmt: skip
    editor = await make(storage, settings, 9_400_000_080, "editor")
    empty = await driver.send(editor, "/family test-detained")
    assert "No relative has joined this case yet" in empty.text
    relatives = [Person(id=9_400_000_081), Person(id=9_400_000_082)]
    for relative in relatives:
        await driver.send(relative, f"/join {await invite(driver, editor)}")
    listing = await driver.send(editor, "/family Testov")
    assert "2 family members have joined." in listing.text
    tags = re.findall(r"• ([0-9a-f]{10})", listing.text)
    assert len(tags) == 2
    rows = [await person_row(storage, settings, r.id) for r in relatives]
    for row, relative in zip(rows, relatives, strict=True):
        assert row is not None
        assert str(relative.id) not in listing.text
        assert all(f":{row.id}:" not in data for _, data in listing.buttons)
    assert all(data.startswith("fm:unlink:") for _, data in listing.buttons)

    ask = await driver.press(editor, f"Unlink {tags[0]}")
    assert f"Unlink {tags[0]} from the case of Alisher Testov?" in ask.text
    back = await driver.press(editor, "Back")
    assert "2 family members have joined." in back.text
    await driver.press(editor, f"Unlink {tags[0]}")
    done = await driver.press(editor, "✅ Unlink")
    assert "Unlinked." in done.notices
    assert "1 family member has joined." in done.text and tags[0] not in done.text
    assert await count(storage, FamilyMember) == 1
    unlinked = [e.target for e in await audits(storage, "family.unlink")]
    assert unlinked == ["case:test-detained"]
    # The member's tag is not in the audit: the log outlives the list.
    assert all(
        tags[0] not in f"{e.actor}{e.target}" for e in await audits(storage, "family.unlink")
    )

    # Pressing the same confirmation again changes nothing.
    async with storage.sessionmaker() as s:
        case = await cases_repo.by_slug(s, "test-detained")
    assert case is not None and case.id is not None
    again = await driver.callback(
        editor, FamilyCb(action="unlink-yes", case=case.id, who=tags[0]).pack()
    )
    assert "Nothing changed: this member is no longer linked." in again.notices
    assert len(await audits(storage, "family.unlink")) == 1


@pytest.mark.parametrize("role", [None, "broadcaster"])
async def test_forged_unlink_does_nothing_but_answer(
    driver: Driver, storage, settings, small_cases, role
):
    editor = await make(storage, settings, 9_400_000_090, "editor")
    relative = Person(id=9_400_000_091)
    await driver.send(relative, f"/join {await invite(driver, editor)}")
    listing = await driver.send(editor, "/family test-detained")
    tag = re.findall(r"• ([0-9a-f]{10})", listing.text)[0]
    async with storage.sessionmaker() as s:
        case = await cases_repo.by_slug(s, "test-detained")
    assert case is not None and case.id is not None
    intruder = await make(storage, settings, 9_400_000_092, role)
    await driver.send(intruder, "/start")
    for action in ("unlink-yes", "unlink", "list", "invite"):
        reply = await driver.callback(
            intruder, FamilyCb(action=action, case=case.id, who=tag).pack()
        )
        assert [type(c) for c in reply.calls] == [AnswerCallbackQuery]
        assert reply.notices == [STALE]
    assert await memberships(storage, settings, relative.id) == {"test-detained"}
    assert await audits(storage, "family.unlink") == []
    assert len(await audits(storage, "family.invite")) == 1


async def test_supporters_see_nothing_of_the_family(driver: Driver, storage, settings,
                                                    small_cases):  # fmt: skip
    editor = await make(storage, settings, 9_400_000_100, "editor")
    supporter = Person(id=9_400_000_101)
    await driver.send(supporter, "/follow Testov")
    before = await driver.send(supporter, "/start case-test-detained")
    for n in range(3):
        await driver.send(Person(id=9_400_000_102 + n), f"/join {await invite(driver, editor)}")
    after = await driver.send(supporter, "/start case-test-detained")
    assert before.text == after.text and before.buttons == after.buttons
    assert "family" not in after.text.lower()


async def test_joining_two_cases_and_the_same_case_twice(
    driver: Driver, storage, settings, small_cases
):
    editor = await make(storage, settings, 9_400_000_110, "editor")
    relative = Person(id=9_400_000_111)
    await driver.send(relative, f"/join {await invite(driver, editor, 'test-detained')}")
    released = await driver.send(relative, f"/join {await invite(driver, editor, 'test-released')}")
    assert "Bermet Freeova" in released.text
    again = await driver.send(relative, f"/join {await invite(driver, editor, 'test-detained')}")
    assert "You are now connected" in again.text
    assert await memberships(storage, settings, relative.id) == {"test-detained", "test-released"}
    assert await count(storage, FamilyMember) == 2


async def test_forget_leaves_no_family_membership(driver: Driver, storage, settings, small_cases):
    editor = await make(storage, settings, 9_400_000_120, "editor")
    relative = Person(id=9_400_000_121)
    await driver.send(relative, f"/join {await invite(driver, editor, 'test-detained')}")
    await driver.send(relative, f"/join {await invite(driver, editor, 'test-released')}")
    assert await count(storage, FamilyMember) == 2
    await driver.send(relative, "/forget")
    done = await driver.press(relative, "Yes, delete")
    assert "deleted" in done.text
    assert await count(storage, FamilyMember) == 0
    assert await person_row(storage, settings, relative.id) is None
    listing = await driver.send(editor, "/family test-detained")
    assert "No relative has joined this case yet" in listing.text


async def test_code_is_not_stored_and_invite_expires_in_72_hours(
    driver: Driver, storage, settings, small_cases
):
    editor = await make(storage, settings, 9_400_000_130, "editor")
    before = dt.datetime.now(dt.UTC)
    code = await invite(driver, editor)
    async with storage.sessionmaker() as s:
        stored = (await s.execute(select(FamilyInvite))).scalars().one()
    assert code.encode() not in stored.code_hash
    editor_row = await person_row(storage, settings, editor.id)
    assert editor_row is not None
    assert stored.created_by == staff.actor_of(IdentityCipher(settings.key_bytes), editor_row.id)
    lifetime = stored.expires_at - before
    assert (
        families.INVITE_TTL - dt.timedelta(minutes=1)
        < lifetime
        <= families.INVITE_TTL + (dt.timedelta(minutes=1))
    )
