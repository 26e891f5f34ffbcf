"""Staff access: roles bound to numeric ids, single-use invitations, and the audit log.

Deny by default: a person is staff only while a row says so, and the role is read
again on every update, so a revoked person loses access with their next message.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher, code_digest
from bot.services import identity
from db.models import AuditEntry, FamilyInvite, Person, StaffInvite, StaffMember, StaffRole
from db.repositories import invites as invites_repo
from db.repositories import staff as repo
from db.types import utcnow

INVITE_TTL = dt.timedelta(hours=24)
INVITE_PREFIX = "inv-"
ROLES = {r.value for r in StaffRole}


def actor_of(cipher: IdentityCipher, person_id: int | None) -> str:
    """How the audit log names a person: a short keyed hash ("cli" for the command line)."""
    return "cli" if person_id is None else cipher.log_hash(f"person:{person_id}")


async def members(session: AsyncSession) -> list[StaffMember]:
    """Every staff member with their role."""
    return await repo.members(session)


async def recent_audit(session: AsyncSession, limit: int) -> list[AuditEntry]:
    """The latest `limit` audit entries, newest first."""
    return await repo.audit_recent(session, limit)


async def audit(session: AsyncSession, actor: str, action: str, target: str | None = None) -> None:
    """Record a staff action."""
    await repo.audit(session, AuditEntry(actor=actor, action=action, target=target))


# Who may make which invitations (see bot/services/invitations.py for who may cancel them).
_MAKES_STAFF_INVITES = {StaffRole.ADMIN}
_MAKES_FAMILY_INVITES = {StaffRole.ADMIN, StaffRole.EDITOR}


async def _set_role(
    session: AsyncSession, cipher: IdentityCipher, person_id: int, role: str
) -> int:
    """Give the person `role`; the pending invitations they made that their new role
    could not make are spent (a demoted admin's admin links must not make admins).
    How many were spent."""
    await repo.set_role(session, person_id, role)
    lost: list[invites_repo.Model] = []
    if role not in _MAKES_STAFF_INVITES:
        lost.append(StaffInvite)
    if role not in _MAKES_FAMILY_INVITES:
        lost.append(FamilyInvite)
    if not lost:
        return 0
    return await invites_repo.cancel_by(session, actor_of(cipher, person_id), tuple(lost))


async def departed(session: AsyncSession, cipher: IdentityCipher, person_id: int) -> int:
    """A person leaves (by /forget, or deleted by retention): the invitations they made
    that are still pending are spent with them. How many."""
    return await invites_repo.cancel_by(session, actor_of(cipher, person_id))


async def grant(
    session: AsyncSession, cipher: IdentityCipher, tg_id: int, role: str, actor: str, locale: str
) -> Person:
    """Give a numeric Telegram id a role (creating the person if needed)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use {', '.join(sorted(ROLES))}")
    person = await identity.ensure(session, cipher, tg_id, locale)
    assert person.id is not None
    if await repo.role_of(session, person.id) != role:
        spent = await _set_role(session, cipher, person.id, role)
        target = f"{role}:{actor_of(cipher, person.id)}" + (f":invites:{spent}" if spent else "")
        await audit(session, actor, "staff.grant", target)
    return person


async def bootstrap(
    session: AsyncSession, cipher: IdentityCipher, admin_ids: Iterable[int], locale: str
) -> None:
    """ADMIN_IDS are admins at every start (idempotent)."""
    for tg_id in admin_ids:
        await grant(session, cipher, tg_id, StaffRole.ADMIN, "config", locale)


async def _is_last_admin(session: AsyncSession, person_id: int) -> bool:
    if await repo.role_of(session, person_id) != StaffRole.ADMIN:
        return False
    admins = [m for m in await repo.members(session) if m.role == StaffRole.ADMIN]
    return len(admins) <= 1


async def role_of(session: AsyncSession, person_id: int) -> str | None:
    """The person's staff role now, if they have one."""
    return await repo.role_of(session, person_id)


async def revoke(session: AsyncSession, cipher: IdentityCipher, person_id: int, actor: str) -> bool:
    """Take a role away, and every invitation (staff or family) the person made that is
    still pending: a revoked member's links must not make admins or relatives later.
    The last admin cannot be removed (nobody could manage staff); False then, and for a
    person with no role.

    Two admins revoking each other at once leave one: the admins are counted inside the
    DELETE, not read beforehand, so neither acts on a count the other has outdated."""
    # PostgreSQL (READ COMMITTED): both DELETEs could count two admins before either
    # commits; with the admin rows locked first, the second waits and counts again.
    # SQLite: no lock is rendered, but the DELETE is this function's first write, and
    # from it on the transaction holds the database's only write lock, so the count in
    # it is current (an earlier write by the caller would have taken that lock already).
    await repo.lock_admins(session)
    role = await repo.remove_unless_last_admin(session, person_id)
    if role is None:
        return False
    creator = actor_of(cipher, person_id)
    cancelled = await invites_repo.cancel_by(session, creator)
    await audit(session, actor, "staff.revoke", f"{role}:{creator}:invites:{cancelled}")
    return True


class InviteRefused(ValueError):
    """An invitation's maker lost the role that makes it while it was being made
    (revoked, demoted or gone); what was stored is spent, and nothing is handed out."""


_MAKERS: dict[invites_repo.Model, set[StaffRole]] = {
    StaffInvite: _MAKES_STAFF_INVITES,
    FamilyInvite: _MAKES_FAMILY_INVITES,
}


async def confirm_maker(
    session: AsyncSession,
    cipher: IdentityCipher,
    actor: str,
    model: invites_repo.Model,
    code_hash: bytes,
) -> None:
    """Call right after storing an invitation of kind `model`, in the same transaction:
    unless `actor` (as `actor_of` names a person) still has a role that makes it, spend
    it and raise InviteRefused.

    The handler read the maker's role when the update began. A revoke committed since
    then cancelled the maker's pending invitations before this one existed, and would
    leave it working; so the role is read again after the insert. On SQLite the insert
    holds the write lock, so no revoke commits between it and this read; on PostgreSQL
    this read share-locks the maker's row, so a revoke that has not deleted it yet waits
    for this commit, and its cancelling then sees the invitation."""
    allowed = _MAKERS[model]
    for person_id in await repo.ids(session):
        # The audit names the maker only by a keyed hash; staff are few.
        if actor_of(cipher, person_id) != actor:
            continue
        if await repo.role_for_share(session, person_id) in allowed:
            return
    # Spent as well as refused, so that a caller who commits anyway hands out nothing.
    await invites_repo.spend(session, model, code_hash, utcnow())
    raise InviteRefused("the invitation's maker no longer has a role that makes it")


async def create_invite(
    session: AsyncSession, cipher: IdentityCipher, role: str, actor: str
) -> str:
    """A single-use code for a role, valid for a day; only its hash is stored.

    InviteRefused if `actor` is no longer an admin by the time it is stored (see
    `confirm_maker`): then nothing usable is left."""
    if role not in ROLES:
        raise ValueError("unknown role")
    code = secrets.token_urlsafe(18)
    code_hash = code_digest(code, "staff-invite")
    await invites_repo.add(
        session,
        StaffInvite(
            code_hash=code_hash,
            role=StaffRole(role),
            expires_at=utcnow() + INVITE_TTL,
            created_by=actor,
        ),
    )
    await confirm_maker(session, cipher, actor, StaffInvite, code_hash)
    await audit(session, actor, "staff.invite", role)
    return code


async def redeem(
    session: AsyncSession, cipher: IdentityCipher, code: str, person: Person
) -> str | None:
    """Use an invitation: the role granted, or None (unknown, used or expired alike)."""
    if not code or len(code) > 64 or person.id is None:
        return None
    code_hash, now = code_digest(code, "staff-invite"), utcnow()
    # The last admin does not step down by using an invitation to a lesser role; the
    # invitation stays for the person it was meant for.
    offered = await invites_repo.peek(session, StaffInvite, code_hash, now, StaffInvite.role)
    if offered != StaffRole.ADMIN and await _is_last_admin(session, person.id):
        return None
    taken = await invites_repo.take(session, StaffInvite, code_hash, now, StaffInvite.role)
    if taken is None:
        return None
    role = str(taken)
    spent = await _set_role(session, cipher, person.id, role)
    await audit(
        session,
        actor_of(cipher, person.id),
        "staff.join",
        role + (f":invites:{spent}" if spent else ""),
    )
    return role
