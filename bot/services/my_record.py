"""/me: what a supporter has done, shown to them alone.

Computed from the rows the bot keeps anyway for its once-per-person counters (the
letters recorded, the follows, the urgent actions marked done); nothing is stored for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, LetterKind, Person
from db.repositories import follows as follows_repo
from db.repositories import letters as letters_repo
from db.repositories import updates as updates_repo

FREE = (CaseStatus.RELEASED, CaseStatus.ACQUITTED)


@dataclass(frozen=True)
class Record:
    cards: int
    appeals: int
    # Different people the supporter wrote to, and how many of them are free now.
    written_to: int
    free_now: int
    following: int
    # Urgent actions the supporter marked done.
    actions: int = 0

    @property
    def letters(self) -> int:
        return self.cards + self.appeals


async def of(session: AsyncSession, person: Person | None) -> Record:
    """The person's record; all zeros for someone the bot does not know yet."""
    if person is None or person.id is None:
        return Record(0, 0, 0, 0, 0)
    letters = await letters_repo.of_person(session, person.id)
    status = {case_id: s for case_id, _kind, s in letters}
    return Record(
        cards=sum(1 for _c, kind, _s in letters if kind == LetterKind.CARD),
        appeals=sum(1 for _c, kind, _s in letters if kind == LetterKind.APPEAL),
        written_to=len(status),
        free_now=sum(1 for s in status.values() if s in FREE),
        following=len(await follows_repo.cases_of(session, person.id)),
        actions=await updates_repo.taken_by(session, person.id),
    )
