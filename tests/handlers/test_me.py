"""/me through the real dispatcher: the supporter's letters, the people they wrote for and
how many of them are free now, the cases they follow; and nothing left after /forget."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from db.models import Case, LetterCount
from tests.handlers.test_reports import rows
from tests.support import Driver, Person


async def write(driver: Driver, person: Person, slug: str, kind: str) -> None:
    await driver.send(person, f"/letter {slug}")
    shown = await driver.press(person, kind)
    done = "Recorded" if any("Recorded" in label for label in shown.labels()) else "I sent it"
    await driver.press(person, done)


async def test_me_counts_what_the_supporter_did(driver: Driver, storage, addressed_demo_cases):
    person = Person(id=9_700_000_001)
    empty = await driver.send(person, "/me")
    assert "You have not recorded a letter yet" in empty.text
    assert "You follow 0 cases" in empty.text

    await driver.send(person, "/follow erzhan-elshibayev")
    await driver.send(person, "/follow valijon-kalonov")
    await write(driver, person, "erzhan-elshibayev", "card")
    await write(driver, person, "erzhan-elshibayev", "appeal")
    await write(driver, person, "valijon-kalonov", "card")
    await write(driver, person, "valijon-kalonov", "card")  # counted once
    other = Person(id=9_700_000_002)
    await write(driver, other, "marat-zhylanbayev", "card")  # somebody else's

    mine = await driver.send(person, "/me")
    assert "You have recorded 3 letters: 2 to prisoners, 1 to the authorities." in mine.text
    assert "You wrote for 2 people." in mine.text
    assert "None of them is free yet" in mine.text
    assert "You follow 2 cases." in mine.text

    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(Case).where(col(Case.slug) == "valijon-kalonov").values(status="released")
        )
    await driver.send(person, "/start")
    freed = await driver.press(person, "What I have done")
    assert "1 of the people you wrote for is free now." in freed.text
    assert "Someone who needs letters" in " ".join(freed.labels())

    await driver.send(person, "/forget")
    await driver.press(person, "🗑")
    after = await driver.send(person, "/me")
    assert "You have not recorded a letter yet" in after.text and "You follow 0 cases" in after.text
    # Letters of the last 30 days leave the counters with the person (so that "I sent it"
    # and /forget, repeated, move nothing); somebody else's stays.
    assert sum(c.count for c in await rows(storage, LetterCount)) == 1
