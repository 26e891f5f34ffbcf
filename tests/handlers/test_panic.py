"""/panic and the panic word through the real dispatcher: every bot message the bot may
still delete goes, the word itself is never stored, and nothing outlives /forget."""

from __future__ import annotations

import datetime as dt

from aiogram.methods import DeleteMessage, DeleteMessages, SendMessage
from sqlalchemy import select, update
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.scheduler import Planner
from bot.services import panic, updates
from db.models import Case, Delivery, SentMessage
from db.models import Person as PersonRow
from db.repositories import cases as cases_repo
from db.repositories import outbox as outbox_repo
from db.types import utcnow
from tests.support import Driver, Person


def sent_ids(driver: Driver, chat_id: int, *, by_bot: bool = True) -> list[int]:
    return [
        m.message_id
        for (chat, _mid), m in driver.session.messages.items()
        if chat == chat_id and m.from_user is not None and m.from_user.is_bot == by_bot
    ]


async def worker_sends(driver: Driver, person: Person, text: str) -> int:
    """An alert the worker sends: in the chat, and in no record of the bot's yet."""
    sent = await driver.emulator.call("sendMessage", {"chat_id": person.id, "text": text})
    return int(sent["message_id"])


async def test_panic_deletes_every_message_in_the_chat(driver: Driver, storage, small_cases):
    person = Person(id=9_400_000_001)
    await driver.send(person, "/start")
    await driver.send(person, "/cases")
    await driver.send(person, "Testov")
    before = sent_ids(driver, person.id)
    assert len(before) >= 3
    reply = await driver.send(person, "/panic")
    deleted = [mid for c in reply.calls if isinstance(c, DeleteMessages) for mid in c.message_ids]
    # The bot's answers and the person's own four messages, /panic included.
    own = sent_ids(driver, person.id, by_bot=False)
    assert len(own) == 4
    assert set(deleted) == set(before) | set(own)
    notice = [c for c in reply.calls if isinstance(c, SendMessage)]
    assert len(notice) == 1 and "/forget" in notice[0].text
    async with storage.sessionmaker() as s:
        rows = list((await s.execute(select(SentMessage))).scalars())
    # Only the notice is remembered now, and it deletes itself two minutes on.
    assert len(rows) == 1 and rows[0].delete_at is not None
    assert abs(rows[0].delete_at - rows[0].sent_at - dt.timedelta(minutes=2)).total_seconds() < 5
    again = await driver.send(person, "/panic")
    second = [mid for c in again.calls if isinstance(c, DeleteMessages) for mid in c.message_ids]
    assert rows[0].message_id in second and not set(before) & set(second)


async def test_panic_word_works_mid_dialogue_and_is_never_stored(
    driver: Driver, storage, settings, sqlite_file, small_cases
):
    person = Person(id=9_400_000_002)
    await driver.send(person, "/settings")
    await driver.press(person, "Safety")
    await driver.press(person, "Panic word")
    await driver.press(person, "Set a word")
    assert "3 to 50" in (await driver.send(person, "ab")).text
    saved = await driver.send(person, "Blue Kettle")
    assert any(isinstance(c, DeleteMessage) for c in saved.calls)  # the word leaves the chat
    assert "A panic word is set" in saved.text
    async with storage.sessionmaker() as s:
        row = (await s.execute(select(PersonRow))).scalars().one()
        assert row.panic_seal is not None and row.panic_hash is None
    assert b"kettle" not in sqlite_file.read_bytes().lower()
    assert "🆘 Panic word: set" in (await driver.send(person, "/settings")).text

    await driver.send(person, "/letter")  # somewhere in the middle of something
    cleared = await driver.send(person, "  blue   KETTLE ")
    assert any(isinstance(c, DeleteMessages) for c in cleared.calls)
    assert "/forget" in cleared.text
    ordinary = await driver.send(person, "blue kettle please")
    assert not any(isinstance(c, DeleteMessages) for c in ordinary.calls)

    await driver.send(person, "/settings")
    await driver.press(person, "Safety")
    await driver.press(person, "Panic word")
    await driver.press(person, "Remove")
    plain = await driver.send(person, "blue kettle")
    assert not any(isinstance(c, DeleteMessages) for c in plain.calls)


async def test_a_word_set_before_sealed_words_still_works(
    driver: Driver, storage, settings, small_cases
):
    person = Person(id=9_400_000_004)
    await driver.send(person, "/start")
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(PersonRow).values(panic_hash=panic.legacy_hash(cipher, "Red Teapot"))
        )
    assert "/forget" in (await driver.send(person, "red teapot")).text

    await driver.send(person, "/settings")
    await driver.press(person, "Safety")
    await driver.press(person, "Panic word")
    await driver.press(person, "Change the word")
    await driver.send(person, "green lamp")
    async with storage.sessionmaker() as s:
        row = (await s.execute(select(PersonRow))).scalars().one()
    assert row.panic_hash is None and row.panic_seal is not None  # the old form is gone
    assert not any(
        isinstance(c, DeleteMessages) for c in (await driver.send(person, "red teapot")).calls
    )
    assert "/forget" in (await driver.send(person, "green lamp")).text


def test_the_same_word_is_sealed_differently_each_time():
    cipher = IdentityCipher(b"s" * 32)
    first, second = panic.seal_word(cipher, "blue kettle"), panic.seal_word(cipher, "blue kettle")
    assert first != second
    row = PersonRow(id=1, tg_index=b"", tg_cipher=b"", locale="en", panic_seal=first)
    assert panic.is_panic_word(cipher, row, "Blue  Kettle")
    assert not panic.is_panic_word(IdentityCipher(b"t" * 32), row, "blue kettle")


async def test_forget_leaves_no_message_ids(driver: Driver, storage, settings):
    person = Person(id=9_400_000_003)
    await driver.send(person, "/start")
    await driver.send(person, "/forget")
    await driver.press(person, "🗑")
    index = IdentityCipher(settings.key_bytes).index(person.id)
    async with storage.sessionmaker() as s:
        rows = list((await s.execute(select(SentMessage))).scalars())
    assert all(r.chat_index != index or r.delete_at is not None for r in rows)
    assert [r for r in rows if r.chat_index == index and r.delete_at is None] == []


async def a_follower_gets_news(driver: Driver, storage, person: Person) -> Case:
    """The person follows the test case, and news of it is published for them."""
    await driver.send(person, "/start")
    await driver.send(person, "/follow test-detained")
    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None
        await updates.publish(
            s,
            case,
            "news",
            {"en": "A visit was allowed"},
            actor="t",
        )
    return case


async def test_an_alert_in_flight_at_the_panic_is_deleted_when_it_lands(
    driver: Driver, storage, settings, small_cases
):
    """The worker had sent an alert but not yet recorded it when the person panicked: the
    alert must still be deleted once its sending is recorded."""
    person = Person(id=9_400_000_004)
    case = await a_follower_gets_news(driver, storage, person)
    async with storage.sessionmaker() as s, s.begin():
        leased = await outbox_repo.claim(s, utcnow(), 10, dt.timedelta(minutes=2))
    assert len(leased) == 1
    alert = await worker_sends(driver, person, "A visit was allowed")

    await driver.send(person, "/panic")
    async with storage.sessionmaker() as s, s.begin():  # the worker's writer, a moment late
        await outbox_repo.mark_sent_many(s, [(leased[0].id, utcnow(), alert, None)])

    cipher = IdentityCipher(settings.key_bytes)
    planner = Planner(settings, storage.sessionmaker, driver.bot, cipher)
    before = len(driver.session.calls)
    assert await planner.deletions() == 1
    gone = [c for c in driver.session.calls[before:] if isinstance(c, DeleteMessage)]
    assert [(c.chat_id, c.message_id) for c in gone] == [(person.id, alert)]

    # An alert made after the panic is the person's to keep.
    async with storage.sessionmaker() as s, s.begin():
        await updates.publish(
            s,
            case,
            "news",
            {"en": "A parcel arrived"},
            actor="t2",
        )
    async with storage.sessionmaker() as s, s.begin():
        later = await outbox_repo.claim(s, utcnow(), 10, dt.timedelta(minutes=2))
    kept = await worker_sends(driver, person, "A parcel arrived")
    async with storage.sessionmaker() as s, s.begin():
        await outbox_repo.mark_sent_many(s, [(later[0].id, utcnow(), kept, None)])
    before = len(driver.session.calls)
    await planner.deletions(utcnow() + dt.timedelta(hours=1))  # the notice's time comes
    gone = [c for c in driver.session.calls[before:] if isinstance(c, DeleteMessage)]
    assert kept not in [c.message_id for c in gone] and len(gone) == 1


async def test_the_in_flight_window_is_the_configured_lease(
    driver: Driver, storage, settings, small_cases
):
    """With DELIVERY_LEASE_SECONDS longer than the worker's default, an alert leased a
    moment before the panic stays on its way for that whole lease: it must still be
    deleted when it lands."""
    long_lease = settings.model_copy(update={"delivery_lease_seconds": 600})
    driver.dp["settings"] = long_lease
    person = Person(id=9_400_000_005)
    await a_follower_gets_news(driver, storage, person)
    async with storage.sessionmaker() as s, s.begin():
        # Leased five minutes ago with the configured lease: five minutes of it are left.
        leased = await outbox_repo.claim(s, utcnow(), 10, dt.timedelta(seconds=600))
        await s.execute(
            update(Delivery)
            .where(col(Delivery.id) == leased[0].id)
            .values(next_attempt_at=utcnow() + dt.timedelta(seconds=300))
        )
    assert len(leased) == 1
    alert = await worker_sends(driver, person, "A visit was allowed")

    await driver.send(person, "/panic")
    async with storage.sessionmaker() as s, s.begin():
        await outbox_repo.mark_sent_many(s, [(leased[0].id, utcnow(), alert, None)])

    planner = Planner(
        long_lease, storage.sessionmaker, driver.bot, IdentityCipher(settings.key_bytes)
    )
    before = len(driver.session.calls)
    assert await planner.deletions() == 1
    gone = [c for c in driver.session.calls[before:] if isinstance(c, DeleteMessage)]
    assert [(c.chat_id, c.message_id) for c in gone] == [(person.id, alert)]


async def _unsettled() -> None:
    """In place of Driver.settled: the ids stay queued in the batch."""


async def test_panic_deletes_messages_whose_ids_are_still_queued(driver: Driver, storage, settings):
    person = Person(id=9_400_000_021)
    await driver.send(person, "/start")
    batch = driver.dp["sent_batch"]
    # The timer /start set may still be asleep with the short delay, and would write the
    # ids of /help below if it woke while they are queued (it did, on a loaded machine):
    # stop it, so that the next one is made with the long delay.
    await batch.close()
    batch.delay = 3600  # its timer does not write them before /panic does
    driver.settled = _unsettled  # type: ignore[method-assign]
    await driver.send(person, "/help")
    index = IdentityCipher(settings.key_bytes).index(person.id)
    async with storage.sessionmaker() as s:
        known = set((await s.scalars(select(col(SentMessage.message_id)))).all())
    queued = set(sent_ids(driver, person.id)) | set(sent_ids(driver, person.id, by_bot=False))
    queued -= known
    assert len(queued) == 2 and batch.pending == 2  # /help and its answer
    reply = await driver.send(person, "/panic")
    deleted = {mid for c in reply.calls if isinstance(c, DeleteMessages) for mid in c.message_ids}
    assert queued <= deleted
    async with storage.sessionmaker() as s:
        left = await s.scalars(select(SentMessage).where(col(SentMessage.chat_index) == index))
        assert [r.message_id for r in left if r.delete_at is None] == []


async def test_forget_drops_the_chats_queued_ids(driver: Driver, storage, settings):
    person = Person(id=9_400_000_022)
    await driver.send(person, "/start")
    await driver.send(person, "/forget")
    confirm, question = driver.button(person, "🗑"), driver.keyboard(person)
    batch = driver.dp["sent_batch"]
    await batch.close()  # no timer of an earlier update is left asleep (see above)
    batch.delay = 3600
    driver.settled = _unsettled  # type: ignore[method-assign]
    await driver.send(person, "/help")  # its ids are queued when the person confirms
    assert batch.pending == 2
    await driver.callback(person, confirm, question)
    await batch.flush()
    index = IdentityCipher(settings.key_bytes).index(person.id)
    async with storage.sessionmaker() as s:
        rows = list(
            await s.scalars(select(SentMessage).where(col(SentMessage.chat_index) == index))
        )
    assert [r for r in rows if r.delete_at is None] == []
