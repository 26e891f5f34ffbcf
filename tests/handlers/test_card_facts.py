"""The case card keeps its case-wide facts a few seconds per process: a change made here
shows on the next card, and whether a case may be shown is read anew every time."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from db.engine import create_engine
from db.models import Case, Visibility
from tests.support import Driver, Person


async def test_a_follow_shows_on_every_card_at_once(driver: Driver, small_cases):
    reader, follower = Person(id=9_400_200_001), Person(id=9_400_200_002)
    await driver.send(reader, "/start")
    assert "0 followers" in (await driver.send(reader, "/case Testov")).text
    followed = await driver.send(follower, "/follow Testov")
    assert "1 follower" in followed.text  # the follower's own card
    assert "1 follower" in (await driver.send(reader, "/case Testov")).text


async def test_a_case_hidden_elsewhere_is_not_shown_from_memory(
    driver: Driver, settings, small_cases
):
    reader = Person(id=9_400_200_003)
    await driver.send(reader, "/start")
    assert "Testov" in (await driver.send(reader, "/case Testov")).text
    # Another process (an instance, the command line) hides it: this one is not told.
    elsewhere = create_engine(settings.database_url)
    async with elsewhere.begin() as conn:
        await conn.execute(
            update(Case)
            .where(col(Case.slug) == "test-detained")
            .values(visibility=Visibility.HIDDEN)
        )
    await elsewhere.dispose()
    assert "Alisher Testov" not in (await driver.send(reader, "/case Testov")).text
