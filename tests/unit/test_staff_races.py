"""Staff changes that overlap: two admins revoking each other leave one admin, and an
invitation whose maker is revoked while it is being made is refused, not left working.

The interleavings are forced, not hoped for: a repository function the service calls
between its check and its write is wrapped so that the competing operation runs to
completion (and commits, in a session of its own) right there. Where PostgreSQL lets two
transactions overlap further than SQLite's single writer does, a second test holds one
transaction open and starts the other beside it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.services import families, identity, staff
from bot.storage import Storage
from config import Settings
from db.models import StaffMember, StaffRole
from db.repositories import cases as cases_repo
from db.repositories import invites as invites_repo
from db.repositories import staff as staff_repo

Step = Callable[[], Awaitable[object]]


def run_first(
    monkeypatch: pytest.MonkeyPatch, module: object, names: tuple[str, ...], step: Step
) -> list[object]:
    """Wrap `module`'s functions `names` (those missing are skipped): the first call of any
    of them runs `step` to completion before doing its own work; later calls, the
    competitor's own among them, pass straight through. What `step` returned is appended
    to the list returned, so a test can tell that the interleaving happened."""
    ran: list[object] = []

    def wrap(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not ran:
                ran.append(None)
                ran[0] = await step()
            return await original(*args, **kwargs)

        return wrapped

    for name in names:
        original = getattr(module, name, None)
        if original is not None:
            monkeypatch.setattr(module, name, wrap(original))
    return ran


async def admin_count(storage: Storage) -> int:
    async with storage.sessionmaker() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(StaffMember)
            .where(col(StaffMember.role) == StaffRole.ADMIN)
        )
    return int(count or 0)


async def two_admins(storage: Storage, cipher: IdentityCipher, base: int) -> tuple[int, int]:
    async with storage.sessionmaker() as s, s.begin():
        first = await staff.grant(s, cipher, base + 1, "admin", "cli", "en")
        second = await staff.grant(s, cipher, base + 2, "admin", "cli", "en")
    assert first.id is not None and second.id is not None
    return first.id, second.id


async def revoke_committed(storage: Storage, cipher: IdentityCipher, target: int, by: int) -> bool:
    async with storage.sessionmaker() as s, s.begin():
        return await staff.revoke(s, cipher, target, staff.actor_of(cipher, by))


# Called by `revoke` after it has read whatever it checks and before it deletes: the
# lock of the admin rows and the conditional delete now, the plain delete before the fix.
REVOKE_WRITES = ("lock_admins", "remove_unless_last_admin", "remove")


async def test_two_admins_revoking_each_other_leave_one(
    storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cipher = IdentityCipher(settings.key_bytes)
    first, second = await two_admins(storage, cipher, 9_600_000_000)

    # The first admin revokes the second; just before its delete, the second revokes the
    # first and commits. Each saw two admins when it began.
    ran = run_first(
        monkeypatch,
        staff_repo,
        REVOKE_WRITES,
        lambda: revoke_committed(storage, cipher, first, by=second),
    )
    done = await revoke_committed(storage, cipher, second, by=first)

    assert ran == [True]  # the competitor ran in between, and revoked
    assert done is False  # refused as "the last admin cannot be removed"
    assert await admin_count(storage) == 1


async def _locked_waiters(storage: Storage) -> int:
    async with storage.sessionmaker() as s:
        count = await s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(count or 0)


async def test_overlapping_revokes_in_postgresql_wait_for_each_other(
    storage: Storage, settings: Settings
) -> None:
    """Under READ COMMITTED each DELETE's count would see the other's victim still there
    (not yet committed): the second must wait for the first, then count again."""
    if storage.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the first delete already keeps the second out")
    cipher = IdentityCipher(settings.key_bytes)
    first, second = await two_admins(storage, cipher, 9_610_000_000)

    async with storage.sessionmaker() as held:
        await held.begin()
        assert await staff.revoke(held, cipher, second, staff.actor_of(cipher, first))
        # Not committed yet: the other revoke starts beside it.
        other = asyncio.create_task(revoke_committed(storage, cipher, first, by=second))
        async with asyncio.timeout(30):
            # Until it finishes (it did not wait for us) or waits on our row locks; each
            # look is a query, which lets the other task run meanwhile.
            while not other.done() and await _locked_waiters(storage) == 0:
                pass
        await held.commit()
    assert await other is False
    assert await admin_count(storage) == 1


async def _invite(kind: str, session: AsyncSession, cipher: IdentityCipher, maker: int) -> str:
    actor = staff.actor_of(cipher, maker)
    if kind == "staff":
        return await staff.create_invite(session, cipher, "admin", actor)
    case = await cases_repo.by_slug(session, "test-detained")
    assert case is not None
    return await families.create_invite(session, cipher, case, actor)


async def _works(kind: str, storage: Storage, cipher: IdentityCipher, code: str) -> bool:
    """Whether a stranger gets in with the code (the database is left as it was)."""
    async with storage.sessionmaker() as s:
        stranger = await identity.ensure(s, cipher, 9_690_000_001, "en")
        if kind == "staff":
            joined: object = await staff.redeem(s, cipher, code, stranger)
        else:

            async def same() -> Any:
                return stranger

            joined = await families.redeem(s, cipher, code, same)
        await s.rollback()
    return joined is not None


async def _make_while_revoked(
    kind: str,
    storage: Storage,
    cipher: IdentityCipher,
    maker: int,
    revoker: int,
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    names: tuple[str, ...],
) -> tuple[list[object], str | None]:
    """The maker's role is read as the handler's filter reads it, then `revoker` revokes
    the maker (and commits) at the first call of `names`; the code, if one was made."""
    async with storage.sessionmaker() as s:
        assert await staff.role_of(s, maker) == "admin"  # the filter let the update in
        ran = run_first(
            monkeypatch,
            module,
            names,
            lambda: revoke_committed(storage, cipher, maker, by=revoker),
        )
        code: str | None = None
        try:
            code = await _invite(kind, s, cipher, maker)
            await s.commit()
        except staff.InviteRefused:
            await s.rollback()
    return ran, code


@pytest.mark.parametrize("kind", ["staff", "family"])
async def test_an_invitation_whose_maker_is_revoked_before_it_is_stored_is_refused(
    kind: str,
    storage: Storage,
    settings: Settings,
    small_cases: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The revoke commits after the maker's role was read and before the invitation is
    stored, so its cancelling of the maker's invitations cannot see this one."""
    cipher = IdentityCipher(settings.key_bytes)
    revoker, maker = await two_admins(storage, cipher, 9_620_000_000)

    ran, code = await _make_while_revoked(
        kind, storage, cipher, maker, revoker, monkeypatch, invites_repo, ("add",)
    )

    assert ran == [True]  # the revoke ran in between
    assert code is None or not await _works(kind, storage, cipher, code), (
        f"a revoked admin's {kind} invitation works"
    )
    assert code is None  # refused there and then, not handed out as a dead link


@pytest.mark.parametrize("kind", ["staff", "family"])
async def test_an_invitation_whose_maker_is_revoked_just_after_it_is_stored_is_refused(
    kind: str,
    storage: Storage,
    settings: Settings,
    small_cases: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: the invitation is stored but not committed, so the revoke's cancelling
    cannot see it; the revoke commits before the maker's role is read again."""
    if storage.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the invitation's insert holds the write lock; no revoke fits")
    cipher = IdentityCipher(settings.key_bytes)
    revoker, maker = await two_admins(storage, cipher, 9_630_000_000)

    # After the insert: the role's re-read now, the audit entry before the fix.
    ran, code = await _make_while_revoked(
        kind,
        storage,
        cipher,
        maker,
        revoker,
        monkeypatch,
        staff_repo,
        ("ids", "role_for_share", "audit"),
    )

    assert ran == [True]
    assert code is None or not await _works(kind, storage, cipher, code), (
        f"a revoked admin's {kind} invitation works"
    )
    assert code is None
