"""A transfer against the emulator: a first address reaches those who asked to be told,
and a new one the supporters who recorded a card to that prisoner, and nobody else."""

from __future__ import annotations

from bot.crypto import IdentityCipher
from bot.services import case_editing, identity
from db.repositories import cases as cases_repo
from db.repositories import people as people_repo
from tests.e2e.conftest import Live
from tests.e2e.talk import eventually, from_bot, say, tap

FIRST_ADDRESS = "Павлодар облысы, Павлодар қаласы, АП-162/3 мекемесі"
NEW_ADDRESS = "Қарағанды облысы, Долинка кенті, АК-159/17 мекемесі"


async def set_address(storage, address: str) -> None:
    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "erzhan-elshibayev")
        assert case is not None
        assert await case_editing.set_field(session, case, "prison_address", address, "t")


async def test_the_new_address_reaches_past_card_writers(live: Live, storage):
    emu = live.emulator
    writer, follower, discreet = emu.add_user("en"), emu.add_user("en"), emu.add_user("ru")
    daily, waiting = emu.add_user("en"), emu.add_user("en")

    # No safe address yet: one supporter asks to hear when a card can be sent.
    await say(emu, waiting, "/start")
    await say(emu, waiting, "/letter erzhan-elshibayev")
    await tap(emu, waiting, "card")
    await tap(emu, waiting, "Tell me when I can send it")
    await set_address(storage, FIRST_ADDRESS)

    def first(user) -> list[str]:
        return [m.page_html for m in from_bot(emu, user) if "A card can now be sent" in m.text]

    await eventually(lambda: bool(first(waiting)))
    assert FIRST_ADDRESS in first(waiting)[0] and "Erzhan Elshibayev" in first(waiting)[0]
    writers = ((writer, "card", "sent it"), (discreet, "Открытка", "отправил"))
    for user, card, sent in (*writers, (daily, "card", "sent it")):
        await say(emu, user, "/start")
        await say(emu, user, "/letter erzhan-elshibayev")
        await tap(emu, user, card)
        await tap(emu, user, sent)  # the buttons change to "recorded"
    await say(emu, discreet, "/settings")
    await tap(emu, discreet, "🛡")
    await tap(emu, discreet, "Незаметный режим")
    await say(emu, follower, "/follow erzhan-elshibayev")

    async with storage.sessionmaker() as session, session.begin():
        # A reader of the daily digest: the new address cannot wait for it (a digest line
        # would not carry it), so it comes at once.
        person = await identity.lookup(session, IdentityCipher(live.settings.key_bytes), daily.id)
        assert person is not None and person.id is not None
        await people_repo.set_fields(session, person.id, delivery="daily")
    await set_address(storage, NEW_ADDRESS)

    def moved(user) -> list[str]:
        return [m.page_html for m in from_bot(emu, user) if "🚚" in m.text]

    await eventually(lambda: bool(moved(writer)) and bool(moved(discreet)) and bool(moved(daily)))
    assert NEW_ADDRESS in moved(daily)[0]
    [notice] = moved(writer)
    assert "Erzhan Elshibayev" in notice and NEW_ADDRESS in notice
    [quiet] = moved(discreet)
    assert NEW_ADDRESS not in quiet and "Elshibayev" not in quiet and "Ельшибаев" not in quiet
    await live.settled()  # the follower who wrote nothing hears nothing of it
    assert moved(follower) == []
    # Told once about the first address, the one who asked is not a card writer.
    assert moved(waiting) == [] and len(first(waiting)) == 1
    # The button leads to the card prompt, where the new address is.
    prompt = await tap(emu, writer, "Write a card")
    assert NEW_ADDRESS in prompt.text
