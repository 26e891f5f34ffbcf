"""Transfers: when a prisoner's address for letters changes, everyone who recorded a card
to them hears the new one, so the next letter does not go to the old prison; and when a
first safe address becomes known, those who asked to be told hear that a card can be sent.

Whichever way the address changed (the staff console or `cases import`), the notice is
written in the same transaction. The spec carries a short hash of the new address, so a
notice overtaken by a later move renders nothing rather than an old address.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import enqueue
from bot.delivery.specs import TransferSpec
from db.models import Case, LetterKind, Visibility
from db.repositories import letters as letters_repo


def address_tag(address: str | None) -> str:
    """A short stable tag of an address: enough to tell one address from the next."""
    return hashlib.sha256((address or "").encode()).hexdigest()[:12]


async def announce(session: AsyncSession, case: Case, old_address: str | None) -> int:
    """Tell the case's past card writers, and those waiting for an address, the new one;
    returns how many were queued. The waiting are told once: their wish is then spent.

    Nothing goes out when the address was only cleared (there is nothing to write to),
    did not really change, or the case is not public.
    """
    new = case.prison_address
    if not new or new == old_address or case.visibility != Visibility.PUBLIC:
        return 0
    assert case.id is not None
    tag = address_tag(new)
    writers = await letters_repo.writers(session, case.id, LetterKind.CARD)
    waiting = await letters_repo.waiters(session, case.id)
    await letters_repo.clear_waits(session, case.id)
    return await enqueue(
        session,
        person_ids=sorted({*writers, *waiting}),
        spec=TransferSpec(
            case_id=case.id, address_tag=tag, first=True if not old_address else None
        ),
        batch=f"case:{case.id}:transfer",
        key=f"transfer:{case.id}:{tag}",
    )
