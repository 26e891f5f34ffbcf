""" "Someone who needs letters" through the dispatcher: only people in custody whose
facility passes letters on, never the same person twice in a row when asked for someone
else, and not the one a supporter has just written to."""

from __future__ import annotations

import random

from sqlalchemy import update

from bot.services import matching
from db.models import Case
from db.repositories import cases as cases_repo
from tests.support import Driver, Person

# Demo cases in custody whose facility passes letters on.
WRITABLE = {
    "Erzhan Elshibayev",
    "Marat Zhylanbayev",
    "Aigerim Tleuzhanova",
    "Makhabat Tajibek Kyzy",
    "Rukhshona Hakimova",
    "Abdusattor Pirmuhammadzoda",
    "Buzurgmehr Yorov",
    "Ulfatkhonim Mamadshoeva",
    "Dauletmurat Tadzhimuratov",
    "Valijon Kalonov",
}


def offered_name(text: str) -> str:
    for name in WRITABLE:
        if name in text:
            return name
    raise AssertionError(f"no writable case offered in {text!r}")


async def test_the_offer_is_someone_who_can_receive_a_card(driver: Driver, demo_cases):
    person = Person(id=9_500_000_001)
    start = await driver.send(person, "/start")
    assert "🎲 Someone who needs letters" in start.labels()
    names = set()
    reply = await driver.press(person, "needs letters")
    for _ in range(40):
        assert "in the last 30 days" in reply.text
        names.add(offered_name(reply.text))
        previous = offered_name(reply.text)
        reply = await driver.press(person, "Someone else")
        assert offered_name(reply.text) != previous  # someone else means someone else
    assert names <= WRITABLE and len(names) >= 5

    # No demo case has an address: the card says so and offers to tell when it can go.
    card = await driver.press(person, "Write a card")
    assert "Tell me when I can send it" in " ".join(card.labels())


async def test_a_supporter_who_just_wrote_is_offered_someone_new(
    driver: Driver, addressed_demo_cases
):
    person = Person(id=9_500_000_002)
    await driver.send(person, "/start")
    reply = await driver.send(person, "/letter")
    written = offered_name(reply.text)
    await driver.press(person, "Write a card")
    await driver.press(person, "I sent it")
    for _ in range(25):
        assert offered_name((await driver.send(person, "/letter")).text) != written


async def test_with_nobody_to_write_to_the_bot_says_so(driver: Driver, storage, demo_cases):
    async with storage.sessionmaker() as session, session.begin():
        await session.execute(update(Case).values(accepts_letters=False))
    person = Person(id=9_500_000_003)
    reply = await driver.send(person, "/letter")
    assert "can receive letters at the moment" in reply.text
    # Appeals to the authorities are still possible, from the list.
    await driver.press(person, "Menu")
    listed = await driver.press(person, "Write a letter")
    assert "Who would you like to write to" in listed.text
    assert "Erzhan Elshibayev" in " ".join(listed.labels())


async def test_fewer_letters_weigh_more(storage, demo_cases):
    """The weights: equals equally likely, more letters less likely, never impossible."""
    async with storage.sessionmaker() as session:
        a = await cases_repo.by_slug(session, "erzhan-elshibayev")
        b = await cases_repo.by_slug(session, "marat-zhylanbayev")
        c = await cases_repo.by_slug(session, "valijon-kalonov")
    assert a and b and c
    rng = random.Random(7)
    picks = [matching.pick([(a, 0), (b, 0), (c, 4)], rng)[0].slug for _ in range(3000)]
    share = {slug: picks.count(slug) / len(picks) for slug in set(picks)}
    # Weights 5, 5 and 1.
    assert abs(share["erzhan-elshibayev"] - 5 / 11) < 0.04
    assert abs(share["marat-zhylanbayev"] - 5 / 11) < 0.04
    assert 0.04 < share["valijon-kalonov"] < 0.15
