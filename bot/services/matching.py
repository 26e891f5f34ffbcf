""" "Write to someone who needs it": a case among those that received the fewest letters.

Letters cluster on the best-known names while others get none. The offer goes to the
least written to of the last 30 days, picked at random with weights, so two supporters
asking at the same moment are rarely sent to the same person and nobody is ignored for
long.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import cases, letters
from db.models import Case, LetterKind, Person
from db.repositories import cases as cases_repo
from db.repositories import letters as letters_repo

WINDOW = dt.timedelta(days=30)
# How many of the least written to share the offers.
POOL = 5


@dataclass(frozen=True)
class Offer:
    case: Case
    name: str
    # Cards recorded for this person in the last 30 days.
    recent: int


def pick(candidates: Sequence[tuple[Case, int]], rng: random.Random) -> tuple[Case, int]:
    """A weighted choice: a case with fewer letters is likelier, equals are equally likely."""
    top = max(n for _case, n in candidates)
    weights = [top - n + 1 for _case, n in candidates]
    return rng.choices(list(candidates), weights=weights)[0]


async def offer(
    session: AsyncSession,
    chain: Sequence[str],
    person: Person | None,
    *,
    skip: int | None = None,
    rng: random.Random | None = None,
) -> Offer | None:
    """A case in custody, whose facility passes letters on, among the least written to;
    one with a known address for cards whenever there is such a case.

    Cases the person already wrote a card to in the window, and `skip` (the case offered
    just before: "someone else"), are left out while any other case remains.
    """
    since = cases.today() - WINDOW
    done: set[int] = set()
    if person is not None and person.id is not None:
        done = await letters_repo.cases_written(session, person.id, LetterKind.CARD, since)
    avoid = done | ({skip} if skip is not None else set())
    least = await cases_repo.least_written(
        session,
        cases.IN_CUSTODY,
        since,
        POOL + len(avoid),
        kind=LetterKind.CARD,
        accepting=True,
    )
    fresh = [(c, n) for c, n in least if c.id not in avoid]
    # Someone a card can be posted to now, while there is anyone: an offer that ends in
    # "no address yet" is a dead end for the one thing the supporter came to do.
    fresh = [(c, n) for c, n in fresh if letters.can_post(c)] or fresh
    if not fresh:
        fresh = [(c, n) for c, n in least if c.id != skip] or least
    if not fresh:
        return None
    case, recent = pick(fresh[:POOL], rng or random.SystemRandom())
    assert case.id is not None
    texts = await cases.texts_for(session, case.id)
    return Offer(case=case, name=cases.pick_text(texts, chain).name, recent=recent)
