"""The guard against guessing invitation codes, the relative's safety settings, and the
retention of failed attempts."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.scheduler import Planner
from bot.services import families, identity
from db.models import JoinAttempt, StaffRole
from tests.support import RecordingSession, make_bot

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


class Attempt:
    """An invitation check that succeeds or fails as told, and counts how often it ran."""

    def __init__(self, result: str | None) -> None:
        self.result = result
        self.runs = 0

    async def __call__(self) -> str | None:
        self.runs += 1
        return self.result


async def attempts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(JoinAttempt))).scalar_one())


async def test_five_failures_then_nothing_is_checked_until_the_window_passes(
    session: AsyncSession, settings
):
    cipher = IdentityCipher(settings.key_bytes)
    wrong, right = Attempt(None), Attempt("editor")
    for minute in range(5):
        at = NOW + dt.timedelta(minutes=minute)
        assert await families.limited(session, cipher, 42, wrong, at) is None
    assert wrong.runs == 5

    # Inside the window even a right code is not looked at, and nothing more is counted.
    late = NOW + dt.timedelta(minutes=14)
    assert await families.limited(session, cipher, 42, right, late) is None
    assert right.runs == 0
    assert await attempts(session) == 5

    # Someone else is not affected.
    assert await families.limited(session, cipher, 43, right, late) == "editor"
    assert right.runs == 1

    # Once the first failure is older than the window, one more try is allowed.
    after = NOW + dt.timedelta(minutes=15, seconds=1)
    assert await families.limited(session, cipher, 42, right, after) == "editor"
    assert right.runs == 2


async def test_success_is_not_counted_and_the_sender_is_a_keyed_hash(
    session: AsyncSession, settings
):
    cipher = IdentityCipher(settings.key_bytes)
    for _ in range(10):
        assert await families.limited(session, cipher, 7, Attempt("ok"), NOW) == "ok"
    assert await attempts(session) == 0
    await families.limited(session, cipher, 123456789, Attempt(None), NOW)
    row = (await session.execute(select(JoinAttempt))).scalars().one()
    assert row.who == cipher.secret_hash("123456789", "join-attempt")
    assert row.who != IdentityCipher(b"k" * 32).secret_hash("123456789", "join-attempt")
    assert b"123456789" not in row.who and row.at == NOW


async def test_four_failures_still_allow_a_try(session: AsyncSession, settings):
    cipher = IdentityCipher(settings.key_bytes)
    for _ in range(4):
        await families.limited(session, cipher, 5, Attempt(None), NOW)
    right = Attempt("ok")
    assert await families.limited(session, cipher, 5, right, NOW) == "ok"
    assert right.runs == 1


async def test_purge_keeps_a_day(session: AsyncSession, settings):
    cipher = IdentityCipher(settings.key_bytes)
    for hours in (0, 23, 25, 48):
        await families.limited(
            session, cipher, 100 + hours, Attempt(None), NOW - dt.timedelta(hours=hours)
        )
    assert await families.purge_attempts(session, NOW) == 2
    assert await attempts(session) == 2


async def test_planner_retention_purges_old_attempts(storage, settings):
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        await families.limited(s, cipher, 1, Attempt(None), NOW - dt.timedelta(days=2))
        await families.limited(s, cipher, 2, Attempt(None), NOW - dt.timedelta(minutes=5))
    planner = Planner(settings, storage.sessionmaker, make_bot(RecordingSession()), cipher)
    await planner.retention(NOW)
    async with storage.sessionmaker() as s:
        left = (await s.execute(select(JoinAttempt))).scalars().all()
    assert [a.who for a in left] == [cipher.secret_hash("2", "join-attempt")]


async def test_planner_retention_deletes_invitations_a_day_after_they_ran_out(
    storage, settings, small_cases
):
    from bot.crypto import code_digest
    from db.models import FamilyInvite, StaffInvite
    from db.repositories import cases as cases_repo

    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None and case.id is not None
        for n, (ends, used) in enumerate(
            [(NOW - dt.timedelta(days=2), True), (NOW - dt.timedelta(days=2), False),
             (NOW - dt.timedelta(hours=2), False), (NOW + dt.timedelta(hours=20), False)]
        ):  # fmt: skip
            s.add(StaffInvite(code_hash=code_digest(f"s{n}", "t"), role=StaffRole.EDITOR,
                              expires_at=ends, used=used, created_by="cli"))  # fmt: skip
            s.add(FamilyInvite(code_hash=code_digest(f"f{n}", "t"), case_id=case.id,
                               expires_at=ends, used=used, created_by="cli"))  # fmt: skip
    cipher = IdentityCipher(settings.key_bytes)
    planner = Planner(settings, storage.sessionmaker, make_bot(RecordingSession()), cipher)
    await planner.retention(NOW)
    async with storage.sessionmaker() as s:
        for model in (StaffInvite, FamilyInvite):
            left = sorted(i.expires_at for i in (await s.execute(select(model))).scalars())
            assert left == [NOW - dt.timedelta(hours=2), NOW + dt.timedelta(hours=20)]


async def test_protect_relative_keeps_an_earlier_deletion(session: AsyncSession, settings):
    cipher = IdentityCipher(settings.key_bytes)
    cases = {None: 24, 1: 1, 24: 24, 47: 24}
    for n, (chosen, expected) in enumerate(cases.items()):
        person = await identity.ensure(session, cipher, 500 + n, "en")
        person.autodelete_hours, person.discreet, person.protect_content = chosen, False, False
        session.add(person)
        await session.flush()
        await families.protect_relative(session, person)
        await session.refresh(person)
        assert (person.discreet, person.protect_content) == (True, True)
        assert person.autodelete_hours == expected


def test_parse_code():
    assert families.parse_code("  fam-AbC_12-x ") == "AbC_12-x"
    assert families.parse_code("AbC") == "AbC"


async def test_codes_sent_at_once_are_checked_one_after_another(storage, settings):
    """Seven wrong codes and a right one at the same moment: no more than five checked."""
    cipher = IdentityCipher(settings.key_bytes)

    class Slow(Attempt):
        async def __call__(self) -> str | None:
            await asyncio.sleep(0)  # the invitation lookup lets others run meanwhile
            return await super().__call__()

    wrong = [Slow(None) for _ in range(7)]
    right = Slow("ok")

    async def send(attempt: Attempt) -> str | None:
        async with storage.sessionmaker() as s, s.begin():
            return await families.limited(s, cipher, 77, attempt, NOW)

    await asyncio.gather(*(send(a) for a in [*wrong[:4], right, *wrong[4:]]))
    checked = sum(a.runs for a in wrong) + right.runs
    assert checked <= 5 + right.runs and sum(a.runs for a in wrong) <= 5
    async with storage.sessionmaker() as s:
        assert await attempts(s) <= 5
