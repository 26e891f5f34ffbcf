"""The case card keeps its case-wide facts, and searches their answers, a few seconds per
process: a change made here shows on the next card and search, and whether a case may be
shown is read anew every time."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, update
from sqlmodel import col

from bot.presentation import views
from bot.services.cases import CardFacts
from db.engine import create_engine, create_sessionmaker
from db.models import Case, Visibility
from db.repositories import cases as cases_repo
from tests.support import Driver, Person


async def test_a_follow_shows_on_every_card_at_once(driver: Driver, small_cases):
    reader, follower = Person(id=9_400_200_001), Person(id=9_400_200_002)
    await driver.send(reader, "/start")
    assert "0 followers" in (await driver.send(reader, "/case Testov")).text
    followed = await driver.send(follower, "/follow Testov")
    assert "1 follower" in followed.text  # the follower's own card
    assert "1 follower" in (await driver.send(reader, "/case Testov")).text


async def test_a_card_is_rendered_once_for_readers_alike(driver: Driver, small_cases, monkeypatch):
    """Rendering cost more than the card's one statement: it is kept with the facts, per
    kind of reader. A reader who differs (language, their own part) gets their own."""
    made: list[str] = []
    render = views.case_card

    def counted(card: Any, tz: str) -> str:
        made.append(card.text.locale)
        return render(card, tz)

    monkeypatch.setattr(views, "case_card", counted)
    first, second = Person(id=9_400_200_011), Person(id=9_400_200_012)
    russian = Person(id=9_400_200_013, language_code="ru")
    for each in (first, second, russian):
        await driver.send(each, "/start")
    assert "Alisher Testov" in (await driver.send(first, "/case Testov")).text
    assert "Alisher Testov" in (await driver.send(second, "/case Testov")).text
    assert made == ["en"]  # the second reader's card was the first's
    assert "Алишер" in (await driver.send(russian, "/case Testov")).text
    assert made == ["en", "ru"]
    followed = await driver.send(first, "/follow Testov")  # a write: everything is made anew
    assert "1 follower" in followed.text
    again = await driver.send(second, "/case Testov")
    assert "1 follower" in again.text
    assert "⭐ Follow" in [text for text, _ in again.buttons]
    assert "🔕 Unfollow" in [text for text, _ in followed.buttons]


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
    # The search may still be remembered here (for up to five seconds); the card is
    # refused all the same, and the reader is told.
    refused = await driver.send(reader, "/case Testov")
    assert refused.text in (
        "This case is not available.",
        "Nothing found for “Testov”. Try another spelling or browse /cases.",
    )


async def test_a_card_opened_again_reads_one_row(driver: Driver, storage, small_cases):
    """The search and the case-wide facts are remembered; the sender was seen lately: what
    is left is one statement for the case's visibility and the reader's own part."""
    reader = Person(id=9_400_200_004)
    await driver.send(reader, "/start")
    await driver.send(reader, "/case Testov")
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(storage.engine.sync_engine, "before_cursor_execute", note)
    try:
        card = await driver.send(reader, "/case Testov")
    finally:
        event.remove(storage.engine.sync_engine, "before_cursor_execute", note)
    assert "Alisher Testov" in card.text
    assert len(reads) == 1, reads


async def test_a_shared_read_never_waits_for_a_connection_its_waiters_hold(settings, small_cases):
    """Readers waiting for one shared read of a card's facts (or of a search) held the
    pool's connections while the reader doing that read waited for one: nobody was
    answered until the pool gave up. With a pool of one connection: one reader holds it
    and waits for a read that another, holding none, began."""
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0, pool_timeout=5)
    sessions = create_sessionmaker(engine)
    facts = CardFacts()
    try:
        async with sessions() as holding, sessions() as without:
            case = await cases_repo.by_slug(holding, "test-detained")  # holds the connection
            assert case is not None and case.id is not None
            first = asyncio.create_task(facts.get(without, case.id))
            second = asyncio.create_task(facts.get(holding, case.id))
            done = await asyncio.wait_for(asyncio.shield(second), timeout=60)
            assert done is not None and done.texts
            await holding.commit()  # gives the connection back: the first may now read
            assert await asyncio.wait_for(first, timeout=60) == done
            assert await facts.find(without, "Testov", ["en"])
    finally:
        await engine.dispose()
