"""Pending invitations, staff and family: who may see them, the list, and cancelling one.

Only a hash of each code is stored, so a listed invitation can never show its code or
link again. An invitation is named by a reference: the first REF_LENGTH hex digits of
that hash. A code is 144 random bits, so a part of its hash tells nothing usable about
it, and a forged reference can at most name another invitation the sender may cancel
anyway; it is looked up again, with the sender's role, on every press.

Admins see and cancel every pending invitation. Editors see and cancel family
invitations only: they make them, for any case, and may unlink any relative already, so
an editor who sent a link to the wrong person can stop it without waiting for an admin.
Staff invitations grant roles, which only admins give.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import staff
from bot.services.cases import pick_text
from db.models import FamilyInvite, StaffInvite, StaffRole
from db.repositories import cases as cases_repo
from db.repositories import invites as invites_repo
from db.types import utcnow

# 16 hex digits, 8 bytes of the hash: two pending invitations share them by chance with a
# probability far below anything that matters, and an ambiguity is refused anyway.
REF_LENGTH = 16
_REF = re.compile(rf"^[0-9a-f]{{{REF_LENGTH}}}$")


class Kind(StrEnum):
    STAFF = "staff"
    FAMILY = "family"


class Outcome(Enum):
    """What pressing "Cancel" did."""

    CANCELLED = "cancelled"
    SPENT = "spent"  # used or cancelled before: nothing left to cancel
    EXPIRED = "expired"  # ran out before it was cancelled
    UNKNOWN = "unknown"  # no invitation has this reference (deleted with its case, forged)
    AMBIGUOUS = "ambiguous"  # several have it: nothing is cancelled on a guess
    FORBIDDEN = "forbidden"  # not an invitation this role may cancel


@dataclass(frozen=True)
class Pending:
    """One pending invitation as staff see it: what it grants, who made it, until when."""

    kind: Kind
    ref: str
    expires_at: dt.datetime
    created_by: str  # the creator's short keyed hash, as in the staff list and the audit
    mine: bool  # made by the person looking at the list
    role: str | None = None  # a staff invitation: the role it grants
    case_slug: str | None = None  # a family invitation: its case
    case_name: str | None = None  # ... and the prisoner's name in the reader's language


def kinds_for(role: str | None) -> frozenset[Kind]:
    """The kinds of invitation a staff role may list and cancel (none for everyone else)."""
    if role == StaffRole.ADMIN:
        return frozenset(Kind)
    if role == StaffRole.EDITOR:
        return frozenset({Kind.FAMILY})
    return frozenset()


def ref_of(code_hash: bytes) -> str:
    """The reference that names an invitation in a button: a prefix of its code's hash."""
    return code_hash.hex()[:REF_LENGTH]


async def pending(
    session: AsyncSession,
    role: str | None,
    viewer: str,
    chain: Sequence[str],
    now: dt.datetime | None = None,
) -> list[Pending]:
    """Every invitation not used and not expired that `role` may see, the soonest to
    expire first. `viewer` is the reader's keyed hash (`staff.actor_of`), to mark the
    invitations they made themselves; case names come in the languages of `chain`."""
    now = now or utcnow()
    kinds = kinds_for(role)
    found: list[Pending] = []
    if Kind.STAFF in kinds:
        found.extend(
            Pending(
                kind=Kind.STAFF,
                ref=ref_of(invite.code_hash),
                expires_at=invite.expires_at,
                created_by=invite.created_by,
                mine=invite.created_by == viewer,
                role=invite.role,
            )
            for invite in await invites_repo.pending(session, StaffInvite, now)
        )
    if Kind.FAMILY in kinds:
        invites = await invites_repo.pending(session, FamilyInvite, now)
        case_ids = sorted({invite.case_id for invite in invites})
        texts = await cases_repo.texts(session, case_ids)
        slugs = {case_id: await _slug(session, case_id) for case_id in case_ids}
        for invite in invites:
            case_texts = texts.get(invite.case_id)
            slug = slugs[invite.case_id]
            found.append(
                Pending(
                    kind=Kind.FAMILY,
                    ref=ref_of(invite.code_hash),
                    expires_at=invite.expires_at,
                    created_by=invite.created_by,
                    mine=invite.created_by == viewer,
                    case_slug=slug,
                    case_name=pick_text(case_texts, chain).name if case_texts else slug,
                )
            )
    found.sort(key=lambda p: (p.expires_at, p.kind.value, p.ref))
    return found


async def _slug(session: AsyncSession, case_id: int) -> str:
    case = await cases_repo.by_id(session, case_id)
    return case.slug if case is not None else str(case_id)


def _prefix_range(ref: str) -> tuple[bytes, bytes | None]:
    """The hashes that start with `ref`: [low, high), high None when the prefix is all ff."""
    low = bytes.fromhex(ref)
    value = int.from_bytes(low, "big") + 1
    if value >> (8 * len(low)):
        return low, None
    return low, value.to_bytes(len(low), "big")


async def cancel(
    session: AsyncSession,
    role: str | None,
    kind: str,
    ref: str,
    actor: str,
    now: dt.datetime | None = None,
) -> Outcome:
    """Spend the pending invitation `kind` and `ref` name, as if it had been used, so its
    link and code no longer work; audited with what it granted, never with the code.

    Anything else is said as it is: an invitation used or cancelled before, one that has
    expired, a reference nothing (or more than one invitation) answers to, or a kind this
    role may not cancel."""
    now = now or utcnow()
    if kind not in {k.value for k in Kind} or Kind(kind) not in kinds_for(role):
        return Outcome.FORBIDDEN
    if not _REF.match(ref):
        return Outcome.UNKNOWN
    low, high = _prefix_range(ref)
    model: invites_repo.Model = StaffInvite if kind == Kind.STAFF else FamilyInvite
    matches: Sequence[StaffInvite | FamilyInvite] = await invites_repo.between(
        session, model, low, high, 2
    )
    if not matches:
        return Outcome.UNKNOWN
    if len(matches) > 1:
        return Outcome.AMBIGUOUS
    invite = matches[0]
    if invite.used:
        return Outcome.SPENT
    if invite.expires_at <= now:
        return Outcome.EXPIRED
    if not await invites_repo.spend(session, model, invite.code_hash, now):
        return Outcome.SPENT
    if isinstance(invite, StaffInvite):
        await staff.audit(session, actor, "staff.invite.cancel", invite.role)
        return Outcome.CANCELLED
    slug = await _slug(session, invite.case_id)
    await staff.audit(session, actor, "family.invite.cancel", f"case:{slug}")
    return Outcome.CANCELLED


# Kept a day past their end, so a late press says "expired" rather than "unknown".
RETENTION = dt.timedelta(days=1)


async def purge(session: AsyncSession, now: dt.datetime | None = None) -> int:
    """Delete invitations, used or not, that ran out more than RETENTION ago; how many.

    An old invitation tells who was invited to which case's family and when; the audit
    log keeps that an invitation was made, and nothing more is needed."""
    cutoff = (now or utcnow()) - RETENTION
    return await invites_repo.delete_ended_before(session, cutoff)
