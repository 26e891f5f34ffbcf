"""Invitations outlive nobody's trust: a revoked member's pending invitations stop
working, and the last admin does not step down by using a lesser one."""

from __future__ import annotations

from bot.crypto import IdentityCipher
from bot.services import families, identity, staff
from db.repositories import cases as cases_repo
from db.repositories import staff as staff_repo


async def test_revoking_a_member_cancels_their_pending_invitations(storage, settings, small_cases):
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        first = await staff.grant(s, cipher, 8_100_000_001, "admin", "cli", "en")
        second = await staff.grant(s, cipher, 8_100_000_002, "admin", "cli", "en")
        assert first.id is not None and second.id is not None
        by_second = staff.actor_of(cipher, second.id)
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None
        admin_link = await staff.create_invite(s, cipher, "admin", by_second)
        family_link = await families.create_invite(s, cipher, case, by_second)
        kept_link = await staff.create_invite(s, cipher, "editor", staff.actor_of(cipher, first.id))
        assert await staff.revoke(s, cipher, second.id, staff.actor_of(cipher, first.id))

    async with storage.sessionmaker() as s, s.begin():
        stranger = await identity.ensure(s, cipher, 8_100_000_003, "en")
        assert await staff.redeem(s, cipher, admin_link, stranger) is None
        assert await staff_repo.role_of(s, stranger.id or 0) is None
        relative = await identity.ensure(s, cipher, 8_100_000_004, "en")
        assert await families.redeem(s, cipher, family_link, lambda: _same(relative)) is None
        # An invitation of a member still trusted works as before.
        newcomer = await identity.ensure(s, cipher, 8_100_000_005, "en")
        assert await staff.redeem(s, cipher, kept_link, newcomer) == "editor"


async def test_the_last_admin_does_not_step_down_by_an_invitation(storage, settings):
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        only = await staff.grant(s, cipher, 8_200_000_001, "admin", "cli", "en")
        assert only.id is not None
        link = await staff.create_invite(s, cipher, "editor", staff.actor_of(cipher, only.id))
        assert await staff.redeem(s, cipher, link, only) is None
        assert await staff_repo.role_of(s, only.id) == "admin"
        # The invitation is still there for the person it was meant for.
        editor = await identity.ensure(s, cipher, 8_200_000_002, "en")
        assert await staff.redeem(s, cipher, link, editor) == "editor"


async def _same(person):
    return person


async def test_a_demoted_admin_s_staff_invitations_stop_working(storage, settings, small_cases):
    """Demoted by the command line, or by using an invitation to a lesser role, an admin's
    admin links stop; an editor keeps the family invitations an editor may make."""
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        keeper = await staff.grant(s, cipher, 8_300_000_001, "admin", "cli", "en")
        demoted = await staff.grant(s, cipher, 8_300_000_002, "admin", "cli", "en")
        joining = await staff.grant(s, cipher, 8_300_000_003, "admin", "cli", "en")
        assert keeper.id and demoted.id and joining.id
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None
        by_demoted = staff.actor_of(cipher, demoted.id)
        admin_link = await staff.create_invite(s, cipher, "admin", by_demoted)
        family_link = await families.create_invite(s, cipher, case, by_demoted)
        by_joining = staff.actor_of(cipher, joining.id)
        joining_link = await staff.create_invite(s, cipher, "admin", by_joining)
        await staff.grant(s, cipher, 8_300_000_002, "editor", "cli", "en")
        lesser = await staff.create_invite(
            s, cipher, "broadcaster", staff.actor_of(cipher, keeper.id)
        )
        assert await staff.redeem(s, cipher, lesser, joining) == "broadcaster"

    async with storage.sessionmaker() as s, s.begin():
        for n, link in enumerate((admin_link, joining_link)):
            stranger = await identity.ensure(s, cipher, 8_300_000_010 + n, "en")
            assert await staff.redeem(s, cipher, link, stranger) is None
        relative = await identity.ensure(s, cipher, 8_300_000_020, "en")
        assert await families.redeem(s, cipher, family_link, lambda: _same(relative)) == case


async def test_a_staff_member_who_forgets_themselves_leaves_no_working_invitation(
    storage, settings, small_cases
):
    from bot.services import privacy

    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, cipher, 8_400_000_001, "admin", "cli", "en")
        leaving = await staff.grant(s, cipher, 8_400_000_002, "admin", "cli", "en")
        assert leaving.id is not None
        link = await staff.create_invite(s, cipher, "admin", staff.actor_of(cipher, leaving.id))
    async with storage.sessionmaker() as s:
        await privacy.forget(s, cipher, await identity.lookup(s, cipher, 8_400_000_002))
    async with storage.sessionmaker() as s, s.begin():
        stranger = await identity.ensure(s, cipher, 8_400_000_003, "en")
        assert await staff.redeem(s, cipher, link, stranger) is None
