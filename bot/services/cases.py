"""Browsing, searching and reading cases in the reader's language."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.ttl_cache import TtlCache

# Re-exported: handlers and keyboards know the countries as cases.COUNTRIES.
from bot.services.case_rules import COUNTRIES as COUNTRIES
from bot.services.case_rules import SLUG_PATTERN
from bot.services.search import plain, skeleton
from db.models import Case, CaseStatus, CaseText, Hearing, Person, Visibility
from db.repositories import cases as repo
from db.repositories import follows as follows_repo
from db.repositories import updates as updates_repo
from db.types import utcnow

PAGE_SIZE = 8
SEARCH_LIMIT = 10
MAX_QUERY = 100
COURT_TIMEZONES: dict[str, str] = {
    "kz": "Asia/Almaty",
    "kg": "Asia/Bishkek",
    "tj": "Asia/Dushanbe",
    "tm": "Asia/Ashgabat",
    "uz": "Asia/Tashkent",
}
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
_SLUG = re.compile(SLUG_PATTERN)


def pick_text(texts: Mapping[str, T], chain: Sequence[str]) -> T:
    """The text for the first locale of `chain` that has one, else any text at all."""
    return texts[pick_locale(texts, chain)]


def pick_locale(texts: Mapping[str, object], chain: Sequence[str]) -> str:
    """The locale `pick_text` takes: so a reader can be told the text is in another one."""
    for loc in chain:
        if loc in texts:
            return loc
    return next(iter(texts))


def pick_value(texts: Mapping[str, CaseText], chain: Sequence[str], field: str) -> str | None:
    """One field of a case's text along `chain`, each field on its own: a reader whose
    language version lacks the facility's letter rules still gets the Russian ones."""
    for loc in chain:
        value = getattr(texts[loc], field) if loc in texts else None
        if value:
            return str(value)
    return next((str(v) for t in texts.values() if (v := getattr(t, field))), None)


def fallback_chain(locale: str, fallbacks: Sequence[str]) -> list[str]:
    """Reader's locale first, then the configured fallbacks, without repeats."""
    chain = [locale]
    chain.extend(loc for loc in fallbacks if loc not in chain)
    return chain


@dataclass(frozen=True)
class CaseSummary:
    id: int
    slug: str
    country: str
    status: str
    name: str


@dataclass(frozen=True)
class CaseCard:
    case: Case
    text: CaseText
    followers: int
    letters: int
    next_hearing: Hearing | None
    following: bool
    latest: LatestUpdate | None = None
    # An urgent action whose deadline is ahead, if the case has one.
    action: OpenAction | None = None
    # The facility's letter rules and what the person welcomes hearing about, each in the
    # first language of the reader's chain that has it.
    letter_rules: str | None = None
    topics: str | None = None
    # The case-wide facts the card was made from (CardFacts.made keeps what is rendered
    # of them); None for a card not made from kept facts.
    facts: CaseFacts | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LatestUpdate:
    """The newest public update with a text, in the reader's language where it has one."""

    at: dt.datetime
    text: str
    locale: str  # the language the text is in (a fallback one, if not the reader's)


@dataclass(frozen=True)
class OpenAction:
    """An urgent action still open, in the reader's language, and whether the reader did it."""

    id: int
    deadline: dt.datetime
    text: str
    done: bool


@dataclass(frozen=True)
class CasePage:
    items: list[CaseSummary]
    page: int
    pages: int
    total: int


async def summaries(
    session: AsyncSession, cases: list[Case], chain: Sequence[str]
) -> list[CaseSummary]:
    texts = await repo.texts(session, [c.id for c in cases if c.id is not None])
    return [
        CaseSummary(
            id=c.id,
            slug=c.slug,
            country=c.country,
            status=c.status,
            name=pick_text(texts[c.id], chain).name,
        )
        for c in cases
        if c.id is not None and texts.get(c.id)
    ]


async def browse(
    session: AsyncSession,
    chain: Sequence[str],
    *,
    country: str | None = None,
    status: str | None = None,
    page: int = 0,
) -> CasePage:
    """A page of public cases, filtered by country and status; out-of-range pages clamp."""
    total = await repo.count(session, country=country, status=status)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    cases = await repo.page(
        session, country=country, status=status, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    return CasePage(await summaries(session, cases, chain), page, pages, total)


async def country_counts(session: AsyncSession) -> dict[str, int]:
    """How many public cases each country has."""
    return await repo.country_counts(session)


def normalise_query(query: str) -> str:
    """Collapse whitespace and strip control characters from what a person typed. A line
    break is white space, not a control character to drop: two lines are two words."""
    cleaned = "".join(ch if ch.isprintable() else " " if ch.isspace() else "" for ch in query)
    return " ".join(cleaned.split())[:MAX_QUERY]


def search_patterns(query: str) -> list[list[str]]:
    """For each word of the query, the forms of it that a search key may hold."""
    patterns: list[list[str]] = []
    for word in normalise_query(query).split():
        alternatives = [p for p in (plain(word), skeleton(word)) if len(p) >= 2]
        if alternatives:
            patterns.append(sorted(set(alternatives)))
    return patterns


def is_slug(reference: str) -> bool:
    """Whether what a person typed has the form of a slug (and so names one case)."""
    return _SLUG.match(reference) is not None


async def search(session: AsyncSession, query: str, chain: Sequence[str]) -> list[CaseSummary]:
    """Public cases whose name, in any script, matches every word of the query."""
    patterns = search_patterns(query)
    if not patterns:
        return []
    return await summaries(session, await repo.search(session, patterns, SEARCH_LIMIT), chain)


async def find(session: AsyncSession, reference: str, chain: Sequence[str]) -> list[CaseSummary]:
    """A slug names one case; anything else is searched. Hidden cases are never found."""
    ref = normalise_query(reference).lower()
    if _SLUG.match(ref):
        case = await repo.by_slug(session, ref)
        if case is not None and case.visibility == Visibility.PUBLIC:
            return await summaries(session, [case], chain)
    return await search(session, reference, chain)


async def by_id(session: AsyncSession, case_id: int) -> Case | None:
    """Any case, hidden and archived ones too: for staff screens, which check the role."""
    return await repo.by_id(session, case_id)


async def visible_case(session: AsyncSession, case_id: int) -> Case | None:
    """The case if a supporter may see it; callback data is never trusted for more."""
    case = await repo.by_id(session, case_id)
    if case is None or case.visibility != Visibility.PUBLIC:
        return None
    return case


@dataclass(frozen=True)
class CaseFacts:
    """What a case's card shows that is the same for every reader, in every language."""

    # The case's row as read with the rest (its visibility is read anew for each card).
    case: Case
    texts: dict[str, CaseText]
    followers: int
    letters: int
    next_hearing: Hearing | None
    # The newest public update with a text: when, and its text by language.
    latest: tuple[dt.datetime, dict[str, str]] | None
    # The newest urgent action with a text: its id, deadline and text by language.
    action: tuple[int, dt.datetime, dict[str, str]] | None


# Tables CaseFacts are read from: a commit that wrote to one clears the cache.
CARD_TABLES = (
    "cases",
    "case_texts",
    "follows",
    "letter_counts",
    "hearings",
    "case_updates",
    "case_update_texts",
)


class CardFacts:
    """The case-wide part of each card, and the answers to searches for cases, kept a few
    seconds per process.

    Many readers open the same card at once (a case in the news, a broadcast's button),
    most of them by the same name. Whether the case may be shown is read anew every
    time, as is everything about the reader (do they follow it, did they take the
    action). Any write to the tables the facts come from clears them in this process
    when it commits (`db.changes`); another instance's writes are seen within TTL
    seconds: a case hidden there may be named in a search here for that long, but its
    card is refused at once.
    """

    TTL = 5.0
    # Rendered cards kept at most; readers differ by language, time zone and their own
    # part, so a popular card is kept a few dozen times.
    MADE = 2048

    def __init__(self, ttl: float = TTL) -> None:
        self._cache: TtlCache[int, CaseFacts | None] = TtlCache(ttl)
        self._found: TtlCache[tuple[str, tuple[str, ...]], list[CaseSummary]] = TtlCache(ttl)
        # (case id, reader) -> (the facts it was made from, what was made of them)
        self._made: dict[tuple[int, Hashable], tuple[CaseFacts, object]] = {}

    def clear(self) -> None:
        self._cache.clear()
        self._found.clear()
        self._made.clear()

    def made(self, card: CaseCard, reader: Hashable, make: Callable[[], T]) -> T:
        """What `make` makes of `card` (its rendered text and keyboard), made once for
        every reader alike in `reader` (all that shapes it for them: their language,
        time zone, their own part) for as long as the facts it came from are kept.

        Rendering a card cost more CPU than the statement read for it. A card made from
        facts that have since been read again is made anew, so what it shows is never
        older than the facts themselves; its case row is the one read with the facts'
        time-to-live as well (visibility is checked before, every time)."""
        if card.facts is None:
            return make()
        key = (card.case.id or 0, reader)
        hit = self._made.get(key)
        if hit is not None and hit[0] is card.facts:
            return cast(T, hit[1])
        value = make()
        if len(self._made) >= self.MADE:
            self._made.clear()
        self._made[key] = (card.facts, value)
        return value

    async def find(
        self, session: AsyncSession, reference: str, chain: Sequence[str]
    ) -> list[CaseSummary]:
        """`find`'s answer, the same for every reader of the same languages: from memory
        if recent, or read now in `session`."""
        key = (normalise_query(reference), tuple(chain))
        return await _shared(self._found, key, session, lambda: find(session, reference, chain))

    async def get(self, session: AsyncSession, case_id: int) -> CaseFacts | None:
        """The facts of a case (None for one without a text), from memory if recent, or
        read now in `session`."""
        return await _shared(self._cache, case_id, session, lambda: self._load(session, case_id))

    @staticmethod
    async def _load(session: AsyncSession, case_id: int) -> CaseFacts | None:
        # Read in the update's own session: one of its own would need a second pool
        # connection while the first is held, and a crowd at one card would hold them
        # all. The rows kept are then taken out of that session, so that its rollback
        # cannot expire what every later reader shares.
        facts = await _facts(session, case_id)
        if facts is not None:
            for row in (facts.case, *facts.texts.values(), facts.next_hearing):
                if row is not None and row in session:
                    session.expunge(row)
        return facts


async def _shared(
    cache: TtlCache[K, T], key: K, session: AsyncSession, load: Callable[[], Awaitable[T]]
) -> T:
    """What `cache` keeps for `key`, or what `load` reads in `session` (one read shared by
    every reader who asks meanwhile).

    The session takes its connection before it waits for a read or begins one. A read
    begun by a session without one would wait for the pool while readers waiting for it
    held every connection: nobody would be answered until the pool gave up."""
    hit = cache.peek(key)
    if hit is not None:
        return hit[0]
    await session.connection()
    return await cache.get(key, load)


async def _facts(session: AsyncSession, case_id: int) -> CaseFacts | None:
    case = await repo.by_id(session, case_id)
    texts = (await repo.texts(session, [case_id])).get(case_id, {})
    if case is None or not texts:
        return None
    latest = None
    update = await updates_repo.latest_public_with_text(session, case_id)
    if update is not None and update.id is not None:
        latest = (update.created_at, await updates_repo.texts(session, update.id))
    action = None
    urgent = await updates_repo.latest_action(session, case_id)
    if urgent is not None and urgent.id is not None and urgent.deadline is not None:
        action_texts = await updates_repo.texts(session, urgent.id)
        if action_texts:
            action = (urgent.id, urgent.deadline, action_texts)
    return CaseFacts(
        case=case,
        texts=texts,
        followers=await repo.followers(session, case_id),
        letters=await repo.letters_total(session, case_id),
        next_hearing=await repo.next_hearing(session, case_id, utcnow()),
        latest=latest,
        action=action,
    )


async def card(
    session: AsyncSession,
    case_id: int,
    chain: Sequence[str],
    person_id: int | None,
    facts: CardFacts,
) -> CaseCard | None:
    """Everything a case card shows, or None if the case is not visible; the case-wide
    part may come from `facts`' memory. Whether the case may be shown is read anew, with
    what is the reader's own, in one statement."""
    known = await facts.get(session, case_id)
    if known is None:
        return None
    open_action = known.action if known.action is not None and known.action[1] > utcnow() else None
    view = await repo.reader_view(
        session, case_id, person_id, open_action[0] if open_action is not None else None
    )
    if view is None:
        return None
    visibility, following, taken = view
    if visibility != Visibility.PUBLIC:
        return None
    return CaseCard(
        case=known.case,
        text=pick_text(known.texts, chain),
        followers=known.followers,
        letters=known.letters,
        next_hearing=known.next_hearing,
        following=following,
        latest=(
            LatestUpdate(
                known.latest[0],
                pick_text(known.latest[1], chain),
                pick_locale(known.latest[1], chain),
            )
            if known.latest is not None
            else None
        ),
        action=(
            OpenAction(open_action[0], open_action[1], pick_text(open_action[2], chain), taken)
            if open_action is not None
            else None
        ),
        letter_rules=pick_value(known.texts, chain, "letter_rules"),
        topics=pick_value(known.texts, chain, "topics"),
        facts=known,
    )


async def texts_for(session: AsyncSession, case_id: int) -> dict[str, CaseText]:
    """All language versions of a case's text (none for a case there is not)."""
    return (await repo.texts(session, [case_id])).get(case_id, {})


IN_CUSTODY: tuple[str, ...] = (
    CaseStatus.DETAINED,
    CaseStatus.ON_TRIAL,
    CaseStatus.SENTENCED,
)


async def writable(
    session: AsyncSession, chain: Sequence[str], limit: int = PAGE_SIZE
) -> list[CaseSummary]:
    """People in custody, those who received the fewest letters in 30 days first."""
    since = today() - dt.timedelta(days=30)
    least = await repo.least_written(session, IN_CUSTODY, since, limit)
    return await summaries(session, [case for case, _n in least], chain)


async def followed_writable(
    session: AsyncSession, person: Person | None, chain: Sequence[str]
) -> list[CaseSummary]:
    """The person's followed cases that can receive a letter now."""
    if person is None or person.id is None:
        return []
    mine = await follows_repo.cases_of(session, person.id)
    return await summaries(
        session,
        [c for c in mine if c.status in IN_CUSTODY and c.visibility == Visibility.PUBLIC],
        chain,
    )


def today() -> dt.date:
    return utcnow().date()
