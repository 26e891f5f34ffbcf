"""The same state whatever the timing or the order: a double tap makes one person, one
letter record goes with one count, a hidden case leaves the lists of those who follow
it, and a person who unblocks the bot is reachable again."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, update
from sqlmodel import col

from db.models import Case, LetterAction, LetterCount
from db.models import Person as PersonRow
from tests.support import Driver, Person


async def test_a_double_tap_on_start_makes_one_person(driver: Driver, small_cases, storage):
    person = Person(id=8_000_000_001)
    replies = await asyncio.gather(driver.send(person, "/start"), driver.send(person, "/start"))
    assert all(r.texts for r in replies)
    async with storage.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(PersonRow))).scalar_one() == 1


async def test_hidden_followed_case_leaves_mycases(driver: Driver, small_cases, storage):
    person = Person(id=8_000_000_002)
    await driver.send(person, "/follow Testov")
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(Case).where(col(Case.slug) == "test-detained").values(visibility="hidden")
        )
    mine = await driver.send(person, "/mycases")
    assert "Alisher" not in " ".join(mine.labels())


async def test_a_person_who_unblocked_is_active_again(driver: Driver, small_cases, storage):
    person = Person(id=8_000_000_003)
    await driver.send(person, "/start")
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(PersonRow).values(active=False))
    await driver.send(person, "/help")
    async with storage.sessionmaker() as s:
        assert (await s.execute(select(col(PersonRow.active)))).scalar_one() is True


async def test_letter_record_and_counter_stay_together(driver: Driver, small_cases, storage):
    person = Person(id=8_000_000_004)
    await driver.send(person, "/letter Testov")
    await driver.press(person, "card")
    await asyncio.gather(driver.press(person, "I sent it"), driver.press(person, "I sent it"))
    async with storage.sessionmaker() as s:
        actions = (await s.execute(select(func.count()).select_from(LetterAction))).scalar_one()
        counted = (await s.execute(select(func.sum(LetterCount.count)))).scalar_one()
    assert actions == counted == 1
