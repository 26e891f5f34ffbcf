"""Transfers through the real dispatcher and the import: a new address for letters goes
to the people who recorded a card to that prisoner, once per address, and a notice
overtaken by a later move renders nothing."""

from __future__ import annotations

import json

from sqlmodel import col

from bot.delivery.specs import read_spec
from bot.i18n import make_i18n
from bot.presentation.prompt_views import PromptRenderer
from bot.services import case_files
from db.models import Delivery
from tests.conftest import SMALL_CASES
from tests.handlers.test_reports import rows
from tests.handlers.test_staff_cases import staff_member
from tests.support import Driver, Person, reader_for

OLD = "Учреждение 64/1"
NEW = "Учреждение 29\nНавои, Узбекистан"


async def transfers(storage) -> list[Delivery]:
    return [
        d
        for d in await rows(storage, Delivery, col(Delivery.id))
        if json.loads(d.spec)["t"] == "transfer"
    ]


async def test_a_new_address_goes_to_card_writers_only(
    driver: Driver, storage, settings, small_cases
):
    writer, appealer, follower = (Person(id=9_900_000_001 + i) for i in range(3))
    await driver.send(writer, "/letter Testov")
    await driver.press(writer, "card")
    await driver.press(writer, "I sent it")
    await driver.send(appealer, "/letter Testov")
    await driver.press(appealer, "appeal")
    await driver.press(appealer, "I sent it")
    await driver.send(follower, "/follow Testov")

    editor = await staff_member(storage, settings)
    await driver.send(editor, "/editcase Testov")
    await driver.press(editor, "Edit a field")
    await driver.press(editor, "Prison address")
    await driver.send(editor, NEW)
    [first] = await transfers(storage)
    renderer = PromptRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    reader = await reader_for(storage, first)
    assert reader.person_id == first.person_id
    rendered = await renderer(read_spec(first.spec), reader)
    assert rendered is not None and "Навои, Узбекистан" in rendered.text
    assert "Alisher Testov" in rendered.text and OLD not in rendered.text
    assert "Write a card" in str(rendered.markup)

    # The same address again changes nothing; an import that moves them on tells again,
    # and the first notice, if still unsent, no longer renders.
    text = SMALL_CASES.read_text(encoding="utf-8").replace(OLD, "Учреждение 47")
    async with storage.sessionmaker() as s, s.begin():
        await case_files.apply(s, case_files.parse(text, "moved.yaml"), "cli")
    first_again, second = await transfers(storage)
    assert first_again.id == first.id and second.person_id == first.person_id
    assert await renderer(read_spec(first.spec), reader) is None
    moved = await renderer(read_spec(second.spec), reader)
    assert moved is not None and "Учреждение 47" in moved.text

    # Set on a hidden case: nobody is told.
    hidden = text.replace("Учреждение 47", "Учреждение 48").replace(
        "  - slug: test-detained\n", "  - slug: test-detained\n    visibility: hidden\n"
    )
    async with storage.sessionmaker() as s, s.begin():
        report = await case_files.apply(s, case_files.parse(hidden, "hidden.yaml"), "cli")
    assert "test-detained" in report.updated
    assert len(await transfers(storage)) == 2
