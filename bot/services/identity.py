"""Who is writing: a person's row from their Telegram id, without ever storing the id,
and the Visitor that carries it (with language and role) through one update."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.i18n import DEFAULT_TIMEZONES, locale_from_telegram
from bot.services.cases import fallback_chain
from bot.services.known_people import KnownPeople
from db.models import Person
from db.repositories import people


@dataclass
class Visitor:
    """The sender of the current update. The raw id lives only in memory, for this update."""

    locale: str
    fallbacks: list[str]
    role: str | None
    # Family of at least one case: may use /report (each step checks the case again).
    family: bool
    # The sender's keyed index (bot/crypto.py), the same as their private chat's.
    index: bytes = field(repr=False)
    _person: Person | None = field(repr=False)
    _tg_id: int = field(repr=False)
    _session: AsyncSession = field(repr=False)
    _cipher: IdentityCipher = field(repr=False)
    # A row kept from an earlier update (bot/services/known_people.py) joins this
    # update's session when something asks for it: joining begins a transaction, which a
    # screen such as /help, needing no row, then neither commits nor closes.
    _detached: bool = field(default=False, repr=False)

    @property
    def person(self) -> Person | None:
        """The person's row, part of this update's session; None until they have one."""
        if self._detached:
            self._session.add(self._person)
            self._detached = False
        return self._person

    @person.setter
    def person(self, person: Person | None) -> None:
        self._person = person
        self._detached = False

    @property
    def person_as_read(self) -> Person | None:
        """The person's row for a check that changes nothing (the panic word, the time
        zone): a kept row is not joined to the session for it, so a change made to it
        would not be saved; use `person` for that."""
        return self._person

    @property
    def chain(self) -> list[str]:
        """The reader's locale, then the configured fallbacks: the order case text is chosen in."""
        return fallback_chain(self.locale, self.fallbacks)

    @property
    def timezone(self) -> str:
        """The person's time zone, UTC for someone the bot does not know yet."""
        person = self.person_as_read
        return person.timezone if person is not None else "UTC"

    async def ensure(self) -> Person:
        """The person's row, created now if this is the first thing worth remembering."""
        person = self.person
        if person is None:
            person = await ensure(self._session, self._cipher, self._tg_id, self.locale)
            self.person = person
        return person


async def visit(
    session: AsyncSession,
    cipher: IdentityCipher,
    tg_id: int,
    language_code: str | None,
    default_locale: str,
    fallbacks: Sequence[str],
    known: KnownPeople | None = None,
) -> Visitor:
    """Who sent this update: their row if they have one (a person who had blocked the bot
    and writes again is reachable again), their language, their staff role, read anew on
    every update so that a revoked role is gone with the next message, and whether they
    are family of a case. `known` spares the query for people without a role seen lately
    (bot/services/known_people.py)."""
    index = cipher.index(tg_id)
    kept = known.get(index) if known is not None else None
    person: Person | None
    role: str | None = None
    family = False
    if kept is not None:
        # Kept rows are of people without a role who are reachable: nothing to check.
        person, family = kept
    else:
        generation = known.generation if known is not None else 0
        found = await people.who_by_index(session, index)
        person, role, family = found if found is not None else (None, None, False)
        if person is not None and not person.active:
            await people.reactivate(session, person)
        elif person is not None and known is not None:
            known.keep(index, person, role, family, generation)
    locale = (
        person.locale if person is not None else locale_from_telegram(language_code, default_locale)
    )
    return Visitor(
        locale=locale,
        fallbacks=list(fallbacks),
        role=role,
        family=family,
        index=index,
        _person=person,
        _detached=kept is not None,
        _tg_id=tg_id,
        _session=session,
        _cipher=cipher,
    )


async def person_by_id(session: AsyncSession, person_id: int) -> Person | None:
    """Someone else's row (a staff member an admin acts on, a relative being unlinked)."""
    return await people.by_id(session, person_id)


async def lookup(session: AsyncSession, cipher: IdentityCipher, tg_id: int) -> Person | None:
    """The person with this Telegram id, if they have a row."""
    return await people.by_index(session, cipher.index(tg_id))


async def ensure(session: AsyncSession, cipher: IdentityCipher, tg_id: int, locale: str) -> Person:
    """The person's row, created on first need with the locale they arrived with."""
    person = await lookup(session, cipher, tg_id)
    if person is not None:
        return person
    # Two first updates at once (a double tap) both get here: the index decides.
    await people.add_if_absent(
        session,
        tg_index=cipher.index(tg_id),
        tg_cipher=cipher.encrypt_id(tg_id),
        locale=locale,
        timezone=DEFAULT_TIMEZONES.get(locale, "UTC"),
    )
    person = await lookup(session, cipher, tg_id)
    assert person is not None
    return person


async def greet(session: AsyncSession, person: Person) -> bool:
    """Note that /start has greeted `person`. True if it had before: they are back.

    A row made for someone (a staff grant, a relative's record) has not been greeted, so
    their first /start welcomes them rather than welcoming them back."""
    if person.greeted:
        return True
    person.greeted = True
    session.add(person)
    return False
