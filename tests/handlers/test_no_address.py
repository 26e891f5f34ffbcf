"""A card to someone whose safe address is not known: the prompt says so before anything
else, counts nothing, and offers to tell the supporter when letters can be sent; the
first address then reaches them, once. The picker prefers people a card can reach now,
and the count a supporter sees is one number, the same on the card and the prompt."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update
from sqlmodel import col

from bot.delivery.specs import TransferSpec, read_spec
from bot.i18n import make_i18n
from bot.presentation.prompt_views import PromptRenderer
from bot.sandbox import EXAMPLE_CASE
from bot.services import case_files
from config.settings import SUPPORTED_LOCALES
from db.models import AddressWait, Case, Delivery, LetterCount
from tests.handlers.test_reports import rows
from tests.handlers.test_staff_cases import staff_member
from tests.support import Driver, Person, reader_for

ADDRESS = "Учреждение 29\nНавои, Узбекистан"


async def without_address(storage) -> None:
    async with storage.sessionmaker() as session, session.begin():
        await session.execute(update(Case).values(prison_address=None))


async def transfers(storage) -> list[Delivery]:
    return [
        d
        for d in await rows(storage, Delivery, col(Delivery.id))
        if json.loads(d.spec)["t"] == "transfer"
    ]


async def counted(storage) -> int:
    async with storage.sessionmaker() as session:
        total = await session.scalar(select(func.coalesce(func.sum(LetterCount.count), 0)))
    return int(total or 0)


async def waits(storage) -> list[AddressWait]:
    return list(await rows(storage, AddressWait, col(AddressWait.person_id)))


async def set_address_as_editor(driver: Driver, storage, settings, address: str) -> None:
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/editcase Testov")
    await driver.press(editor, "Edit a field")
    await driver.press(editor, "Prison address")
    await driver.send(editor, address)


async def test_a_card_without_an_address_says_so_first_and_counts_nothing(
    driver: Driver, storage, small_cases
):
    await without_address(storage)
    supporter = Person(id=9_910_000_001)
    await driver.send(supporter, "/letter Testov")
    prompt = await driver.press(supporter, "card")
    text = prompt.text
    assert "do not have a safe postal address" in text
    # Before the text to copy, and without the claims that do not hold yet.
    assert text.index("do not have a safe postal address") < text.index("Copy it, change it")
    assert "Letters reach this person" not in text
    assert "letters sent so far" not in text
    labels = " ".join(prompt.labels())
    assert "I sent it" not in labels and "PDF" not in labels
    assert "Tell me when I can send it" in labels
    assert "Another version" in labels and "Check a draft" in labels

    asked = await driver.press(supporter, "Tell me when I can send it")
    assert "We will tell you when letters can be sent." in asked.notices
    assert "we will tell you as soon as letters can be sent" in asked.text
    assert "Don't tell me after all" in " ".join(asked.labels())
    assert len(await waits(storage)) == 1

    taken_back = await driver.press(supporter, "Don't tell me after all")
    assert "Tell me when I can send it" in " ".join(taken_back.labels())
    assert await waits(storage) == []
    assert await counted(storage) == 0


async def test_the_first_address_reaches_those_who_asked_once(
    driver: Driver, storage, settings, small_cases
):
    await without_address(storage)
    waiting, discreet, other = (Person(id=9_910_000_011 + i) for i in range(3))
    for person in (waiting, discreet):
        await driver.send(person, "/letter Testov")
        await driver.press(person, "card")
        await driver.press(person, "Tell me when I can send it")
    await driver.send(discreet, "/settings")
    await driver.press(discreet, "Safety")
    await driver.press(discreet, "Discreet mode: off")
    await driver.send(other, "/follow Testov")

    await set_address_as_editor(driver, storage, settings, ADDRESS)
    notices = await transfers(storage)
    assert len(notices) == 2  # those who asked, not every follower
    assert await waits(storage) == []  # the wish is spent once they are told
    spec = read_spec(notices[0].spec)
    assert isinstance(spec, TransferSpec) and spec.first

    renderer = PromptRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    texts = []
    for notice in notices:
        rendered = await renderer(read_spec(notice.spec), await reader_for(storage, notice))
        assert rendered is not None and "Write a card" in str(rendered.markup)
        texts.append(rendered.text)
    plain, quiet = sorted(texts, key=len, reverse=True)
    assert "A card can now be sent" in plain and "Навои, Узбекистан" in plain
    assert "Alisher Testov" in plain and "old address" not in plain
    assert "someone you asked about" in quiet and "Testov" not in quiet

    # The card can now be followed to its end.
    card = await driver.send(waiting, "/letter Testov")
    card = await driver.press(waiting, "card")
    assert "Навои" in card.text and "I sent it" in " ".join(card.labels())

    # A later move tells card writers only: the wish was spent on the first address.
    await set_address_as_editor(driver, storage, settings, "Учреждение 47")
    assert len(await transfers(storage)) == 2


async def test_a_stale_i_sent_it_counts_nothing_once_the_address_is_withdrawn(
    driver: Driver, storage, small_cases
):
    supporter = Person(id=9_910_000_021)
    await driver.send(supporter, "/letter Testov")
    prompt = await driver.press(supporter, "card")
    assert "I sent it" in " ".join(prompt.labels())
    await without_address(storage)
    stale = await driver.press(supporter, "I sent it")
    assert any("was not counted" in n for n in stale.notices)
    assert "Tell me when I can send it" in " ".join(stale.labels())
    assert await counted(storage) == 0


async def test_the_count_is_one_number_refreshed_after_i_sent_it(
    driver: Driver, storage, small_cases
):
    appealer, writer = Person(id=9_910_000_031), Person(id=9_910_000_032)
    await driver.send(appealer, "/letter Testov")
    await driver.press(appealer, "appeal")
    await driver.press(appealer, "I sent it")

    await driver.send(writer, "/letter Testov")
    prompt = await driver.press(writer, "card")
    assert "1 letter sent so far" in prompt.text  # the appeal counts: one number
    sent = await driver.press(writer, "I sent it")
    assert any("2 letters sent so far" in n for n in sent.notices)
    assert "2 letters sent so far" in sent.text  # the prompt itself, not only the toast
    assert "Recorded — thank you" in " ".join(sent.labels())
    card = await driver.send(writer, "/case Testov")
    assert "2 letters sent" in card.text


async def test_the_picker_prefers_someone_a_card_can_reach(driver: Driver, storage, demo_cases):
    source = EXAMPLE_CASE.read_text(encoding="utf-8")
    async with storage.sessionmaker() as session, session.begin():
        await case_files.apply(session, case_files.parse(source, str(EXAMPLE_CASE)))
    supporter = Person(id=9_910_000_041)
    for _ in range(10):
        offer = await driver.send(supporter, "/letter")
        assert "Aziza" in offer.text
    card = await driver.press(supporter, "Write a card")
    labels = " ".join(card.labels())
    assert "I sent it" in labels and "PDF" in labels
    listed = await driver.send(supporter, "/start")
    listed = await driver.press(supporter, "Write a letter")
    assert "Aziza" in listed.labels()[0]


def test_the_example_case_is_marked_in_every_language():
    [case] = case_files.parse(EXAMPLE_CASE.read_text(encoding="utf-8"), "example").cases
    assert set(case.text) == set(SUPPORTED_LOCALES)
    assert case.prison_address and "NOT A REAL ADDRESS" in case.prison_address.splitlines()[0]
    assert "NOT A REAL ADDRESS" in case.authority.address.splitlines()[0]
    for locale, text in case.text.items():
        # "Aziza (example)" in the language's own word: the bracket says it is not real.
        assert "(" in text.name and ")" in text.name, locale
        assert text.summary and len(text.summary) > 80, locale


async def test_the_card_itself_says_there_is_no_address_yet(driver: Driver, storage, small_cases):
    await without_address(storage)
    card = await driver.send(Person(id=9_910_000_051), "/case Testov")
    assert "Letters reach this person, but we have no safe address yet." in card.text
