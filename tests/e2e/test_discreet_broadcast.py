"""A broadcast to readers in discreet mode: they get a notice that names nobody, and see
the message only when they tap to show it; a text broadcast takes the notice's place, a
photo comes as a new message that the bot deletes with the reader's other alerts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.services import broadcasts, identity
from db.models import Person, SentMessage
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from tests.e2e.conftest import running_bot
from tests.e2e.talk import eventually, from_bot, tap

SLUG = "erzhan-elshibayev"
NAMED = "Erzhan Elshibayev needs your letters"
NOTICE = "There is a new message from the campaign team."


async def send_broadcast(storage, cipher, people, photo: str | None) -> None:
    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, SLUG)
        assert case is not None and case.id is not None
        for user, discreet in people:
            user.started = True
            person = await identity.ensure(session, cipher, user.id, "en")
            assert person.id is not None
            await follows_repo.add(session, person.id, case.id)
            await session.execute(
                update(Person)
                .where(col(Person.id) == person.id)
                .values(discreet=discreet, autodelete_hours=2 if discreet else None)
            )
        author = await identity.ensure(session, cipher, 1_000_001, "en")
        assert author.id is not None
        draft = broadcasts.Draft(
            audience="cases",
            audience_value=str(case.id),
            photo=photo,
            versions={"en": broadcasts.Version(NAMED, [("Write", "https://example.org")])},
        )
        done = await broadcasts.submit(
            session, draft, author_id=author.id, actor="test", threshold=1000, paid=False
        )
        assert done.started


async def test_a_discreet_reader_sees_a_text_broadcast_only_when_they_choose(
    settings, storage, demo_cases
):
    async with running_bot(settings, storage) as live:
        emu = live.emulator
        plain, discreet = emu.add_user("en"), emu.add_user("en")
        await send_broadcast(
            storage, IdentityCipher(settings.key_bytes), [(plain, False), (discreet, True)], None
        )
        await eventually(lambda: len(from_bot(emu, plain)) == len(from_bot(emu, discreet)) == 1)
        assert from_bot(emu, plain)[0].text == NAMED
        [notice] = from_bot(emu, discreet)
        assert NOTICE in notice.text and "Elshibayev" not in notice.text
        assert notice.protect_content  # the notice goes out like the reader's other alerts

        shown = await tap(emu, discreet, "Show the message")
        assert shown.message_id == notice.message_id  # the notice became the message
        assert shown.text == NAMED and shown.buttons()[0]["url"] == "https://example.org"
        assert len(from_bot(emu, discreet)) == 1
        await live.settled()


async def test_a_photo_broadcast_shown_later_is_deleted_with_the_other_alerts(
    settings, storage, demo_cases
):
    async with running_bot(settings, storage) as live:
        emu = live.emulator
        cipher = IdentityCipher(settings.key_bytes)
        discreet = emu.add_user("en")
        await send_broadcast(storage, cipher, [(discreet, True)], "AgACAgIAAxkBAAIDiscreetPhoto")
        await eventually(lambda: len(from_bot(emu, discreet)) == 1)
        [notice] = from_bot(emu, discreet)
        assert notice.kind == "text" and "Elshibayev" not in notice.text

        photo = await tap(emu, discreet, "Show the message")
        assert photo.kind == "photo" and photo.text == NAMED and photo.protect_content
        await eventually(lambda: not emu.messages(discreet)[0].buttons())  # the button is spent
        async with storage.sessionmaker() as session:
            ends = (
                await session.execute(
                    select(col(SentMessage.delete_at)).where(
                        col(SentMessage.chat_index) == cipher.index(discreet.id),
                        col(SentMessage.message_id) == photo.message_id,
                    )
                )
            ).scalar_one()
        assert ends is not None  # deleted after the reader's two hours, like their alerts
        await live.settled()
