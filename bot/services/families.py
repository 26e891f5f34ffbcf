"""Families: single-use invitations to a case, joining, the guard against guessing codes,
and the staff's view of a case's family (a count and short tags, never who).

A relative is the person most at risk of all who use the bot, so joining makes their
chat as quiet as the bot can: discreet notifications, protected content and alerts that
delete themselves, unless they had chosen something stricter. Joining is deliberately not
written to the audit log: its timestamp is precise to the second, and next to Telegram's
own records it could point at the relative (people rows keep only the day, for that
reason). The invitation, made by staff, is audited instead.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher, code_digest
from bot.services import staff
from bot.services.cases import pick_text
from db.models import Case, FamilyInvite, Person
from db.repositories import cases as cases_repo
from db.repositories import families as repo
from db.repositories import invites as invites_repo
from db.repositories import people as people_repo
from db.types import utcnow

T = TypeVar("T")

INVITE_PREFIX = "fam-"
INVITE_TTL = dt.timedelta(hours=72)
# Telegram's deep-link parameter holds at most 64 characters; nothing longer is a code.
CODE_MAX = 64
# Five wrong codes in a quarter of an hour, then no code is even looked at until the
# oldest of them is out of the window: about twenty guesses an hour at a 144-bit code.
JOIN_LIMIT = 5
JOIN_WINDOW = dt.timedelta(minutes=15)
ATTEMPT_RETENTION = dt.timedelta(days=1)
RELATIVE_AUTODELETE_HOURS = 24

_INVITE_PURPOSE = "family-invite"
_ATTEMPT_PURPOSE = "join-attempt"


def attempt_key(cipher: IdentityCipher, tg_id: int) -> bytes:
    """Under what a sender's failed codes are counted: a keyed hash of the Telegram id."""
    return cipher.secret_hash(str(tg_id), _ATTEMPT_PURPOSE)


def parse_code(text: str) -> str:
    """The code in what a person sent after /join or /start: with or without "fam-"."""
    return text.strip().removeprefix(INVITE_PREFIX)


async def create_invite(
    session: AsyncSession, cipher: IdentityCipher, case: Case, actor: str
) -> str:
    """A single-use code that joins its holder to `case`, valid for INVITE_TTL.

    Only the code's hash is stored, so a database dump cannot be used to join.
    The audit names the case, never the relative (nobody knows them yet).
    staff.InviteRefused if `actor` is no longer an editor or admin by the time it is
    stored (see `staff.confirm_maker`): then nothing usable is left."""
    assert case.id is not None
    code = secrets.token_urlsafe(18)
    code_hash = code_digest(code, _INVITE_PURPOSE)
    await invites_repo.add(
        session,
        FamilyInvite(
            code_hash=code_hash,
            case_id=case.id,
            expires_at=utcnow() + INVITE_TTL,
            created_by=actor,
        ),
    )
    await staff.confirm_maker(session, cipher, actor, FamilyInvite, code_hash)
    await staff.audit(session, actor, "family.invite", f"case:{case.slug}")
    return code


async def limited(
    session: AsyncSession,
    cipher: IdentityCipher,
    tg_id: int,
    attempt: Callable[[], Awaitable[T | None]],
    now: dt.datetime | None = None,
) -> T | None:
    """Run `attempt` (the use of an invitation code, family or staff) unless the sender
    failed JOIN_LIMIT times within JOIN_WINDOW; then None without running it, so a
    guesser learns nothing more, not even whether a code was right.

    A None from `attempt` is a failure and is counted under a keyed hash of the Telegram
    id (a stranger guessing codes has no person row, and gets none). Refused attempts are
    not counted, so the limit lifts as the window passes."""
    now = now or utcnow()
    who = attempt_key(cipher, tg_id)
    await repo.lock_attempts(session, who)
    if await repo.failures_since(session, who, now - JOIN_WINDOW) >= JOIN_LIMIT:
        return None
    result = await attempt()
    if result is None:
        await repo.add_failure(session, who, now)
    return result


async def redeem(
    session: AsyncSession,
    cipher: IdentityCipher,
    code: str,
    person: Callable[[], Awaitable[Person]],
) -> Case | None:
    """Use a family invitation: the case joined, or None for an unknown, used or expired
    code alike. `person` gives the joiner's row and is called only for a good code.

    The invitation is spent, the person joins the case (again is harmless) and gets a
    relative's safety settings (see `protect_relative`)."""
    if not code or len(code) > CODE_MAX:
        return None
    code_hash = code_digest(code, _INVITE_PURPOSE)
    case_id = await invites_repo.take(
        session, FamilyInvite, code_hash, utcnow(), FamilyInvite.case_id
    )
    if case_id is None:
        return None
    case = await cases_repo.by_id(session, case_id)
    if case is None:
        return None
    await add_relative(session, await person(), case_id)
    return case


async def add_relative(session: AsyncSession, person: Person, case_id: int) -> bool:
    """Make the person a relative of the case with a relative's safety settings; False
    (and nothing changed) if they were one already."""
    assert person.id is not None
    if not await repo.add_member(session, person.id, case_id):
        return False
    await protect_relative(session, person)
    return True


async def protect_relative(session: AsyncSession, person: Person) -> None:
    """Discreet mode and protected content on, alerts deleted after a day at the latest;
    an earlier deletion the person chose stays. They can change all of it in /settings."""
    assert person.id is not None
    hours = person.autodelete_hours
    if hours is None or hours > RELATIVE_AUTODELETE_HOURS:
        hours = RELATIVE_AUTODELETE_HOURS
    fields: dict[str, object] = {
        "discreet": True,
        "protect_content": True,
        "autodelete_hours": hours,
    }
    await people_repo.set_fields(session, person.id, **fields)
    for key, value in fields.items():
        setattr(person, key, value)


async def case_name(session: AsyncSession, case: Case, chain: Sequence[str]) -> str:
    """The prisoner's name in the reader's language (the slug if the case has no text)."""
    assert case.id is not None
    texts = (await cases_repo.texts(session, [case.id])).get(case.id)
    return pick_text(texts, chain).name if texts else case.slug


async def members_of(session: AsyncSession, case_id: int) -> frozenset[int]:
    """The person ids of a case's family (for wording alerts to them as relatives)."""
    return frozenset(await repo.member_ids(session, case_id))


def member_tag(cipher: IdentityCipher, case_id: int, person_id: int) -> str:
    """How staff see a family member: a short keyed hash, different for each case, so
    that neither an id nor one relative's other cases show through."""
    return cipher.log_hash(f"family:{case_id}:{person_id}")


async def member_tags(session: AsyncSession, cipher: IdentityCipher, case_id: int) -> list[str]:
    """The case's family members as tags, sorted (so the order tells nothing either)."""
    ids = await repo.member_ids(session, case_id)
    return sorted(member_tag(cipher, case_id, person_id) for person_id in ids)


async def unlink(
    session: AsyncSession, cipher: IdentityCipher, case: Case, tag: str, actor: str
) -> int | None:
    """Remove the member `tag` names from the case's family, and return their person id;
    None if no single member has that tag (unlinked already, or forged). Audited without
    the member's tag."""
    assert case.id is not None
    matching = [
        person_id
        for person_id in await repo.member_ids(session, case.id)
        if member_tag(cipher, case.id, person_id) == tag
    ]
    if len(matching) != 1:
        return None
    if not await repo.remove_member(session, matching[0], case.id):
        return None
    await staff.audit(session, actor, "family.unlink", f"case:{case.slug}")
    return matching[0]


async def purge_attempts(session: AsyncSession, now: dt.datetime | None = None) -> int:
    """Forget failed join attempts older than ATTEMPT_RETENTION (the limit needs only
    the last quarter of an hour); how many went."""
    return await repo.delete_failures_before(session, (now or utcnow()) - ATTEMPT_RETENTION)
