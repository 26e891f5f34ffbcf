"""People seen lately (bot/services/known_people.py): a supporter's second update needs no
query for who they are, while a change to them, a revoked role or a person the worker
found unreachable is seen on the very next update, whichever process made it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.services import identity, staff
from bot.services.known_people import KnownPeople
from bot.storage import build_storage
from db.models import Person as PersonRow
from tests.support import Driver, Person


@contextmanager
def people_reads(storage) -> Iterator[list[str]]:
    """The statements that read the people table while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM people" in statement:
            seen.append(statement)

    event.listen(storage.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", note)


async def test_a_supporter_seen_lately_needs_no_query(driver: Driver, storage, settings):
    person = Person(id=9_500_000_001)
    await driver.send(person, "/start")  # writes that they were greeted: nobody is kept
    await driver.send(person, "/help")
    with people_reads(storage) as reads:
        reply = await driver.send(person, "/help")
    assert "/follow" in reply.text
    assert reads == []
    # Someone new arriving changes nobody kept.
    async with storage.sessionmaker() as s, s.begin():
        await identity.ensure(s, IdentityCipher(settings.key_bytes), 9_500_000_009, "en")
    with people_reads(storage) as reads:
        await driver.send(person, "/help")
    assert reads == []
    # A change of their own is seen on the next update: the language they chose.
    await driver.send(person, "/language")
    await driver.press(person, "Русский")
    assert "Русский" in (await driver.send(person, "/start")).text


async def test_a_screen_that_needs_no_row_leaves_the_kept_row_out_of_the_session(
    driver: Driver,
):
    """Joining a session begins a transaction, which the update would then commit and
    close: /help, which reads nothing of the person, is spared that."""
    person = Person(id=9_500_000_003)
    await driver.send(person, "/start")
    await driver.send(person, "/help")  # read and kept
    attached: list[object] = []

    def note(_session: Any, instance: object) -> None:
        if isinstance(instance, PersonRow):
            attached.append(instance)

    event.listen(Session, "after_attach", note)
    try:
        assert "/follow" in (await driver.send(person, "/help")).text
        assert attached == []
        # A screen that changes the row gets it in the update's session, and the change
        # is saved.
        await driver.send(person, "/language")
        await driver.press(person, "Русский")
        assert len(attached) == 1
    finally:
        event.remove(Session, "after_attach", note)
    assert "Русский" in (await driver.send(person, "/start")).text


async def test_staff_are_read_on_every_update_so_a_revocation_anywhere_counts(
    driver: Driver, storage, settings, small_cases
):
    editor = Person(id=9_500_000_002)
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, cipher, editor.id, "editor", "test", "en")
    assert "Hearings" in (await driver.send(editor, "/hearing Testov")).text
    # Another process (the command line) revokes the role: this process hears nothing.
    other = build_storage(settings)
    try:
        async with other.sessionmaker() as s, s.begin():
            row = await identity.lookup(s, cipher, editor.id)
            assert row is not None and row.id is not None
            assert await staff.revoke(s, cipher, row.id, "cli")
    finally:
        await other.engine.dispose()
    assert "I do not know this command" in (await driver.send(editor, "/hearing Testov")).text


async def test_someone_the_worker_found_unreachable_is_reachable_again_when_they_write(
    driver: Driver, storage
):
    """A worker of its own needs the shared budget in Redis, where nobody is kept: the
    worker that marks people unreachable without Redis is the one in this process."""
    person = Person(id=9_500_000_003)
    await driver.send(person, "/start")
    await driver.send(person, "/help")  # kept now
    async with storage.sessionmaker() as s, s.begin():  # a 403 from Telegram
        await s.execute(update(PersonRow).values(active=False))
    await driver.send(person, "/help")
    async with storage.sessionmaker() as s:
        active = (await s.execute(select(col(PersonRow.active)))).scalars().all()
    assert active == [True]


def test_it_keeps_at_most_its_size_and_forgets_on_a_write():
    known = KnownPeople(size=2)
    people = [
        PersonRow(id=n, tg_index=bytes([n]) * 32, tg_cipher=b"x", locale="en") for n in (1, 2, 3)
    ]
    for person in people:
        known.keep(person.tg_index, person, None, person.id == 3, known.generation)
    assert len(known) == 2 and known.get(people[0].tg_index) is None
    kept = known.get(people[2].tg_index)
    assert kept is not None
    row, family = kept
    assert row.id == 3 and row.locale == "en" and family and row is not people[2]
    # Staff and people read before a write committed are not kept.
    known.keep(people[0].tg_index, people[0], "editor", False, known.generation)
    before = known.generation
    known.clear()
    known.keep(people[0].tg_index, people[0], None, False, before)
    assert len(known) == 0
