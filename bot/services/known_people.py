"""Who has written lately: each person's row by keyed index, so that most updates need no
query to know who sent them.

Every update used to begin with a query for the sender's row and role; on SQLite that is
two hand-offs to a database thread before a handler runs, and the largest single cost
of a light screen such as /help.

What keeps it right:
- Staff are never kept: their role is read on every update, so a revocation, by any
  process, takes effect on the next one. Nor are people the worker found unreachable:
  their next message must make them reachable again.
- A committed write in this process to the staff table, to the family links, or to a
  person's existing row (a setting changed, /forget), empties it; a row read before
  such a write and kept after it is refused (the generation moved). A new person's row
  changes nobody kept.
- Writes by another process (the command line, a worker of its own) are not seen here:
  an entry lives at most `ttl` seconds, which bounds them.
- Several instances share state through Redis, and a row kept by one would not hear of
  another's write: with Redis configured the bot does not use this (bot/app.py).
- At most `size` people are kept, the least recently seen leaving first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import make_transient_to_detached

from db.changes import on_commit_of_writes
from db.models import Person

_COLUMNS = tuple(column.key for column in Person.__table__.columns)  # type: ignore[attr-defined]
_MAPPER = inspect(Person)


def _person(values: tuple[object, ...]) -> Person:
    """A detached Person with these column values, made the way the ORM makes a row it
    has loaded: the model's constructor validates every field, which costs more than the
    query this spares."""
    person: Person = _MAPPER.class_manager.new_instance()
    person.__dict__.update(zip(_COLUMNS, values, strict=True))
    make_transient_to_detached(person)
    return person


class KnownPeople:
    """A bounded, short-lived map from a person's keyed index to their row's values."""

    def __init__(self, size: int = 10_000, ttl: float = 60.0) -> None:
        self.size = size
        self.ttl = ttl
        self.generation = 0
        # index -> (kept at, the row's column values, family of a case)
        self._rows: OrderedDict[bytes, tuple[float, tuple[object, ...], bool]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, index: bytes) -> tuple[Person, bool] | None:
        """A detached copy of the row kept for `index`, ready to be added to a session
        without a query, and whether they are family of a case; None if none is kept, or
        it has aged."""
        entry = self._rows.get(index)
        if entry is None:
            return None
        kept_at, values, family = entry
        if time.monotonic() - kept_at > self.ttl:
            del self._rows[index]
            return None
        self._rows.move_to_end(index)
        return _person(values), family

    def keep(
        self, index: bytes, person: Person, role: str | None, family: bool, generation: int
    ) -> None:
        """Remember `person` (and whether they are family of a case), read while the
        generation was `generation`, unless they are staff, unreachable, or a write has
        been committed since the read."""
        if role is not None or not person.active or generation != self.generation:
            return
        self._rows[index] = (time.monotonic(), tuple(getattr(person, c) for c in _COLUMNS), family)
        self._rows.move_to_end(index)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def watch(self, engine: AsyncEngine) -> Callable[[], None]:
        """Empty this on every committed write in this process that can make a kept row
        stale: to the staff table, to the family links, or to a person's existing row (a
        new person's row is not one kept). Returns a function that stops watching."""
        stops = [
            on_commit_of_writes(engine, ["staff", "family_members"], self.clear),
            on_commit_of_writes(engine, ["people"], self.clear, inserts=False),
        ]

        def stop() -> None:
            for each in stops:
                each()

        return stop

    def clear(self) -> None:
        """A write to the people, staff or family tables has committed: forget everyone."""
        self.generation += 1
        self._rows.clear()
